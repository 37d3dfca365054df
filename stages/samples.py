"""DVC stage: a grid of random training images of every class (the seeds' figure 1)."""

from pathlib import Path

from fmnist.cli import run_stage, stage_params
from fmnist.dataset import load_dataset
from fmnist.gallery import write_class_samples

PARAMS_READ = ("pictures.seed", "pictures.samples_per_class")
OUT_DIR = Path("figures/samples")


def main() -> None:
    params = stage_params(PARAMS_READ)["pictures"]
    write_class_samples(load_dataset(Path("data/prepared")), params["samples_per_class"], params["seed"], OUT_DIR)


if __name__ == "__main__":
    run_stage(main)
