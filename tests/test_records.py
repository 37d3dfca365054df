"""A run's record: headline metrics (in git, what `dvc metrics` shows) and details (everything else)."""

import json

import pytest

from fmnist.atomic import staged_outputs
from fmnist.errors import PipelineError
from fmnist.layout import Layout
from fmnist.records import load_record, save_record

RECORD = {"test_accuracy": 0.9, "macro_f1": 0.89, "per_class": {"Bag": {"f1": 0.95}}, "fit_seconds": 12.5}


def test_headline_keys_go_to_the_metrics_and_the_rest_to_the_details(tmp_path):
    paths = Layout(tmp_path).record("classify", "raw-lda")
    with staged_outputs() as staged:
        save_record(staged, paths, RECORD, ("test_accuracy", "macro_f1"))
    assert json.loads(paths.metrics.read_text()) == {"test_accuracy": 0.9, "macro_f1": 0.89}
    assert json.loads(paths.details.read_text()) == {"per_class": {"Bag": {"f1": 0.95}}, "fit_seconds": 12.5}
    assert paths.metrics == tmp_path / "metrics/classify/raw-lda.json"
    assert paths.details == tmp_path / "details/classify/raw-lda.json"
    assert load_record(paths) == RECORD


def test_a_record_without_its_details_still_loads_its_metrics(tmp_path):
    paths = Layout(tmp_path).record("cnn", "mlp")
    with staged_outputs() as staged:
        save_record(staged, paths, RECORD, ("test_accuracy",))
    paths.details.unlink()
    assert load_record(paths) == {"test_accuracy": 0.9}


def test_a_corrupt_record_names_its_file(tmp_path):
    paths = Layout(tmp_path).record("cnn", "mlp")
    paths.metrics.parent.mkdir(parents=True)
    paths.metrics.write_text('{"test_accuracy": 0.')
    with pytest.raises(PipelineError, match=r"metrics/cnn/mlp\.json: not valid JSON .*re-run the stage"):
        load_record(paths)
