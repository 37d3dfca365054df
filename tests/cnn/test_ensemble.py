"""The ensemble stage: members chosen on the validation split only, scored once on the test set, from checkpoints
built and scored as their own stages do."""

import copy
import json
import logging
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from fmnist.cnn import ensemble as E
from fmnist.cnn import finetune
from fmnist.cnn.finetune import train_finetune
from fmnist.cnn.train import train_architecture
from fmnist.errors import PipelineError
from fmnist.layout import Layout
from fmnist.records import load_record
from tests.support.pickles import RAN, allow_unsafe_loads_by_default, save_code_running_checkpoint
from tests.support.tiny_params import tiny_cnn

REPO = Path(__file__).resolve().parents[2]


def one_hot(labels, n=10):
    return np.eye(n)[labels]


def test_members_are_added_while_the_validation_accuracy_rises():
    labels = np.array([0, 1, 2, 3])
    val = {
        "a": one_hot([0, 1, 2, 0]) * 0.6,  # 3 of 4
        "b": one_hot([0, 1, 0, 3]) * 0.5,  # 3 of 4: with a, right where a is wrong
        "c": one_hot([0, 0, 0, 0]) * 0.9,  # 1 of 4
    }
    val["b"][3, 3] = 0.9  # confident where a is wrong
    assert E.choose_members(val, labels, max_members=3) == ["a", "b"]
    assert E.choose_members(val, labels, max_members=1) == ["a"]


def test_every_candidate_is_a_member_when_each_raises_the_accuracy():
    labels = np.array([0, 1, 2, 0])
    val = {  # validation accuracy a 0.5, a and b 0.75, all three 1.0
        "a": np.array([[0.9, 0.1, 0.0], [0.0, 0.9, 0.1], [0.8, 0.2, 0.0], [0.3, 0.0, 0.7]]),
        "b": np.array([[0.2, 0.8, 0.0], [0.7, 0.2, 0.1], [0.1, 0.5, 0.4], [1.0, 0.0, 0.0]]),
        "c": np.array([[0.3, 0.0, 0.7], [0.2, 0.2, 0.6], [0.1, 0.0, 0.9], [0.4, 0.3, 0.3]]),
    }
    assert E.choose_members(val, labels, max_members=5) == ["a", "b", "c"]


def test_ties_go_to_the_earlier_candidate():
    labels = np.array([0, 1])
    val = {"x": one_hot([0, 0]), "y": one_hot([0, 0])}
    assert E.choose_members(val, labels, 2) == ["x"]  # adding y changes nothing: no strict rise


def test_a_net_is_chosen_once_even_where_weighting_it_twice_would_score_higher():
    """Here a second copy of `a` beside `a` and `b` would raise the validation accuracy (selection with replacement
    picks a, b, a); members are distinct nets, each weighing the same."""
    labels = np.array([1, 1, 0, 0, 1])
    val = {
        "a": np.array([[0.5, 0.5], [0.1, 0.9], [0.4, 0.6], [0.8, 0.2], [0.0, 1.0]]),
        "b": np.array([[0.4, 0.6], [1.0, 0.0], [0.9, 0.1], [0.5, 0.5], [0.5, 0.5]]),
        "c": np.array([[0.7, 0.3], [0.9, 0.1], [0.7, 0.3], [0.5, 0.5], [0.8, 0.2]]),
    }
    assert E.accuracy([val["a"], val["b"], val["a"]], labels) > E.accuracy([val["a"], val["b"]], labels)
    assert E.choose_members(val, labels, max_members=4) == ["a", "b"]


