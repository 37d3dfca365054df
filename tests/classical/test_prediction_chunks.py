"""Test-set predictions in chunks of rows on threads, as many as the stage's predict workers; a classifier that
parallelises itself predicts in one call instead."""

import numpy as np
import pytest

from fmnist.classical.classify import predict_side_by_side
from fmnist.classical.models import build_pipeline


def rows_per_call(name: str, n_jobs: int) -> list[int]:
    rng = np.random.default_rng(0)
    pipeline = build_pipeline(name, 0).fit(rng.normal(size=(40, 3)), np.arange(40) % 2)
    calls = []
    predict = pipeline.predict

    def recording(features):
        calls.append(len(features))
        return predict(features)

    pipeline.predict = recording
    predicted = predict_side_by_side(pipeline, rng.normal(size=(101, 3)), n_jobs)
    assert len(predicted) == 101
    return sorted(calls)


@pytest.mark.parametrize(("n_jobs", "calls"), [(1, [101]), (2, [50, 51]), (3, [33, 34, 34])])
def test_rows_are_predicted_in_one_chunk_per_worker(n_jobs, calls):
    assert rows_per_call("svm", n_jobs) == calls


def test_a_classifier_that_parallelises_itself_predicts_in_one_call():
    assert rows_per_call("knn", 2) == [101]
