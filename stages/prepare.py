"""DVC stage: validated arrays and the seeded validation split under data/prepared/."""

import logging
from pathlib import Path

from fmnist.cli import run_stage, stage_params
from fmnist.dataset import prepare_dataset

PARAMS_READ = ("data",)
RAW_DIR = Path("data/raw")
OUT_DIR = Path("data/prepared")


def main() -> None:
    params = stage_params(PARAMS_READ)["data"]
    dataset = prepare_dataset(RAW_DIR, OUT_DIR, params["val_fraction"], params["seed"])
    logging.getLogger("prepare").info(
        "train %d (validation %d), test %d images",
        len(dataset.train_labels),
        len(dataset.val_indices),
        len(dataset.test_labels),
    )


if __name__ == "__main__":
    run_stage(main)
