"""DVC stage: reports/report.md and a self-contained reports/report.html from the run's metrics and pictures."""

from pathlib import Path

from fmnist.cli import run_stage, stage_params
from fmnist.report import write_report

# The seeds' ResNet-18 feature numbers used ImageNet weights: the report says when ours did not.
PARAMS_READ = ("features.resnet18.weights",)
OUT_DIR = Path("reports")


def main() -> None:
    write_report(Path("."), OUT_DIR, stage_params(PARAMS_READ))


if __name__ == "__main__":
    run_stage(main)
