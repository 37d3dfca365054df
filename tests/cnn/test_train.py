"""train_cnn on tiny data: boosting's data selection, the checkpoint round trip, determinism, and the clear stop
when ImageNet weights are missing (the networks: test_nets.py; the loop itself: test_loop.py)."""

import copy
import json
import logging
import math
import pickle
import re
import urllib.error
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from fmnist.classes import CLASS_NAMES
from fmnist.cnn import loop
from fmnist.cnn import train as train_module
from fmnist.cnn.boosting import Ensemble, second_net_indices, third_net_indices
from fmnist.cnn.inference import predict_logits
from fmnist.cnn.loop import fit
from fmnist.cnn.recipes import effective_recipe, input_pipeline, training_indices
from fmnist.cnn.train import (
    HEADLINE,
    member_summaries,
    skeleton,
    train_and_record,
    train_architecture,
    training_data,
)
from fmnist.data import load_dataset
from fmnist.errors import PipelineError
from fmnist.layout import Layout
from fmnist.records import load_record
from tests.support.logits import right_for_the_first
from tests.support.pickles import RAN, RunsCode, allow_unsafe_loads_by_default
from tests.support.tiny_params import tiny_cnn

REPO = Path(__file__).resolve().parents[2]
CONTRACT_KEYS = {
    "arch",
    "test_accuracy",
    "macro_f1",
    "best_epoch",
    "epochs_run",
    "params_count",
    "train_seconds",
    "images_per_second",
    "device",
}
TIMING_KEYS = {"train_seconds", "images_per_second"}


def without_timings(metrics: dict) -> dict:
    kept = {k: v for k, v in metrics.items() if k not in TIMING_KEYS}
    if "members" in kept:
        kept["members"] = [without_timings(m) for m in kept["members"]]
    return kept


@pytest.fixture(scope="module")
def params():
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    tiny_cnn(params)
    return params


def train(arch, params, prepared, root, **recipe_changes):
    recipe = {**params["model"], **recipe_changes}
    return train_architecture(arch, recipe, params["cnn"][arch], prepared, Layout(root).cnn(arch))


def test_second_net_sees_half_right_half_wrong():
    train_idx = np.arange(100, 200)
    correct = np.ones(100, dtype=bool)
    correct[::5] = False  # net 1 got 20 wrong, 80 right
    chosen = second_net_indices(train_idx, correct, torch.Generator().manual_seed(0), "lenet5_boosted")
    wrong = set(train_idx[~correct])
    assert len(chosen) == 40 and len(set(chosen)) == 40
    assert set(chosen) & wrong == wrong  # every wrong one, and as many right ones
    assert np.all(np.diff(chosen) > 0)


def test_second_net_with_more_wrong_than_right_takes_all_right_ones():
    train_idx = np.arange(10)
    correct = np.array([True, True, False, False, False, False, False, False, False, False])
    chosen = second_net_indices(train_idx, correct, torch.Generator().manual_seed(0), "x")
    assert len(chosen) == 4 and {0, 1} <= set(chosen)


@pytest.mark.parametrize("wrong_count", [20, 80], ids=["fewer-wrong", "more-wrong"])
def test_second_nets_pick_from_the_larger_group_is_drawn_at_random_under_the_seed(wrong_count):
    train_idx = np.arange(100, 200)
    correct = np.ones(100, dtype=bool)
    correct[np.random.default_rng(5).permutation(100)[:wrong_count]] = False
    larger = train_idx[correct] if wrong_count < 50 else train_idx[~correct]  # the group only 20 are taken from

    def picked_from_larger(seed: int) -> list[int]:
        chosen = second_net_indices(train_idx, correct, torch.Generator().manual_seed(seed), "lenet5_boosted")
        assert len(chosen) == 40
        return sorted(set(chosen) & set(larger))

    first = picked_from_larger(0)
    assert len(first) == 20
    assert picked_from_larger(0) == first  # the same seed, the same images
    assert picked_from_larger(1) != first  # another seed, others
    assert first != sorted(larger[:20]) and first != sorted(larger[-20:])  # not the first (or last) ones
    assert max(first) > larger[40] and min(first) < larger[-40]  # spread over the whole group


