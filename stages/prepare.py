"""DVC stage prepare: validated arrays and the seeded validation split under data/prepared/."""

import logging

from fmnist.cli import run_stage
from fmnist.data.dataset import prepare_dataset
from fmnist.layout import Layout
from fmnist.params_read import stage_params

PARAMS_READ = ("data",)


def main() -> None:
    params = stage_params(PARAMS_READ)["data"]
    layout = Layout()
    dataset = prepare_dataset(layout.raw_data, layout.prepared, params["val_fraction"], params["seed"])
    logging.getLogger("prepare").info(
        "train %d (validation %d), test %d images",
        len(dataset.train_labels),
        len(dataset.val_indices),
        len(dataset.test_labels),
    )


if __name__ == "__main__":
    run_stage(main)