def stand_in_nets(monkeypatch, outputs, val_labels, test_labels):
    """build_ensemble's candidates replaced by nets whose softmax outputs are `outputs[name]` = (validation, test)."""

    class FakeDataset:
        train_images = np.zeros((len(val_labels), 28, 28), np.uint8)
        train_labels = np.asarray(val_labels)
        val_indices = np.arange(len(val_labels))
        test_images = np.ones((len(test_labels), 28, 28), np.uint8)

    FakeDataset.test_labels = np.asarray(test_labels)
    monkeypatch.setattr(E, "candidate", lambda name, params: E.Candidate(lambda: torch.nn.Identity(), None, None))
    monkeypatch.setattr(E, "load_checkpoint", lambda net, path, name: name)
    monkeypatch.setattr(E, "load_dataset", lambda prepared: FakeDataset)
    monkeypatch.setattr(E, "softmax_outputs", lambda c, net, images, device: outputs[net][int(images[0, 0, 0])])


def ensemble_params(candidates, max_members):
    return {
        "ensemble": {"candidates": candidates, "max_members": max_members},
        "model": {"device": "cpu", "cpu_threads": 1, "cpu_kernels": "native"},
    }


def test_the_choice_reads_the_validation_outputs_never_the_test_outputs(tmp_path, monkeypatch):
    """Net 'val_best' wins on validation and loses on test; 'test_best' the reverse: the ensemble takes 'val_best'."""
    val_labels, test_labels = np.array([0, 1, 2, 3]), np.array([4, 5, 6, 7])
    outputs = {  # (validation, test) predictions of each net
        "val_best": (one_hot(val_labels), one_hot([0, 0, 0, 0])),
        "test_best": (one_hot([9, 9, 9, 9]), one_hot(test_labels)),
    }
    stand_in_nets(monkeypatch, outputs, val_labels, test_labels)
    layout = Layout(tmp_path)
    metrics = E.build_ensemble(ensemble_params(["val_best", "test_best"], 1), layout, layout.ensemble())
    assert metrics["nets"] == ["val_best"] and metrics["val_accuracy"] == 1.0 and metrics["test_accuracy"] == 0.0
    assert metrics["candidates_val_accuracy"] == {"val_best": 1.0, "test_best": 0.0}
    assert sorted(json.loads(layout.ensemble().record.metrics.read_text())) == sorted(E.HEADLINE)


def test_the_record_and_the_log_name_the_members_their_scores_and_the_device(tmp_path, monkeypatch, caplog):
    """Two members, each wrong where the other is right on validation: their mean is right everywhere."""
    caplog.set_level(logging.INFO, logger="fmnist.cnn.ensemble")
    val_labels, test_labels = [0, 1, 2, 3], [4, 5, 6, 7]
    right_but_last = one_hot([0, 1, 2, 0]) * 0.6
    right_where_it_counts = one_hot([0, 1, 0, 3]) * 0.5
    right_where_it_counts[3, 3] = 0.9
    outputs = {
        "a": (right_but_last, one_hot(test_labels) * 0.6),
        "b": (right_where_it_counts, one_hot([4, 5, 0, 0]) * 0.5),
        "c": (one_hot([9, 9, 9, 9]), one_hot([9, 9, 9, 9])),
    }
    stand_in_nets(monkeypatch, outputs, val_labels, test_labels)
    layout = Layout(tmp_path)
    metrics = E.build_ensemble(ensemble_params(["a", "b", "c"], 3), layout, layout.ensemble())
    assert metrics["nets"] == ["a", "b"] and (metrics["val_accuracy"], metrics["test_accuracy"]) == (1.0, 1.0)
    assert metrics["nets_test_accuracy"] == {"a": 1.0, "b": 0.5}
    assert metrics["device"] == E.describe(torch.device("cpu"))
    assert "ensemble: chose a, b on the validation split (1.0000)" in caplog.messages
    assert "ensemble of a, b: test accuracy 1.0000" in caplog.messages