def test_third_net_sees_where_nets_one_and_two_disagree():
    train_idx = np.array([3, 5, 7, 9])
    assert third_net_indices(train_idx, np.array([1, 2, 3, 4]), np.array([1, 0, 3, 0]), "x").tolist() == [5, 9]


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: second_net_indices(np.arange(4), np.ones(4, dtype=bool), torch.Generator(), "convnet_bn"),
            "net 1 classified every training image correctly",
        ),
        (
            lambda: second_net_indices(np.arange(4), np.zeros(4, dtype=bool), torch.Generator(), "convnet_bn"),
            "net 1 classified no training image correctly",
        ),
        (
            lambda: third_net_indices(np.arange(3), np.zeros(3), np.zeros(3), "convnet_bn"),
            "nets 1 and 2 agree on every training image, so net 3 has nothing to train on; turn boosting off for this "
            "architecture.",
        ),
    ],
)
def test_degenerate_boosting_stops_with_a_message(call, message):
    with pytest.raises(PipelineError, match=re.escape(message)):
        call()


def test_the_boosted_ensemble_gives_the_log_of_its_members_mean_probabilities():
    members = [torch.nn.Linear(4, 3), torch.nn.Linear(4, 3)]
    x = torch.randn(5, 4)
    mean = (members[0](x).softmax(1) + members[1](x).softmax(1)) / 2
    assert torch.allclose(Ensemble(members)(x), mean.log())


def test_boosting_from_net1_starts_later_nets_from_its_weights(params, prepared, tmp_path, monkeypatch):
    starts, sizes = [], []
    real_fit = fit

    def recording_fit(net, data, recipe, *args, **kwargs):
        starts.append(({k: v.clone() for k, v in net.state_dict().items()}, recipe.epochs))
        sizes.append((len(data.train_idx), len(data.val_idx)))
        return real_fit(net, data, recipe, *args, **kwargs)

    monkeypatch.setattr("fmnist.cnn.train.fit", recording_fit)
    settings = copy.deepcopy(params)
    settings["cnn"]["lenet5_boosted"].update(boost_from="net1", boost_epochs=1)
    metrics = train("lenet5_boosted", settings, prepared, tmp_path)
    net1 = skeleton("lenet5_boosted", settings["cnn"]["lenet5_boosted"])
    net1.load_state_dict(torch.load(Layout(tmp_path).cnn("lenet5_boosted").checkpoint, weights_only=True))
    trained_net1 = net1.members[0].state_dict()
    assert [epochs for _, epochs in starts] == [2, 1, 1]
    assert sizes[0] == (180, 20) and all(train < 180 and val == 20 for train, val in sizes[1:])
    for state, _ in starts[1:]:
        assert all(torch.equal(state[k], trained_net1[k]) for k in trained_net1)
    assert not all(torch.equal(starts[0][0][k], trained_net1[k]) for k in trained_net1)
    assert [m["epochs_run"] for m in metrics["members"]][1:] == [1, 1]


