"""Report 003's sweeps on tiny data: a curve point every `eval_every` steps for each value, the final accuracies,
the best value chosen on validation, the same bytes on a second run, and scoring that leaves training alone."""

import copy
import logging
import math
import re
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import torch
import yaml

from fmnist.cnn import loop
from fmnist.cnn import sweep as sweep_module
from fmnist.cnn.loop import TrainingData, fit, seed_everything
from fmnist.cnn.nets import build_net
from fmnist.cnn.recipes import effective_recipe, input_pipeline
from fmnist.cnn.sweep import HEADLINE, ValidationCurve, run_sweep
from fmnist.data import load_dataset
from fmnist.errors import PipelineError
from fmnist.layout import Layout
from fmnist.records import load_record
from tests.support.logits import right_for_the_first
from tests.support.tiny_params import tiny_cnn, tiny_sweeps

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def params():
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    tiny_cnn(params)
    tiny_sweeps(params)
    return params


def sweep(name, params, prepared, root):
    paths = Layout(root).sweep(name)
    arch = {"hidden_units": "dense2", "filters": "cnn1", "kernel_size": "cnn1"}[name]
    record = run_sweep(name, params["model"], params["sweeps"][name], params["cnn"][arch], prepared, paths)
    return record, paths


@pytest.mark.parametrize("name", ["hidden_units", "kernel_size"])
def test_every_value_has_its_curve_and_final_accuracies(name, params, prepared, tmp_path):
    record, paths = sweep(name, params, prepared, tmp_path)
    values = params["sweeps"][name]["values"]
    curves, final = pd.read_csv(paths.curves), pd.read_csv(paths.final)
    steps_per_epoch = -(-len(load_dataset(prepared).fit_indices()) // params["model"]["batch_size"])
    every = params["sweeps"][name]["eval_every"]
    for value in values:
        assert curves[curves["value"] == value]["step"].tolist() == list(range(every, steps_per_epoch + 1, every))
    assert curves["val_acc"].between(0, 1).all() and (curves["val_loss"] > 0).all()
    assert final["value"].tolist() == values
    assert list(record["values"]) == [str(v) for v in values]
    assert not any("curve" in run for run in record["values"].values())  # the curves are in their CSV alone
    best = final.loc[final["val_acc"].idxmax()]
    assert record["best_value"] == best["value"] and record["test_accuracy"] == pytest.approx(best["test_acc"])
    metrics = load_record(paths.record)
    assert set(HEADLINE) <= set(metrics) and metrics["setting"] == {"hidden_units": "hidden"}.get(name, "kernel")
    assert (metrics["arch"], metrics["epochs"], metrics["eval_every"]) == (
        {"hidden_units": "dense2"}.get(name, "cnn1"),
        params["sweeps"][name]["epochs"],
        every,
    )
    sizes = [record["values"][str(v)]["params_count"] for v in values]
    assert sizes[0] != sizes[1]  # the setting really changed the net


def test_a_sweep_gives_the_same_bytes_twice_its_crops_and_flips_too(params, prepared, tmp_path):
    augmented = copy.deepcopy(params)
    augmented["cnn"]["cnn1"]["augment"] = True  # the recipe's crops and flips, drawn from the seed
    _, first = sweep("filters", augmented, prepared, tmp_path / "a")
    _, second = sweep("filters", augmented, prepared, tmp_path / "b")
    for path_a, path_b in (
        (first.curves, second.curves),
        (first.final, second.final),
        (first.record.metrics, second.record.metrics),
    ):
        assert path_a.read_bytes() == path_b.read_bytes()


def test_a_diverged_net_names_the_params_key_of_its_learning_rate(params, prepared, tmp_path, monkeypatch):
    monkeypatch.setattr(loop, "evaluate", lambda model, data, recipe, device: (math.nan, 0.0))
    settings = copy.deepcopy(params)
    settings["cnn"]["dense2"]["recipe"] = {"lr": 0.02}
    with pytest.raises(
        PipelineError, match=re.escape("(`cnn.dense2.recipe.lr` = 0.02). Lower it in params.yaml")
    ) as error:
        sweep("hidden_units", settings, prepared, tmp_path)
    assert str(error.value).startswith(f"hidden_units hidden={params['sweeps']['hidden_units']['values'][0]}: ")


def test_scoring_between_steps_leaves_the_training_alone(params, prepared):
    """The curve's scoring switches the net to eval mode; training must resume in train mode (dropout on), so the
    weights end exactly as without the scoring. The mlp has dropout: a net left in eval mode would differ."""
    dataset = load_dataset(prepared)
    settings = params["cnn"]["mlp"]
    recipe = effective_recipe("mlp", params["model"], settings)
    images, labels = torch.from_numpy(dataset.train_images), torch.from_numpy(dataset.train_labels)
    pipeline = input_pipeline("mlp", settings, recipe)
    data = TrainingData(images, labels, dataset.fit_indices(), dataset.val_indices, pipeline)

    class Silent:
        def batch(self, step, loss):
            pass

        def epoch(self, epoch, values):
            pass

    weights = []
    for scored in (False, True):
        seed_everything(recipe.seed)
        net = build_net("mlp", settings)
        logger = ValidationCurve(net, data, recipe, torch.device("cpu"), 1) if scored else Silent()
        fit(net, data, recipe, torch.device("cpu"), logger, "mlp")
        weights.append(copy.deepcopy(net.state_dict()))
    assert logger.points and all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_each_value_is_scored_on_the_test_split_with_flips_timed_and_logged(
    params, prepared, tmp_path, monkeypatch, caplog
):
    """Each value's test accuracy is the share of test images whose logits' row maximum is their label, with test-time
    flips; its training time is its own clock's, to a tenth of a second; a line logs both accuracies."""
    labels = load_dataset(prepared).test_labels
    right = len(labels) * 3 // 4
    calls = []

    def logits(net, images, pipeline, device, recipe, tta=False, batch_size=None):
        calls.append(tta)
        return right_for_the_first(labels, right)

    ticks = iter([100.0, 112.345] * 2)  # each value's start and end
    monkeypatch.setattr(sweep_module, "predict_logits", logits)
    monkeypatch.setattr(sweep_module, "time", SimpleNamespace(perf_counter=lambda: next(ticks)))
    with caplog.at_level(logging.INFO, logger="fmnist.cnn.sweep"):
        record, _ = sweep("hidden_units", params, prepared, tmp_path)
    assert calls == [True, True]
    epochs = params["sweeps"]["hidden_units"]["epochs"]
    for value, run in record["values"].items():
        assert run["test_accuracy"] == right / len(labels) and run["train_seconds"] == 12.3
        assert 1 <= run["best_epoch"] <= epochs
        line = f"hidden_units hidden={value}: validation {run['val_accuracy']:.4f}, test {run['test_accuracy']:.4f}"
        assert line in caplog.messages
