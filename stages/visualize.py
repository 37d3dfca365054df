"""DVC stage visualize@<feature>-<method>: a 2-D embedding (PCA, t-SNE, UMAP or LLE) of one feature set, as PNG,
CSV and info JSON."""

import argparse

from fmnist.catalog import EMBEDDINGS, FEATURE_SETS
from fmnist.cli import Axis, matrix_args, run_stage
from fmnist.data import load_dataset
from fmnist.layout import Layout
from fmnist.params_read import stage_params
from fmnist.pictures.visualize import write_embedding

PARAMS_READ = ("visualize.seed", "visualize.{method}")


def parse_args(argv=None) -> argparse.Namespace:
    return matrix_args(
        __doc__,
        argv,
        feature=Axis("params.yaml `visualize.features`", FEATURE_SETS),
        method=Axis("params.yaml `visualize.methods`", EMBEDDINGS),
    )


def main() -> None:
    args = parse_args()
    params = stage_params(PARAMS_READ, **vars(args))["visualize"]
    layout = Layout()
    write_embedding(
        load_dataset(layout.prepared), layout, args.feature, args.method, params[args.method], params["seed"]
    )


if __name__ == "__main__":
    run_stage(main)