def assert_checkpoint_scores_as_reported(arch, params, prepared, root, metrics):
    """The saved state_dict, loaded with weights_only=True into a fresh network, gives the stage's predictions."""
    paths = Layout(root).cnn(arch)
    assert set(metrics) >= CONTRACT_KEYS and load_record(paths.record) == metrics
    assert sorted(json.loads(paths.record.metrics.read_text())) == sorted(HEADLINE)  # timings only in details
    model = skeleton(arch, params["cnn"][arch])
    model.load_state_dict(torch.load(paths.checkpoint, weights_only=True))
    table = pd.read_csv(paths.predictions)
    assert list(table.columns) == ["index", "actual", "predicted"] and len(table) == 50
    assert set(table["predicted"]) <= set(CLASS_NAMES)
    test_images = np.load(prepared / "test_images.npy")
    recipe = effective_recipe(arch, params["model"], params["cnn"][arch])
    pipeline = input_pipeline(arch, {}, recipe)  # scored as the stage scores: with test-time flips
    predicted = predict_logits(
        model, torch.from_numpy(test_images), pipeline, torch.device("cpu"), recipe, tta=True
    ).argmax(1)
    assert [CLASS_NAMES[i] for i in predicted] == table["predicted"].tolist()
    assert (table["actual"] == table["predicted"]).mean() == pytest.approx(metrics["test_accuracy"])
    assert not list(paths.curves.parent.glob(".*partial"))
    return model, paths.curves / "plots" / "metrics"


def test_boosted_checkpoint_round_trips_and_scores_as_reported(params, prepared, tmp_path):
    metrics = train("lenet5_boosted", params, prepared, tmp_path)
    assert [m["net"] for m in metrics["members"]] == [1, 2, 3]
    assert metrics["members"][0]["train_size"] == metrics["train_size"] == 180
    assert metrics["members"][1]["train_size"] < 180
    model, curves = assert_checkpoint_scores_as_reported("lenet5_boosted", params, prepared, tmp_path, metrics)
    assert isinstance(model, Ensemble)
    recipe = effective_recipe("lenet5_boosted", params["model"], params["cnn"]["lenet5_boosted"])
    test_images, test_labels = (
        torch.from_numpy(np.load(prepared / f"test_{part}.npy")) for part in ("images", "labels")
    )
    for member, summary in zip(model.members, metrics["members"], strict=True):
        logits = predict_logits(
            member, test_images, input_pipeline("lenet5_boosted", {}, recipe), torch.device("cpu"), recipe, tta=True
        )
        assert summary["test_accuracy"] == pytest.approx(float((logits.argmax(1) == test_labels).float().mean()))
    assert (curves / "net3" / "val" / "acc.tsv").is_file() and (curves / "net1" / "train" / "batch_loss.tsv").is_file()


def test_unboosted_convnet_is_one_net_that_round_trips(params, prepared, tmp_path):
    settings = copy.deepcopy(params)
    settings["cnn"]["convnet_bn"]["boost"] = False  # params.yaml's default
    metrics = train("convnet_bn", settings, prepared, tmp_path)
    assert "members" not in metrics and metrics["train_size"] == 180
    model, curves = assert_checkpoint_scores_as_reported("convnet_bn", settings, prepared, tmp_path, metrics)
    assert not isinstance(model, Ensemble)
    assert (curves / "val" / "acc.tsv").is_file() and not (curves / "net1").exists()


def test_with_ema_and_shifts_the_averaged_net_is_saved_and_scores_as_reported(params, prepared, tmp_path):
    """`model.ema`: the checkpoint holds the weights' average, not the raw weights (a run without it saves other
    weights), and with `model.tta_shift` the saved net, scored with the shifted views, gives the stage's predictions."""
    checkpoints = {}
    for ema in (0.0, 0.9):
        settings = copy.deepcopy(params)
        settings["model"].update(ema=ema, tta_shift=1)
        metrics = train("lenet5_bn", settings, prepared, tmp_path / str(ema))
        model, _ = assert_checkpoint_scores_as_reported("lenet5_bn", settings, prepared, tmp_path / str(ema), metrics)
        checkpoints[ema] = model.state_dict()
    assert any(not torch.equal(checkpoints[0.0][k], checkpoints[0.9][k]) for k in checkpoints[0.0])


