"""The fine-tune stage on tiny data: each mode takes real optimiser steps, `freeze: backbone` leaves the backbone's
tensors as they were, the frozen head's training on cached features is the training through the network, the
checkpoint scores as recorded, and a local ResNet-18 weights file takes the same path as ImageNet's."""

import copy
import logging
import math
import re
import threading
import urllib.error
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from fmnist import side_by_side
from fmnist.backbones import PooledStages
from fmnist.backbones.weights import sha256_of
from fmnist.classes import CLASS_NAMES
from fmnist.cnn import finetune as F
from fmnist.cnn import loop
from fmnist.cnn.inference import predict_logits
from fmnist.cnn.loop import TrainingData, fit, seed_everything
from fmnist.cnn.nets import TrainOnly
from fmnist.cnn.recipes import input_pipeline, training_indices
from fmnist.data import load_dataset
from fmnist.errors import PipelineError
from fmnist.layout import Layout
from fmnist.records import load_record
from tests.support.loggers import Quiet

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def finetune_params():
    params = yaml.safe_load((REPO / "params.yaml").read_text())["finetune"]
    params["recipe"].update(batch_size=32, device="cpu")
    for run in params["runs"]:
        params[run].update(input_size=32, epochs=2, head_hidden=16)
    return params


def settings_of(params, run, **changes):
    return {**copy.deepcopy(params[run]), **changes}


def run(params, run_name, prepared, root, **changes):
    settings = settings_of(params, run_name, **changes)
    return settings, F.train_finetune(run_name, params["recipe"], settings, prepared, Layout(root).cnn(run_name))


def state_of(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


@pytest.mark.parametrize("run_name", ["lite0_whole_10", "lite0_last_layer", "lite0_frozen_head"])
def test_each_mode_trains_and_its_checkpoint_scores_as_recorded(finetune_params, prepared, tmp_path, run_name):
    settings, metrics = run(finetune_params, run_name, prepared, tmp_path, train_fraction=1.0)
    paths = Layout(tmp_path).cnn(run_name)
    assert load_record(paths.record) == metrics
    for key in ("arch", "freeze", "train_fraction", "input_size", "head", "pooled_stages", "weights"):
        assert metrics[key] == settings[key]
    assert metrics["epochs_run"] == 2 and metrics["train_size"] == 180
    net = F.build_finetune_net({**settings, "weights": "random"}, "x")
    net.load_state_dict(torch.load(paths.checkpoint, weights_only=True))
    recipe = F.finetune_recipe(run_name, finetune_params["recipe"], settings)
    images = torch.from_numpy(np.load(prepared / "test_images.npy"))
    predicted = predict_logits(
        net, images, input_pipeline(settings["arch"], settings, recipe), torch.device("cpu"), recipe, tta=True
    )
    table = pd.read_csv(paths.predictions)
    assert [CLASS_NAMES[i] for i in predicted.argmax(1)] == table["predicted"].tolist()
    assert (paths.curves / "plots" / "metrics" / "val" / "acc.tsv").is_file()


def tiny_data(prepared, settings, recipe):
    dataset = load_dataset(prepared)
    idx = dataset.fit_indices()
    return TrainingData(
        torch.from_numpy(dataset.train_images),
        torch.from_numpy(dataset.train_labels),
        idx,
        dataset.val_indices,
        input_pipeline(settings["arch"], settings, recipe),
    )


@pytest.mark.parametrize(
    "run_name, own_recipe, key",
    [
        ("lite0_whole_10", {}, "finetune.recipe.lr"),
        ("lite0_frozen_head", {"lr": 0.02}, "finetune.lite0_frozen_head.recipe.lr"),  # a head on cached features
    ],
)
def test_a_diverged_run_names_the_params_key_of_its_learning_rate(
    finetune_params, prepared, tmp_path, monkeypatch, run_name, own_recipe, key
):
    monkeypatch.setattr(loop, "evaluate", lambda model, data, recipe, device: (math.nan, 0.0))
    lr = own_recipe.get("lr", finetune_params["recipe"]["lr"])
    with pytest.raises(PipelineError, match=re.escape(f"(`{key}` = {lr}). Lower it in params.yaml")):
        run(finetune_params, run_name, prepared, tmp_path, recipe=own_recipe)


@pytest.mark.parametrize("head", ["linear", "mlp"])
def test_freeze_leaves_every_backbone_tensor_as_it_was_and_trains_the_head(finetune_params, prepared, head):
    settings = settings_of(finetune_params, "lite0_last_layer", head=head)
    recipe = F.finetune_recipe("run", finetune_params["recipe"], {**settings, "epochs": 1})
    seed_everything(0)
    net = F.build_finetune_net(settings, "x")
    assert isinstance(net, TrainOnly)
    before = state_of(net.net)
    F.fit_frozen(net, tiny_data(prepared, settings, recipe), recipe, torch.device("cpu"), Quiet(), "frozen")
    after = state_of(net.net)
    backbone = [k for k in before if k.startswith("features.")]
    assert backbone and all(torch.equal(before[k], after[k]) for k in backbone)  # running statistics too
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("head."))


