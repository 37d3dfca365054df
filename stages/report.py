"""DVC stage: reports/report.md and a self-contained reports/report.html from the run's metrics and pictures."""

from pathlib import Path

from fmnist.cli import run_stage, stage_params
from fmnist.report import write_report

PARAMS_READ = ()  # none: it hashes the whole params.yaml for provenance (a file dep in dvc.yaml)
OUT_DIR = Path("reports")


def main() -> None:
    stage_params(PARAMS_READ)  # validates params.yaml like every stage
    write_report(Path("."), OUT_DIR)


if __name__ == "__main__":
    run_stage(main)