def test_the_checkpoint_is_the_best_epochs_state_not_the_last_ones(params, prepared, tmp_path, monkeypatch):
    accuracies, states = iter([0.3, 0.8, 0.5, 0.7]), []  # epoch 2 best; patience 2 stops after epoch 4

    def scripted_evaluate(model, data, recipe, device):
        states.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        return 1.0, next(accuracies)

    monkeypatch.setattr(loop, "evaluate", scripted_evaluate)
    metrics = train("mlp", params, prepared, tmp_path, epochs=6, patience=2, schedule="constant")
    assert (metrics["best_epoch"], metrics["epochs_run"]) == (2, 4)
    saved = torch.load(Layout(tmp_path).cnn("mlp").checkpoint, weights_only=True)
    best, last = states[1], states[3]
    assert saved.keys() == best.keys() and all(torch.equal(saved[k], best[k]) for k in best)
    assert not all(torch.equal(saved[k], last[k]) for k in last)


def test_same_params_give_the_same_model_and_metrics(params, prepared, tmp_path):
    runs = []
    for name in ("a", "b"):
        metrics = train("convnet_bn", params, prepared, tmp_path / name)
        checkpoint = Layout(tmp_path / name).cnn("convnet_bn").checkpoint
        runs.append((without_timings(metrics), torch.load(checkpoint, weights_only=True), checkpoint.read_bytes()))
    (metrics_a, state_a, bytes_a), (metrics_b, state_b, bytes_b) = runs
    assert metrics_a == metrics_b
    assert bytes_a == bytes_b  # byte-identical, so DVC sees an unchanged output
    assert state_a.keys() == state_b.keys() and all(torch.equal(state_a[k], state_b[k]) for k in state_a)
    curves = [(tmp_path / n / "plots/cnn/convnet_bn/live/plots/metrics/net1/val/loss.tsv").read_text() for n in "ab"]
    assert curves[0] == curves[1]


@pytest.mark.parametrize(
    "arch, own_recipe, named",
    [
        ("mlp", {"lr": 0.05}, "(`cnn.mlp.recipe.lr` = 0.05). Lower it"),
        ("lenet5_boosted", {}, "(`model.lr` = 0.01). Lower it"),  # a boosted net names the shared key too
    ],
)
def test_a_diverged_net_names_the_params_key_of_its_learning_rate(
    params, prepared, tmp_path, monkeypatch, arch, own_recipe, named
):
    monkeypatch.setattr(loop, "evaluate", lambda model, data, recipe, device: (math.nan, 0.0))
    settings = copy.deepcopy(params)
    settings["cnn"][arch]["recipe"] = own_recipe
    with pytest.raises(PipelineError, match=rf"^{arch}.*training diverged at .*{re.escape(named)} in params\.yaml"):
        train(arch, settings, prepared, tmp_path, lr=0.01)


