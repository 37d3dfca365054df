"""DVC stage samples: a grid of random training images of every class (the course reports' figure 1)."""

from fmnist.cli import run_stage
from fmnist.data import load_dataset
from fmnist.layout import Layout
from fmnist.params_read import stage_params
from fmnist.pictures.samples import write_class_samples

PARAMS_READ = ("pictures.seed", "pictures.samples_per_class")


def main() -> None:
    params = stage_params(PARAMS_READ)["pictures"]
    layout = Layout()
    write_class_samples(load_dataset(layout.prepared), params["samples_per_class"], params["seed"], layout)


if __name__ == "__main__":
    run_stage(main)