def test_a_fine_tune_candidate_is_built_without_its_imagenet_weights_and_named_by_its_params_key(monkeypatch):
    """Its checkpoint holds every weight: the network is built with random ones (no weights file is read), and a
    setting it cannot build is named as `finetune.<run>.<key>`."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    weights, real_build_backbone = [], finetune.build_backbone

    def build_backbone(arch, weights_name, *rest):
        weights.append(weights_name)
        return real_build_backbone(arch, weights_name, *rest)

    monkeypatch.setattr(finetune, "build_backbone", build_backbone)
    E.candidate("lite0_whole_10", params).build()
    assert weights == ["random"]

    params["finetune"]["lite0_whole_10"]["pooled_stages"] = 99
    with pytest.raises(PipelineError, match=re.escape("`finetune.lite0_whole_10.pooled_stages` = 99")):
        E.candidate("lite0_whole_10", params).build()


@pytest.fixture(scope="module")
def trained(prepared, tmp_path_factory):
    """A train_cnn net and a fine-tune, trained on tiny data into one folder, with the params that made them."""
    root = tmp_path_factory.mktemp("ensemble")
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    tiny_cnn(params)
    params["model"]["device"] = "cpu"
    params["finetune"]["recipe"].update(batch_size=32, device="cpu")
    params["finetune"]["lite0_whole_10"].update(input_size=32, epochs=1, train_fraction=1.0)
    params["ensemble"] = {"candidates": ["mlp", "lite0_whole_10"], "max_members": 2}
    layout = Layout(root)
    (root / "data").mkdir()
    (root / "data" / "prepared").symlink_to(prepared)
    scores = {
        "mlp": train_architecture("mlp", params["model"], params["cnn"]["mlp"], prepared, layout.cnn("mlp")),
        "lite0_whole_10": train_finetune(
            "lite0_whole_10",
            params["finetune"]["recipe"],
            params["finetune"]["lite0_whole_10"],
            prepared,
            layout.cnn("lite0_whole_10"),
        ),
    }
    return params, layout, scores


def test_candidates_score_as_their_stages_recorded(trained):
    params, layout, scores = trained
    metrics = E.build_ensemble(params, layout, layout.ensemble())
    assert load_record(layout.ensemble().record) == metrics
    for name, accuracy in metrics["candidates_val_accuracy"].items():
        assert accuracy == pytest.approx(scores[name]["val_accuracy"])
    for name, accuracy in metrics["nets_test_accuracy"].items():
        assert accuracy == pytest.approx(scores[name]["test_accuracy"])
    assert layout.ensemble().predictions.is_file()


def test_a_missing_or_damaged_checkpoint_stops_before_any_scoring(trained, tmp_path):
    params, layout, _ = trained
    params = copy.deepcopy(params)
    params["ensemble"]["candidates"] = ["mlp", "convnet_bn"]
    with pytest.raises(PipelineError, match=r"models/cnn/convnet_bn.pt: not found; re-create it with `dvc repro`"):
        E.build_ensemble(params, layout, layout.ensemble())
    damaged = Layout(tmp_path)
    damaged.models_dir.mkdir(parents=True)
    damaged.cnn("mlp").checkpoint.write_bytes(layout.cnn("mlp").checkpoint.read_bytes()[:100])
    params["ensemble"]["candidates"] = ["mlp"]
    with pytest.raises(PipelineError, match=r"mlp.pt: not a checkpoint of mlp's network"):
        E.build_ensemble(params, damaged, damaged.ensemble())
    assert not damaged.ensemble().record.metrics.exists()


def test_a_checkpoint_that_would_run_code_is_refused_whatever_torchs_environment(tmp_path, monkeypatch, capsys):
    """weights_only=True is passed, not left to torch's default, which an environment variable can turn off."""
    allow_unsafe_loads_by_default(monkeypatch)
    path = tmp_path / "mlp.pt"
    save_code_running_checkpoint(path)
    with pytest.raises(PipelineError, match=r"mlp.pt: not a checkpoint of mlp's network"):
        E.load_checkpoint(torch.nn.Linear(1, 1), path, "mlp")
    assert RAN not in capsys.readouterr().out