@pytest.mark.parametrize("arch", ["resnet18", "vgg16_bn"])
def test_missing_imagenet_weights_stop_before_any_work(arch, params, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("network unreachable")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
    settings = copy.deepcopy(params)
    settings["cnn"][arch].update(weights="imagenet", weights_file=None)
    # The prepared folder does not exist: reaching the data would be a different error.
    with pytest.raises(PipelineError, match=rf"`cnn.{arch}.weights: imagenet`\) could not be had"):
        train(arch, settings, tmp_path / "no-data", tmp_path)
    assert not (tmp_path / "models").exists() and not (tmp_path / "plots").exists()


def test_the_best_epoch_is_chosen_on_the_validation_split_where_the_test_set_disagrees(
    params, prepared, tmp_path, monkeypatch
):
    """Scripted scores: on the validation images epoch 3 is the best, on the test images epoch 1 (where a choice made
    on the test set would land). Early stopping, the checkpoint and the record follow the validation split."""
    train_images, val_indices = np.load(prepared / "train_images.npy"), np.load(prepared / "val_indices.npy")
    test_images = np.load(prepared / "test_images.npy")
    scripts = {"validation": iter([0.3, 0.5, 0.8, 0.4, 0.6]), "test": iter([0.9, 0.2, 0.1, 0.3, 0.2])}
    states, scored = [], []

    def scripted_evaluate(model, data, recipe, device):
        images = data.images[data.val_idx].numpy()
        split = "validation" if np.array_equal(images, train_images[val_indices]) else None
        split = split or ("test" if np.array_equal(images, test_images[: len(images)]) else "other")
        scored.append(split)
        states.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        return 1.0, next(scripts[split]) if split in scripts else 0.0

    monkeypatch.setattr(loop, "evaluate", scripted_evaluate)
    metrics = train("mlp", params, prepared, tmp_path, epochs=5, patience=2, schedule="constant")
    assert scored == ["validation"] * 5  # epoch 3 the best: epochs 4 and 5 without improvement, then the stop
    assert (metrics["best_epoch"], metrics["epochs_run"]) == (3, 5)
    saved = torch.load(Layout(tmp_path).cnn("mlp").checkpoint, weights_only=True)
    assert all(torch.equal(saved[k], states[2][k]) for k in states[2])
    assert not all(torch.equal(saved[k], states[0][k]) for k in states[0])
    # The record's validation accuracy is the saved net's on the held-out training images (scored with test-time
    # flips, as the stage scores), its test accuracy the saved net's on the test images.
    model = skeleton("mlp", params["cnn"]["mlp"])
    model.load_state_dict(saved)
    recipe = effective_recipe("mlp", params["model"], params["cnn"]["mlp"])
    pipeline = input_pipeline("mlp", params["cnn"]["mlp"], recipe)
    labels = np.load(prepared / "train_labels.npy")[val_indices]
    val_predicted = predict_logits(
        model, torch.from_numpy(train_images[val_indices]), pipeline, torch.device("cpu"), recipe, tta=True
    ).argmax(1)
    assert metrics["val_accuracy"] == pytest.approx(float((val_predicted.numpy() == labels).mean()))


def fit_result(best_epoch, epochs_run, seconds, images_seen, busy_seconds):
    return loop.FitResult({}, best_epoch, 0.5, epochs_run, 999, seconds, images_seen, busy_seconds)


def test_the_record_sums_the_fits_and_scores_the_reloaded_net_with_test_time_flips(
    params, prepared, tmp_path, monkeypatch, caplog
):
    """Scores come from the checkpoint loaded back into a fresh net, with test-time flips; best_epoch is the first
    net's, epochs, seconds and images per busy second are the sums over every net's fit; the setting comes first."""
    dataset = load_dataset(prepared)
    recipe = recipe_of_the_run = effective_recipe("mlp", params["model"], params["cnn"]["mlp"])
    data = training_data(dataset, dataset.fit_indices()[:150], input_pipeline("mlp", params["cnn"]["mlp"], recipe))
    test_images, cpu = torch.from_numpy(dataset.test_images), torch.device("cpu")

    def net():
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 10))

    trained, calls = net(), []

    def logits(model, images, pipeline, device, recipe, tta=False, batch_size=None):
        calls.append(tta)
        assert pipeline is data.pipeline and device == cpu and recipe is recipe_of_the_run
        assert model is not trained and torch.equal(model[1].weight, trained[1].weight)  # the reloaded copy
        labels = dataset.test_labels if torch.equal(images, test_images) else data.labels[data.val_idx].numpy()
        return right_for_the_first(labels, len(images) * 3 // 4)  # a quarter of the rows peak elsewhere

    monkeypatch.setattr(train_module, "predict_logits", logits)
    fits = [fit_result(3, 5, 12.34, 500, 10.0), fit_result(2, 4, 1.0, 300, 20.0)]
    paths = Layout(tmp_path).cnn("mlp")
    setting = {"arch": "mlp", "weights": "random"}
    with caplog.at_level(logging.INFO, logger="fmnist.cnn.train"):
        metrics = train_and_record(
            "mlp", lambda curves: (trained, fits), net, dataset, data, recipe, cpu, paths, setting
        )
    assert calls == [True, True] and list(metrics)[:2] == ["arch", "weights"] and metrics["weights"] == "random"
    n_test, n_val = len(dataset.test_labels), len(data.val_idx)
    assert (
        metrics["test_accuracy"] == (n_test * 3 // 4) / n_test and metrics["val_accuracy"] == (n_val * 3 // 4) / n_val
    )
    assert (metrics["best_epoch"], metrics["epochs_run"], metrics["train_seconds"]) == (3, 9, 13.3)
    assert (metrics["images_per_second"], metrics["train_size"], metrics["params_count"]) == (26.7, 150, 7850)
    assert metrics["torch_threads"] == torch.get_num_threads() and metrics["device"].startswith("cpu")
    assert load_record(paths.record) == metrics and paths.predictions.is_file() and paths.checkpoint.is_file()
    line = f"mlp: test accuracy {metrics['test_accuracy']:.4f}, macro F1 {metrics['macro_f1']:.4f}"
    assert line in caplog.messages


def test_the_checkpoint_is_read_back_refusing_code_whatever_torchs_environment(
    params, prepared, tmp_path, monkeypatch, capsys
):
    """The saved checkpoint is loaded back with weights_only=True, passed, not left to torch's default."""
    allow_unsafe_loads_by_default(monkeypatch)

    class Unsafe(torch.nn.Linear):
        def state_dict(self, *args, **kwargs):
            return {"weight": RunsCode()}

    def net():
        return Unsafe(1, 1)

    dataset = load_dataset(prepared)
    recipe = effective_recipe("mlp", params["model"], params["cnn"]["mlp"])
    data = training_data(dataset, dataset.fit_indices(), input_pipeline("mlp", params["cnn"]["mlp"], recipe))
    fits, paths = [fit_result(1, 1, 1.0, 10, 1.0)], Layout(tmp_path).cnn("mlp")
    with pytest.raises(pickle.UnpicklingError):
        train_and_record(
            "mlp", lambda curves: (net(), fits), net, dataset, data, recipe, torch.device("cpu"), paths, {}
        )
    assert RAN not in capsys.readouterr().out and not paths.checkpoint.exists()


def test_each_boosted_member_is_summarised_with_its_own_fit_and_test_accuracy_with_flips(monkeypatch):
    """Member k's summary: its number, its fit's numbers, and the test accuracy of its own net (test-time flips)."""
    members = [torch.nn.Linear(1, 10) for _ in range(3)]
    labels = np.arange(40) % 10
    calls = []

    def logits(net, images, pipeline, device, recipe, tta=False, batch_size=None):
        calls.append(tta)
        assert images is test_images and (pipeline, device, recipe) == ("pipeline", "device", "recipe")
        return right_for_the_first(labels, 10 * (members.index(net) + 1))  # member k: the first 10k right

    monkeypatch.setattr(train_module, "predict_logits", logits)
    fits = [loop.FitResult({}, k, k / 10, k + 1, 100 - k, k + 0.04, 0, 1.0) for k in (1, 2, 3)]
    test_images = torch.zeros(40, 28, 28)
    summaries = member_summaries(Ensemble(members), fits, test_images, labels, "pipeline", "device", "recipe")
    assert calls == [True] * 3
    assert summaries == [
        {
            "net": k,
            "train_size": 100 - k,
            "best_epoch": k,
            "epochs_run": k + 1,
            "val_accuracy": k / 10,
            "test_accuracy": k / 4,
            "train_seconds": float(k),
        }
        for k in (1, 2, 3)
    ]


def test_boosting_picks_net2s_images_from_net1s_right_answers_and_net3s_from_their_disagreements(
    params, prepared, tmp_path, monkeypatch, caplog
):
    """The wiring of the picks: net 2's from where net 1 is right (a generator seeded by the recipe, the arch named
    for its messages), net 3's from where nets 1 and 2 disagree, each net's predictions on the training images; each
    net's training set size is logged."""
    predictions, picks, sizes = [], [], [180]
    labels = np.load(prepared / "train_labels.npy")

    def recording_predict(*args, **kwargs):
        logits = predict_logits(*args, **kwargs)
        predictions.append(logits.argmax(1).numpy())
        return logits

    def second(train_idx, net1_correct, generator, arch):
        picks.append(("second", arch, generator.initial_seed()))
        assert np.array_equal(net1_correct, predictions[-1] == labels[train_idx])
        sizes.append(len(second_net_indices(train_idx, net1_correct, generator, arch)))
        return second_net_indices(train_idx, net1_correct, generator, arch)

    def third(train_idx, net1_pred, net2_pred, arch):
        picks.append(("third", arch, len(predictions)))
        assert np.array_equal(net1_pred, predictions[0]) and np.array_equal(net2_pred, predictions[1])
        sizes.append(len(third_net_indices(train_idx, net1_pred, net2_pred, arch)))
        return third_net_indices(train_idx, net1_pred, net2_pred, arch)

    monkeypatch.setattr(train_module, "predict_logits", recording_predict)
    monkeypatch.setattr(train_module, "second_net_indices", second)
    monkeypatch.setattr(train_module, "third_net_indices", third)
    with caplog.at_level(logging.INFO, logger="fmnist.cnn.train"):
        train("lenet5_boosted", params, prepared, tmp_path)
    assert picks == [("second", "lenet5_boosted", params["model"]["seed"]), ("third", "lenet5_boosted", 2)]
    for number, size in enumerate(sizes, start=1):
        assert f"lenet5_boosted net {number}: training on {size} images" in caplog.messages


def test_an_imagenet_archs_skeleton_is_built_with_random_weights(params, monkeypatch):
    """The skeleton only receives the checkpoint: building it never reads or downloads ImageNet weights."""
    built = []
    monkeypatch.setattr(train_module, "build_net", lambda arch, settings: built.append(settings["weights"]))
    skeleton("efficientnet_lite0", {**params["cnn"]["efficientnet_lite0"], "weights": "imagenet"})
    assert built == ["random"]


def test_an_arch_hands_its_name_setting_learning_rate_and_seeded_share_to_the_record(
    params, prepared, tmp_path, monkeypatch, caplog
):
    """train_architecture's own part (train_and_record stubbed): the record is named after the arch and carries an
    ImageNet arch's setting (a small net's: its arch alone); the net trains on the seeded, stratified share of the
    training split with the arch's scaled learning rate."""
    caplog.set_level(logging.INFO, logger="fmnist.cnn.train")
    handed = {}

    def record(name, train, skeleton, dataset, data, recipe, device, paths, setting):
        handed.update(name=name, data=data, recipe=recipe, setting=setting)

    monkeypatch.setattr(train_module, "train_and_record", record)
    settings = copy.deepcopy(params)
    resnet = settings["cnn"]["resnet18"]
    resnet.update(weights="random", weights_file=None, input_size=32, train_fraction=0.5)
    train("resnet18", settings, prepared, tmp_path)
    assert handed["name"] == "resnet18"
    assert handed["setting"] == {
        "arch": "resnet18",
        **{key: resnet[key] for key in ("weights", "freeze", "train_fraction", "input_size")},
    }
    assert handed["recipe"].lr == pytest.approx(settings["model"]["lr"] * resnet["lr_scale"])
    assert resnet["lr_scale"] != 1
    dataset = load_dataset(prepared)
    share = training_indices(dataset, resnet, settings["model"]["seed"])
    assert len(share) < len(dataset.fit_indices())
    np.testing.assert_array_equal(handed["data"].train_idx, share)
    assert f"resnet18 on cpu: {len(share)} training, {len(dataset.val_indices)} validation images" in caplog.messages

    train("mlp", params, prepared, tmp_path)
    assert handed["name"] == "mlp" and handed["setting"] == {"arch": "mlp"}
