"""DVC stage: one feature set, features/<name>/{train,test}.npy and info.json (`extract_features@<name>`)."""

import argparse
import sys
from pathlib import Path

from fmnist.cli import run_stage, stage_params
from fmnist.dataset import load_dataset
from fmnist.extract import build_extractor, extract_feature_set, use_all_cores

PARAMS_READ = ("features.{name}",)
PREPARED_DIR = Path("data/prepared")
OUT_ROOT = Path("features")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--name", required=True, help="feature set: a section under `features` in params.yaml")
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args(sys.argv[1:])
    params = stage_params(PARAMS_READ, **vars(args))["features"][args.name]
    use_all_cores()
    extractor = build_extractor(params, f"features.{args.name}")  # weights and settings checked before any work
    extract_feature_set(args.name, params, load_dataset(PREPARED_DIR), OUT_ROOT / args.name, extractor)


if __name__ == "__main__":
    run_stage(main)