def test_the_whole_network_trains_when_nothing_is_frozen(finetune_params, prepared):
    settings = settings_of(finetune_params, "lite0_whole_100")
    recipe = F.finetune_recipe("run", finetune_params["recipe"], {**settings, "epochs": 1})
    seed_everything(0)
    net = F.build_finetune_net(settings, "x")
    before = state_of(net)
    fit(net, tiny_data(prepared, settings, recipe), recipe, torch.device("cpu"), Quiet(), "whole")
    changed = {k.split(".")[0] for k, v in state_of(net).items() if not torch.equal(before[k], v)}
    assert changed == {"features", "head"}


def test_a_head_trained_on_cached_features_is_the_head_trained_through_the_frozen_network(finetune_params, prepared):
    """Without flips (no random view to draw), the same seed gives the same head both ways, to float tolerance."""
    settings = settings_of(finetune_params, "lite0_last_layer", augment=False)
    recipe = F.finetune_recipe("run", finetune_params["recipe"], {**settings, "epochs": 1})
    heads = []
    for cached in (True, False):
        seed_everything(0)
        net = F.build_finetune_net(settings, "x")
        data = tiny_data(prepared, settings, recipe)
        if cached:
            F.fit_frozen(net, data, recipe, torch.device("cpu"), Quiet(), "cached")
        else:
            fit(net, data, recipe, torch.device("cpu"), Quiet(), "through")
        heads.append(state_of(net.net.head))
    assert all(torch.allclose(heads[0][k], heads[1][k], atol=1e-4) for k in heads[0])


def test_cached_views_draw_the_mirror_about_half_the_time_and_evaluate_on_the_image_itself():
    views = torch.stack([torch.zeros(1000, 3), torch.ones(1000, 3)], dim=1)
    draws = []
    for global_seed in (0, 1):  # the views come from the generator given, whatever torch's global one holds
        torch.manual_seed(global_seed)
        draws.append(F.CachedViews().train(views, torch.Generator().manual_seed(0)))
    drawn = draws[0]
    assert torch.equal(*draws)
    assert 400 < int(drawn[:, 0].sum()) < 600 and set(drawn[:, 0].tolist()) == {0.0, 1.0}
    assert torch.equal(F.CachedViews().eval(views), torch.zeros(1000, 3))
    assert F.CachedViews().hflip is False  # predict_logits must not mirror a feature vector


def test_cached_features_hold_each_image_and_its_mirror(finetune_params, prepared):
    settings = settings_of(finetune_params, "lite0_last_layer", pooled_stages=0)
    recipe = F.finetune_recipe("run", finetune_params["recipe"], settings)
    net = F.build_finetune_net(settings, "x")
    data = tiny_data(prepared, settings, recipe)
    cache = F.cache_features(net.net.features, data, torch.device("cpu"), recipe, "test")
    assert cache.shape == (200, 2, 1280)
    image = data.pipeline.eval(data.images[:1])
    with torch.no_grad():
        own, mirrored = net.net.features(image), net.net.features(image.flip(-1))
    assert torch.allclose(cache[0, 0], own[0], atol=1e-4) and torch.allclose(cache[0, 1], mirrored[0], atol=1e-4)
    assert not torch.allclose(cache[0, 0], cache[0, 1])


