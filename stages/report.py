"""DVC stage: reports/report.md and a self-contained reports/report.html from the run's metrics and pictures."""

from pathlib import Path

from fmnist.cli import run_stage, stage_params
from fmnist.report import write_report

# No params: the report reads what the stages wrote (the weights a feature set really used come from
# its info.json), and validates params.yaml only.
PARAMS_READ: tuple[str, ...] = ()
OUT_DIR = Path("reports")


def main() -> None:
    stage_params(PARAMS_READ)
    write_report(Path("."), OUT_DIR)


if __name__ == "__main__":
    run_stage(main)
