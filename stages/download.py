"""DVC stage: the four verified Fashion-MNIST .gz files into data/raw/."""

from pathlib import Path

from fmnist.cli import run_stage, stage_params
from fmnist.download import download_dataset

PARAMS_READ = ("download",)
OUT_DIR = Path("data/raw")


def main() -> None:
    params = stage_params(PARAMS_READ)["download"]
    download_dataset(OUT_DIR, params["mirrors"], params["urls"], params["retries"], params["timeout_s"])


if __name__ == "__main__":
    run_stage(main)