def test_cached_features_run_side_by_side_on_the_cpu_with_the_bits_of_one_batch_after_another(
    finetune_params, prepared, monkeypatch
):
    """Two batches of 100 at once, one torch thread each, then torch's two threads back; no autograd graph in the
    workers, though the features' weights would take gradients."""
    monkeypatch.setattr(side_by_side, "available_cores", lambda: 2)
    settings = settings_of(finetune_params, "lite0_last_layer", pooled_stages=0, freeze="none")
    recipe = F.finetune_recipe("run", finetune_params["recipe"], settings)
    features = F.build_finetune_net(settings, "x").features
    data = tiny_data(prepared, settings, recipe)
    seen = []
    features.register_forward_pre_hook(
        lambda module, args: seen.append((threading.get_ident(), torch.get_num_threads()))
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        cache = F.cache_features(features, data, torch.device("cpu"), recipe, "test")
        assert torch.get_num_threads() == 2
        assert {count for _, count in seen} == {1} and len({thread for thread, _ in seen}) == 2
        with torch.no_grad():
            image = data.pipeline.eval(data.images[:100]).contiguous(memory_format=torch.channels_last)
            one_after_another = features(image)
    finally:
        torch.set_num_threads(threads)
    assert not cache.requires_grad
    assert torch.equal(cache[:100, 0], one_after_another)


def test_pooled_stages_widen_the_heads_input(finetune_params):
    settings = settings_of(finetune_params, "lite0_frozen_head", pooled_stages=2, pool_grid=1)
    net = F.build_finetune_net(settings, "x")
    assert net.net.head[0].num_features == 192 + 320 + 1280  # standardize: the batch norm first
    with torch.no_grad():
        assert net.eval()(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_pool_grid_gives_each_maps_cell_means_in_channel_order(finetune_params):
    """pool_grid 2: each map's mean over each of its 2 x 2 quadrants, channel by channel, so the head's input is
    4 x as wide and keeps where in the image a feature fired."""
    settings = settings_of(finetune_params, "lite0_frozen_head", pooled_stages=1, pool_grid=2)
    net = F.build_finetune_net(settings, "x")
    assert net.net.head[0].num_features == 4 * (320 + 1280)
    features = net.net.features.eval()
    image = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        maps = features.stage_outputs(features.network, image)[-2:]
        pooled = features(image)
    quadrants = [m[0].unflatten(1, (2, -1)).unflatten(3, (2, -1)).mean((2, 4)).flatten() for m in maps]
    assert torch.allclose(pooled[0], torch.cat(quadrants), atol=1e-5)
    top_left, bottom_right = quadrants[0].view(320, 4)[:, 0], quadrants[0].view(320, 4)[:, 3]
    assert not torch.allclose(top_left, bottom_right)


def test_pool_grid_one_is_the_global_mean_bit_for_bit(finetune_params):
    """pool_grid 1 keeps the global-average features that the other runs and the lite0 feature set were made with."""
    plain = F.build_finetune_net(settings_of(finetune_params, "lite0_frozen_head", pool_grid=1), "x").net.features
    image = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        maps = plain.eval().stage_outputs(plain.network, image)
        assert torch.equal(plain(image), torch.cat([m.mean((2, 3)) for m in maps], dim=1))


def test_pool_grid_on_a_backbone_that_exposes_no_stages_stops_with_the_key(finetune_params):
    settings = settings_of(
        finetune_params, "lite0_frozen_head", arch="resnet18", weights="random", pooled_stages=0, pool_grid=2
    )
    with pytest.raises(PipelineError, match=r"`finetune.x.pool_grid` = 2, but ResNet-18 exposes 0"):
        F.build_finetune_net(settings, "finetune.x")


def test_pooled_stages_of_a_backbone_that_exposes_none_stop_with_the_key(finetune_params):
    settings = settings_of(finetune_params, "lite0_frozen_head", arch="resnet18", weights="random", pooled_stages=1)
    with pytest.raises(PipelineError, match=r"`finetune.x.pooled_stages` = 1, but ResNet-18 exposes 0"):
        F.build_finetune_net(settings, "finetune.x")


def test_a_local_resnet18_weights_file_verified_by_checksum_fine_tunes(finetune_params, prepared, tmp_path):
    """Machines with ResNet-18's ImageNet weights take this path: a state_dict file checked by SHA-256, then a step."""
    from fmnist.backbones import BACKBONES

    torch.manual_seed(0)
    state = BACKBONES["resnet18"].construct().state_dict()
    path = tmp_path / "resnet18.pth"
    torch.save(state, path)
    settings = settings_of(
        finetune_params, "lite0_whole_10", arch="resnet18", weights_file=str(path), weights_sha256=sha256_of(path)
    )
    net = F.build_finetune_net(settings, "x")
    assert torch.equal(net.features.conv1.weight, state["conv1.weight"])
    recipe = F.finetune_recipe("run", finetune_params["recipe"], {**settings, "epochs": 1})
    result = fit(net, tiny_data(prepared, settings, recipe), recipe, torch.device("cpu"), Quiet(), "resnet18")
    assert result.epochs_run == 1
    assert not torch.equal(net.features.conv1.weight, state["conv1.weight"])


@pytest.mark.parametrize("kind", ["linear", "mlp"])
def test_standardize_puts_a_batch_norm_on_the_heads_input_and_a_linear_head_stays_affine(kind):
    torch.manual_seed(0)
    plain, scaled = F.new_head(kind, 8, 4, 0.5), F.new_head(kind, 8, 4, 0.5, standardize=True)
    assert not isinstance(plain[0] if kind == "mlp" else plain, torch.nn.BatchNorm1d)
    assert isinstance(scaled[0], torch.nn.BatchNorm1d) and scaled[0].num_features == 8
    x = torch.randn(64, 8) * torch.logspace(-3, 3, 8)  # features of very different scales
    scaled.train()(x)  # one training pass: the batch norm learns the inputs' scale
    assert torch.allclose(scaled[0].running_var, 0.9 + 0.1 * x.var(0), rtol=1e-3)
    if kind == "linear":
        scaled.eval()
        a, b = torch.randn(2, 8), torch.randn(2, 8)
        assert torch.allclose(scaled((a + b) / 2), (scaled(a) + scaled(b)) / 2, atol=1e-5)


def test_random_erasing_reaches_a_fine_tunes_input_and_augment_false_turns_it_off(finetune_params):
    settings = settings_of(finetune_params, "lite0_whole_10", recipe={"random_erasing": 1.0})
    recipe = F.finetune_recipe("lite0_whole_10", finetune_params["recipe"], settings)
    images = torch.full((4, 28, 28), 200, dtype=torch.uint8)
    erased = input_pipeline(settings["arch"], settings, recipe).train(images, torch.Generator().manual_seed(0))
    assert (erased == 0).flatten(1).any(1).all()  # a rectangle set to 0 in every image
    plain = input_pipeline(settings["arch"], {**settings, "augment": False}, recipe)
    assert not (plain.train(images, torch.Generator().manual_seed(0)) == 0).any()


def test_a_frozen_fit_counts_the_features_time_and_logs_it(finetune_params, prepared, monkeypatch, caplog):
    """The features' seconds (their own clock) are added to the fit's wall and busy seconds and logged with the
    number of images; the features' progress bar is named after the run."""
    settings = settings_of(finetune_params, "lite0_last_layer", augment=False)
    recipe = F.finetune_recipe("run", finetune_params["recipe"], {**settings, "epochs": 1})
    data = tiny_data(prepared, settings, recipe)
    names = []

    def cache_features(features, data, device, recipe, name):
        names.append(name)
        return torch.zeros(len(data.images), 1, 4)

    ticks = iter([100.0, 107.0])
    head_fit = loop.FitResult({}, 1, 0.5, 1, 10, 2.0, 10, 1.0)
    monkeypatch.setattr(F, "cache_features", cache_features)
    monkeypatch.setattr(F, "time", SimpleNamespace(perf_counter=lambda: next(ticks)))
    fits = []
    monkeypatch.setattr(F, "fit", lambda *args: fits.append(args) or head_fit)
    net, logger, sources = F.build_finetune_net(settings, "x"), Quiet(), {"finetune.recipe.lr": 0.1}
    with caplog.at_level(logging.INFO, logger="fmnist.cnn.finetune"):
        result = F.fit_frozen(net, data, recipe, torch.device("cpu"), logger, "ft", sources)
    assert names == ["ft"] and (result.seconds, result.busy_seconds) == (9.0, 8.0)
    [(head, head_data, fit_recipe, device, fit_logger, name, lr_sources)] = fits  # the head alone, on the cache
    assert head is net.net.head and isinstance(head_data.pipeline, F.CachedViews) and head_data.images.shape[-1] == 4
    assert (fit_recipe, device, fit_logger, name, lr_sources) == (recipe, torch.device("cpu"), logger, "ft", sources)
    assert f"ft: frozen features of {len(data.train_idx) + len(data.val_idx)} images in 7 s" in caplog.messages


@pytest.mark.parametrize("run_name, fitter", [("lite0_whole_50", "fit"), ("lite0_frozen_head", "fit_frozen")])
def test_a_run_hands_its_setting_recipe_share_and_fitter_to_the_record(
    finetune_params, prepared, tmp_path, monkeypatch, caplog, run_name, fitter
):
    """train_finetune's own part (train_and_record, fit and fit_frozen stubbed): the record is named after the run
    and carries its setting; the net trains on the run's seeded, stratified share with its recipe and input pipeline,
    whole (fit) or head only (fit_frozen), logging to the curves' scope with the run's learning-rate sources; the
    skeleton that reads the checkpoint back is the run's network built with random weights (no ImageNet read)."""
    caplog.set_level(logging.INFO, logger="fmnist.cnn.finetune")
    settings = settings_of(finetune_params, run_name, train_fraction=0.5)
    recipe = F.finetune_recipe(run_name, finetune_params["recipe"], settings)
    built, handed, fitted = [], {}, []
    build = F.build_finetune_net
    monkeypatch.setattr(F, "build_finetune_net", lambda s, prefix: built.append((s, prefix)) or build(s, prefix))
    for name in ("fit", "fit_frozen"):
        monkeypatch.setattr(F, name, lambda *args, name=name, **kwargs: fitted.append((name, args, kwargs)) or "fit")

    def record(name, train, skeleton, dataset, data, recipe, device, paths, setting):
        handed.update(name=name, dataset=dataset, data=data, recipe=recipe, device=device, paths=paths)
        handed.update(setting=setting, trained=train(SimpleNamespace(scope=lambda: "scope")), skeleton=skeleton())

    monkeypatch.setattr(F, "train_and_record", record)
    F.train_finetune(run_name, finetune_params["recipe"], settings, prepared, Layout(tmp_path).cnn(run_name))

    assert handed["name"] == run_name and handed["paths"] == Layout(tmp_path).cnn(run_name)
    assert handed["setting"] == {key: settings[key] for key in F.SETTING_KEYS}
    assert handed["recipe"] == recipe and handed["device"] == torch.device("cpu")
    dataset = load_dataset(prepared)
    share = training_indices(dataset, settings, recipe.seed)
    assert len(share) < len(dataset.fit_indices())
    data = handed["data"]
    np.testing.assert_array_equal(data.train_idx, share)
    np.testing.assert_array_equal(data.val_idx, dataset.val_indices)
    assert data.pipeline == input_pipeline(settings["arch"], settings, recipe)
    assert f"{run_name} on cpu: {len(share)} training, {len(dataset.val_indices)} validation images" in caplog.messages
    [(name, args, kwargs)] = fitted
    net = handed["trained"][0]
    assert name == fitter and handed["trained"] == (net, ["fit"])
    assert args == (net, data, recipe, torch.device("cpu"), "scope", run_name)
    assert kwargs == {"lr_sources": F.finetune_learning_rate(run_name, finetune_params["recipe"], settings).sources}
    prefix = f"finetune.{run_name}"
    assert settings["weights"] == "imagenet" and built == [
        (settings, prefix),
        ({**settings, "weights": "random"}, prefix),
    ]
    assert isinstance(handed["skeleton"], type(net)) and handed["skeleton"] is not net


def test_a_runs_network_is_its_backbone_its_pooling_and_its_own_head(finetune_params):
    """The whole network reads the backbone's own pooled output into one linear layer; pooled stages or a pool grid
    put the pooling in between (a grid of 2 x 2 cells with no stages: four values a channel); a linear run's head is
    linear, an mlp run's a hidden layer, each behind a batch norm when it standardises."""
    whole = F.build_finetune_net(settings_of(finetune_params, "lite0_whole_100"), "x")
    assert not isinstance(whole.features, PooledStages) and isinstance(whole.head, torch.nn.Linear)
    assert whole.head.in_features == 1280
    gridded = F.build_finetune_net(settings_of(finetune_params, "lite0_whole_100", pool_grid=2), "x")
    assert isinstance(gridded.features, PooledStages) and gridded.head.in_features == 4 * 1280
    assert gridded(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    linear = F.build_finetune_net(settings_of(finetune_params, "lite0_last_layer"), "x").net
    assert [type(layer) for layer in linear.head] == [torch.nn.BatchNorm1d, torch.nn.Linear]
    mlp = F.build_finetune_net(settings_of(finetune_params, "lite0_frozen_head"), "x").net
    assert isinstance(mlp.head[1], torch.nn.Sequential) and len(mlp.head[1]) == 5


def test_missing_imagenet_weights_stop_naming_the_runs_key(finetune_params, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("network unreachable")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
    settings = settings_of(finetune_params, "lite0_whole_10", arch="resnet18", weights_file=None)
    with pytest.raises(PipelineError, match=r"`finetune.lite0_whole_10.weights: imagenet`\) could not be had"):
        F.build_finetune_net(settings, "finetune.lite0_whole_10")
