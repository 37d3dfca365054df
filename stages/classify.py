"""DVC stage classify@<feature>-<model>: tune one model on one feature set, refit, score the test set once."""

import argparse

from fmnist.atomic import staged_outputs
from fmnist.catalog import CLASSIFY_MODELS, FEATURE_SETS
from fmnist.classical.classify import HEADLINE, classify, load_feature_set
from fmnist.classical.models import check_grid
from fmnist.classical.workers import compute_workers
from fmnist.cli import Axis, matrix_args, run_stage
from fmnist.data import load_dataset
from fmnist.evaluation import write_predictions
from fmnist.layout import Layout
from fmnist.params_read import stage_params
from fmnist.records import save_record

PARAMS_READ = ("classify.search", "classify.{model}")


def parse_args(argv=None) -> argparse.Namespace:
    return matrix_args(
        __doc__,
        argv,
        feature=Axis("params.yaml `classify.features` and `classify.wide_features`", FEATURE_SETS),
        model=Axis("params.yaml `classify.models` and `classify.wide_models`", CLASSIFY_MODELS),
    )


def main() -> None:
    args = parse_args()
    params = stage_params(PARAMS_READ, **vars(args))["classify"]
    model_params = params[args.model]
    check_grid(args.model, model_params["grid"], params["search"]["seed"], f"classify.{args.model}.grid")
    layout = Layout()
    search = params["search"]
    with compute_workers(search["n_jobs"], search["fit_threads"]) as workers:  # an unanswered Dask scheduler stops here
        data = load_dataset(layout.prepared)
        train_x, test_x = load_feature_set(layout, args.feature, len(data.train_labels), len(data.test_labels))
        record, predicted = classify(
            args.feature,
            args.model,
            model_params,
            params["search"],
            (train_x, data.train_labels),
            (test_x, data.test_labels),
            workers,
        )
    run = f"{args.feature}-{args.model}"
    with staged_outputs() as staged:
        save_record(staged, layout.record("classify", run), record, HEADLINE)
        write_predictions(staged.path(layout.classify_predictions(run)), data.test_labels, predicted)


if __name__ == "__main__":
    run_stage(main)
