"""DVC stage: a 2-D embedding (PCA, t-SNE, UMAP or LLE) of one feature set, as PNG, CSV and info JSON."""

import argparse
from pathlib import Path

from fmnist.cli import matrix_args, run_stage, stage_params
from fmnist.dataset import load_dataset
from fmnist.methods import METHODS
from fmnist.params import FEATURE_SETS
from fmnist.visualize import write_embedding

PARAMS_READ = ("visualize.seed", "visualize.{method}")


def parse_args(argv=None) -> argparse.Namespace:
    return matrix_args(__doc__, argv, feature=FEATURE_SETS, method=METHODS)


def main() -> None:
    args = parse_args()
    params = stage_params(PARAMS_READ, **vars(args))["visualize"]
    write_embedding(load_dataset(Path("data/prepared")), Path("features") / args.feature, args.feature, args.method,
                    params[args.method], params["seed"], Path("."))


if __name__ == "__main__":
    run_stage(main)
