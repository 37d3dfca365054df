"""DVC stage report: reports/report.md, every picture it shows in reports/figures, and a self-contained
reports/report.html, from the run's metrics and pictures; reports/ is in git (dvc.yaml: `cache: false`)."""

from fmnist.cli import run_stage
from fmnist.layout import Layout
from fmnist.params_read import stage_params
from fmnist.report.build import write_report

# No params: the report reads what the stages wrote (the weights a feature set really used come from
# its info.json), and validates params.yaml only.
PARAMS_READ: tuple[str, ...] = ()


def main() -> None:
    stage_params(PARAMS_READ)
    layout = Layout()
    write_report(layout, layout.reports_dir)


if __name__ == "__main__":
    run_stage(main)
