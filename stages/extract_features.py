"""DVC stage extract_features@<name>: one feature set, features/<name>/{train,test}.npy and info.json."""

import argparse

from fmnist.catalog import FEATURE_SETS
from fmnist.cli import Axis, matrix_args, run_stage
from fmnist.data import load_dataset
from fmnist.features.extract import build_extractor, extract_feature_set, use_all_cores
from fmnist.layout import Layout
from fmnist.params_read import stage_params

PARAMS_READ = ("features.{name}",)


def parse_args(argv=None) -> argparse.Namespace:
    return matrix_args(__doc__, argv, name=Axis("the keys of `extract_features` in dvc.yaml", FEATURE_SETS))


def main() -> None:
    args = parse_args()
    params = stage_params(PARAMS_READ, **vars(args))["features"][args.name]
    use_all_cores()
    extractor = build_extractor(params, f"features.{args.name}")  # weights and settings checked before any work
    layout = Layout()
    extract_feature_set(args.name, params, load_dataset(layout.prepared), layout, extractor)


if __name__ == "__main__":
    run_stage(main)
