"""DVC stage classify@<feature>-<model>: tune one model on one feature set, refit, score the test set once."""

import argparse
from pathlib import Path

from fmnist.atomic import staged_outputs
from fmnist.classify import classify, load_feature_set
from fmnist.cli import matrix_args, run_stage, stage_params
from fmnist.dataset import load_dataset
from fmnist.evaluation import write_predictions
from fmnist.models import MODEL_NAMES, check_grid
from fmnist.params import FEATURE_SETS

PARAMS_READ = ("classify.search", "classify.{model}")
PREPARED_DIR = Path("data/prepared")
FEATURES_DIR = Path("features")
METRICS_DIR = Path("metrics/classify")
PLOTS_DIR = Path("plots/classify")


def parse_args(argv=None) -> argparse.Namespace:
    return matrix_args(__doc__, argv, feature=FEATURE_SETS, model=MODEL_NAMES)


def main() -> None:
    args = parse_args()
    params = stage_params(PARAMS_READ, **vars(args))["classify"]
    model_params = params[args.model]
    check_grid(args.model, model_params["grid"], params["search"]["seed"], f"classify.{args.model}.grid")
    data = load_dataset(PREPARED_DIR)
    train_x, test_x = load_feature_set(FEATURES_DIR / args.feature, len(data.train_labels), len(data.test_labels))
    metrics, predicted = classify(
        args.feature, args.model, model_params, params["search"], (train_x, data.train_labels), (test_x, data.test_labels)
    )
    name = f"{args.feature}-{args.model}"
    with staged_outputs() as staged:
        staged.save_json(METRICS_DIR / f"{name}.json", metrics)
        write_predictions(staged.path(PLOTS_DIR / f"{name}.csv"), data.test_labels, predicted)


if __name__ == "__main__":
    run_stage(main)
