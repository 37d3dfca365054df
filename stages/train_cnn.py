"""DVC stage train_cnn@<arch>: one network of the seeds' family, trained with the shared `model` recipe
and its `cnn.<arch>` settings; best checkpoint under models/cnn/, metrics/cnn/<arch>.json, curves and
test predictions under plots/cnn/<arch>/."""

import argparse
import logging
from pathlib import Path

from fmnist.cli import run_stage, stage_params
from fmnist.cnn import CnnPaths, train_architecture
from fmnist.archs import ARCHS

PARAMS_READ = ("model", "cnn.{arch}")
PREPARED_DIR = Path("data/prepared")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--arch", required=True, choices=ARCHS)
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    params = stage_params(PARAMS_READ, **vars(args))
    metrics = train_architecture(args.arch, params["model"], params["cnn"][args.arch], PREPARED_DIR, CnnPaths.for_arch(args.arch))
    logging.getLogger("train_cnn").info(
        "%s: test accuracy %.4f, macro F1 %.4f, %s s", args.arch, metrics["test_accuracy"], metrics["macro_f1"], metrics["train_seconds"]
    )


if __name__ == "__main__":
    run_stage(main)
