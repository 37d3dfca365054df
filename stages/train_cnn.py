"""DVC stage train_cnn@<arch>: one network of the course reports' family, trained with the shared `model`
recipe and its `cnn.<arch>` settings; best checkpoint under models/cnn/, metrics/cnn/<arch>.json, curves and
test predictions under plots/cnn/<arch>/."""

import argparse

from fmnist.catalog import CNN_ARCHS
from fmnist.cli import Axis, matrix_args, run_stage
from fmnist.cnn.train import train_architecture
from fmnist.layout import Layout
from fmnist.params_read import stage_params

PARAMS_READ = ("model", "cnn.{arch}")


def parse_args(argv=None) -> argparse.Namespace:
    return matrix_args(__doc__, argv, arch=Axis("params.yaml `train_cnn.archs`", CNN_ARCHS))


def main() -> None:
    args = parse_args()
    params = stage_params(PARAMS_READ, **vars(args))
    layout = Layout()
    train_architecture(args.arch, params["model"], params["cnn"][args.arch], layout.prepared, layout.cnn(args.arch))


if __name__ == "__main__":
    run_stage(main)
