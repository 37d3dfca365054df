"""The training loop on tiny data: one epoch's pass and its batch numbering, validation, early stopping,
the best state, and flip test-time augmentation."""

import dataclasses
import logging
import math
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import yaml
from torch import nn

from fmnist.cnn import inference, loop
from fmnist.cnn.augment import SmallNetInput, translate
from fmnist.cnn.inference import predict_logits
from fmnist.cnn.loop import TrainingData, evaluate, fit, make_trainer, seed_everything, train_one_epoch
from fmnist.cnn.nets import build_net
from fmnist.cnn.recipes import input_pipeline
from fmnist.errors import PipelineError
from fmnist.recipe import Recipe
from tests.support.tiny_params import tiny_cnn

REPO = Path(__file__).resolve().parents[2]
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def params():
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    tiny_cnn(params)
    return params


class Recorder:
    def __init__(self):
        self.batches, self.losses, self.epochs = [], [], []

    def batch(self, step, loss):
        self.batches.append(step)
        self.losses.append(loss)

    def epoch(self, epoch, values):
        self.epochs.append(epoch)


def tiny_data(recipe: Recipe, train: int = 40, val: int = 20) -> TrainingData:
    """`train` + `val` random images with labels cycling through the classes."""
    images = torch.randint(0, 256, (train + val, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    labels = torch.arange(train + val) % 10
    return TrainingData(
        images, labels, np.arange(train), np.arange(train, train + val), input_pipeline("mlp", {}, recipe)
    )


def test_flip_tta_scores_the_mean_of_image_and_mirror_for_nets_trained_on_flips(params):
    recipe = Recipe.from_params({**params["model"], "tta_hflip": True})
    images = torch.randint(0, 256, (6, 28, 28), dtype=torch.uint8)
    seed_everything(0)
    net = build_net("lenet5_bn", params["cnn"]["lenet5_bn"])
    trained_on_flips, trained_unflipped = SmallNetInput(0, hflip=True), SmallNetInput(0, hflip=False)
    own = predict_logits(net, images, trained_on_flips, CPU, recipe)  # tta not asked for: one view
    mirror = predict_logits(net, images.flip(-1), trained_on_flips, CPU, recipe)
    assert not torch.allclose(own, mirror)
    assert torch.allclose(
        predict_logits(net, images, trained_on_flips, CPU, recipe, tta=True), (own + mirror) / 2, atol=1e-5
    )
    assert torch.equal(
        predict_logits(net, images, trained_unflipped, CPU, recipe, tta=True), own
    )  # never trained on flips
    no_tta = dataclasses.replace(recipe, tta_hflip=False)
    assert torch.equal(predict_logits(net, images, trained_on_flips, CPU, no_tta, tta=True), own)


def test_scoring_in_batches_gives_every_images_logits_in_order(params):
    """The CPU scores 100 images a pass (inference.EVAL_BATCH); 250 images make two full passes and a partial one."""
    recipe = Recipe.from_params(params["model"])
    images = torch.randint(0, 256, (250, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(2))
    seed_everything(0)
    net = build_net("lenet5_bn", params["cnn"]["lenet5_bn"])
    pipeline = SmallNetInput(0, hflip=False)
    batched = predict_logits(net, images, pipeline, CPU, recipe)
    assert inference.EVAL_BATCH["cpu"] < len(images) and batched.shape == (250, 10)
    one_pass = predict_logits(net, images, pipeline, CPU, recipe, batch_size=len(images))
    assert torch.allclose(batched, one_pass, atol=1e-5)
    assert torch.allclose(batched, predict_logits(net, images, pipeline, CPU, recipe, batch_size=7), atol=1e-5)
    assert torch.allclose(batched[123], predict_logits(net, images[123:124], pipeline, CPU, recipe)[0], atol=1e-5)


def test_shift_tta_adds_the_images_moved_both_ways_at_a_quarter_weight_each(params):
    recipe = Recipe.from_params({**params["model"], "tta_hflip": False, "tta_shift": 2})
    images = torch.randint(0, 256, (6, 28, 28), dtype=torch.uint8)
    seed_everything(0)
    net = build_net("lenet5_bn", params["cnn"]["lenet5_bn"])
    pipeline = SmallNetInput(0, hflip=True)
    own = predict_logits(net, images, pipeline, CPU, recipe)  # tta not asked for: one view
    down_right = predict_logits(net, translate(images, 2), pipeline, CPU, recipe)
    up_left = predict_logits(net, translate(images, -2), pipeline, CPU, recipe)
    assert not torch.allclose(own, down_right) and not torch.allclose(own, up_left)
    expected = own / 2 + down_right / 4 + up_left / 4
    assert torch.allclose(predict_logits(net, images, pipeline, CPU, recipe, tta=True), expected, atol=1e-5)
    with_flips = dataclasses.replace(recipe, tta_hflip=True)  # each of the three views with its mirror
    mirrored = predict_logits(net, images, pipeline, CPU, with_flips, tta=True)
    flipped = [predict_logits(net, translate(images, s).flip(-1), pipeline, CPU, recipe) for s in (0, 2, -2)]
    expected_mirrored = (own + flipped[0]) / 4 + (down_right + flipped[1]) / 8 + (up_left + flipped[2]) / 8
    assert torch.allclose(mirrored, expected_mirrored, atol=1e-5)


def test_no_images_give_no_logits_of_every_class(params):
    recipe = Recipe.from_params(params["model"])
    net = build_net("mlp", params["cnn"]["mlp"])
    empty = torch.empty(0, 28, 28, dtype=torch.uint8)
    assert predict_logits(net, empty, input_pipeline("mlp", {}, recipe), CPU, recipe).shape == (0, 10)


def test_seeding_seeds_torch_and_asks_for_deterministic_kernels(monkeypatch):
    """Deterministic kernels where torch has them (a warning, not an error, where it has none), and cuBLAS's fixed
    workspace that its deterministic mode needs on a GPU."""
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    seed_everything(3)
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8" and torch.initial_seed() == 3
    assert torch.are_deterministic_algorithms_enabled() and torch.is_deterministic_algorithms_warn_only_enabled()
    assert not torch.backends.cudnn.benchmark


def test_one_epoch_numbers_its_batches_after_the_earlier_epochs(params, capsys):
    recipe = Recipe.from_params({**params["model"], "epochs": 3})  # batches of 32: 2 per epoch of 40 images
    data = tiny_data(recipe)
    seed_everything(0)
    net = build_net("mlp", params["cnn"]["mlp"])
    recorder = Recorder()
    trainer = make_trainer(net, len(data.train_idx), recipe, CPU, recorder, "mlp")
    result = train_one_epoch(trainer, data, torch.Generator().manual_seed(0), epoch=2)
    assert recorder.batches == [3, 4] and recorder.epochs == []  # the epoch's values are fit's to report
    assert all(isinstance(loss, float) and loss > 0 for loss in recorder.losses) and len(recorder.losses) == 2
    assert result.images == 40 and result.busy_seconds > 0
    assert 0 <= result.accuracy <= 1 and result.loss > 0
    assert net.training
    bar = capsys.readouterr().err  # the epoch's progress bar, counted in images, wiped when the epoch ends
    assert "mlp 2/3:" in bar and "/40.0 [" in bar and "img/s]" in bar and bar.endswith("\r") and "100%" not in bar


class UniformLogits(nn.Module):
    """Equal logits for every image whatever its weight: each loss is ln 10, and argmax says class 0."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return torch.zeros(len(x), 10) + 0 * self.weight


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_the_training_loss_is_cross_entropy_with_the_recipes_label_smoothing(params, smoothing):
    class FavoursClassZero(UniformLogits):
        def forward(self, x):
            return super().forward(x) + 2 * torch.eye(10)[0]

    recipe = Recipe.from_params({**params["model"], "epochs": 1, "label_smoothing": smoothing})
    # Every image of class 0: with labels spread evenly over the classes, smoothing would not change the mean loss.
    data = dataclasses.replace(tiny_data(recipe), labels=torch.zeros(60, dtype=torch.int64))
    trainer = make_trainer(FavoursClassZero(), len(data.train_idx), recipe, CPU, Recorder(), "favours")
    result = train_one_epoch(trainer, data, torch.Generator().manual_seed(0), epoch=1)
    expected = F.cross_entropy(2 * torch.eye(10)[:1], torch.zeros(1, dtype=torch.int64), label_smoothing=smoothing)
    assert result.loss == pytest.approx(expected.item(), rel=1e-6) and result.accuracy == 1.0


class ThreeChannels:
    """An input pipeline that gives each grayscale image as three channels, as the ImageNet backbones get it."""

    def train(self, images, generator):
        return images[:, None].float().expand(-1, 3, -1, -1).contiguous()


@pytest.mark.parametrize("channels_last", [True, False])
def test_training_batches_reach_the_net_in_the_recipes_memory_layout(params, channels_last):
    layouts = []

    class Layout(UniformLogits):
        def forward(self, x):
            layouts.append(x.is_contiguous(memory_format=torch.channels_last))
            return super().forward(x)

    recipe = Recipe.from_params({**params["model"], "epochs": 1, "channels_last": channels_last})
    data = dataclasses.replace(tiny_data(recipe), pipeline=ThreeChannels())
    trainer = make_trainer(Layout(), len(data.train_idx), recipe, CPU, Recorder(), "layout")
    train_one_epoch(trainer, data, torch.Generator().manual_seed(0), epoch=1)
    assert layouts == [channels_last] * 2


def test_an_images_prediction_is_its_own_rows_largest_logit(params):
    class ReadsItsClass(UniformLogits):
        """Logits that favour the class written in an image's first pixel."""

        def forward(self, x):
            return super().forward(x) + 5 * F.one_hot(x[:, 0, 0, 0].long(), 10)

    class AsIs:
        def train(self, images, generator):
            return images[:, None].float()

    recipe = Recipe.from_params({**params["model"], "epochs": 1})
    data = tiny_data(recipe)
    images = data.labels[:, None, None].expand(-1, 28, 28).to(torch.uint8)
    data = dataclasses.replace(data, images=images, pipeline=AsIs())
    trainer = make_trainer(ReadsItsClass(), len(data.train_idx), recipe, CPU, Recorder(), "reads")
    assert train_one_epoch(trainer, data, torch.Generator().manual_seed(0), epoch=1).accuracy == 1.0


def test_an_epochs_loss_and_accuracy_are_the_means_over_its_images(params):
    recipe = Recipe.from_params({**params["model"], "epochs": 1})
    data = tiny_data(recipe)  # 40 images, labels cycling through the classes: 4 of class 0
    trainer = make_trainer(UniformLogits(), len(data.train_idx), recipe, CPU, Recorder(), "uniform")
    result = train_one_epoch(trainer, data, torch.Generator().manual_seed(0), epoch=1)
    assert result.loss == pytest.approx(math.log(10), rel=1e-6) and result.accuracy == 4 / 40


@pytest.mark.parametrize("train, batches", [(33, 1), (65, 2), (32, 1), (34, 2), (64, 2), (1, 1), (31, 1)])
def test_only_a_last_batch_of_one_image_is_left_out(train, batches):
    # Batches of 32: 33 and 65 images would end on one image, which is dropped; other remainders are trained on, and a
    # single image that is the whole epoch stays.
    assert loop.steps_per_epoch(train, 32) == batches
    assert len(loop.batch_starts(train, 1)) == train  # batches of one: nothing to drop


def test_a_batch_norm_net_trains_when_the_training_set_leaves_one_image_over(params):
    # 33 images in batches of 32: a last batch of one image, on which batch norm in train mode raised
    # "Expected more than 1 value per channel when training" after the epoch's first batch had trained.
    recipe = Recipe.from_params({**params["model"], "epochs": 2, "patience": 2})
    seed_everything(0)
    net = build_net("lenet5_bn", params["cnn"]["lenet5_bn"])
    recorder = Recorder()
    result = fit(net, tiny_data(recipe, train=33), recipe, CPU, recorder, "lenet5_bn")
    assert recorder.batches == [1, 2] and recorder.epochs == [1, 2]  # one batch of 32 per epoch
    assert result.images_seen == 64 and result.train_size == 33


def test_evaluate_scores_the_validation_images_only(params):
    recipe = Recipe.from_params(params["model"])
    data = tiny_data(recipe)
    seed_everything(0)
    net = build_net("mlp", params["cnn"]["mlp"])
    loss, accuracy = evaluate(net, data, recipe, CPU)
    logits = predict_logits(net, data.images[40:], data.pipeline, CPU, recipe)
    assert accuracy == float((logits.argmax(1) == data.labels[40:]).float().mean())
    assert loss == pytest.approx(float(torch.nn.functional.cross_entropy(logits, data.labels[40:])))
    assert not net.training


def test_early_stopping_keeps_the_best_epoch_and_stops_after_patience(params, caplog):
    # A learning rate of ~0 leaves the validation accuracy where epoch 1 put it: no epoch improves on it.
    recipe = Recipe.from_params({**params["model"], "lr": 1e-12, "schedule": "constant", "epochs": 6, "patience": 2})
    seed_everything(0)
    net = build_net("mlp", params["cnn"]["mlp"])
    recorder = Recorder()
    started = time.perf_counter()
    with caplog.at_level(logging.INFO, logger=loop.__name__):
        result = fit(net, tiny_data(recipe), recipe, CPU, recorder, "mlp")
    assert 0 < result.busy_seconds < result.seconds <= time.perf_counter() - started  # the fit's wall clock
    assert (result.best_epoch, result.epochs_run) == (1, 3)
    stop = "mlp: early stop, no validation improvement for 2 epochs (best epoch 1)"
    assert stop in [record.getMessage() for record in caplog.records]
    assert recorder.epochs == [1, 2, 3]
    assert recorder.batches == list(range(1, 3 * 2 + 1))  # 40 images in batches of 32: 2 per epoch
    assert result.images_seen == 120 and result.train_size == 40
    assert all(torch.equal(v, result.best_state[k]) for k, v in net.state_dict().items())


def test_each_epoch_logs_its_number_of_all_and_the_figures_its_curves_get(params, caplog):
    class Values(Recorder):
        def epoch(self, epoch, values):
            self.epochs.append(values)

    recipe = Recipe.from_params({**params["model"], "epochs": 2, "patience": 5})
    seed_everything(0)
    recorder = Values()
    with caplog.at_level(logging.INFO, logger=loop.__name__):
        result = fit(build_net("mlp", params["cnn"]["mlp"]), tiny_data(recipe), recipe, CPU, recorder, "mlp")
    line = re.compile(r"mlp epoch (\d+)/2: train loss (\S+) acc (\S+), val loss (\S+) acc (\S+), (\d+) images/s")
    logged = [line.fullmatch(record.getMessage()) for record in caplog.records if " epoch " in record.getMessage()]
    assert [match[1] for match in logged] == ["1", "2"]
    for match, values in zip(logged, recorder.epochs, strict=True):
        keys = ("train/loss", "train/acc", "val/loss", "val/acc")
        assert list(match.groups()[1:5]) == [f"{values[key]:.4f}" for key in keys]
    assert all(0 < values["lr"] <= recipe.lr for values in recorder.epochs)  # the schedule's rate at the epoch's end
    rates = [int(match[6]) for match in logged]  # 40 training images an epoch
    assert min(rates) > 0 and sum(40 / rate for rate in rates) == pytest.approx(result.busy_seconds, rel=0.05)


def test_early_stopping_restores_the_best_epochs_weights_not_the_last_ones(params, monkeypatch):
    # Scripted validation accuracies: epoch 2 is the best, 3 and 4 do worse, and patience 2 stops the run after 4.
    # A real learning rate moves the weights every epoch, so the best epoch's state is not the last one's.
    accuracies, states = iter([0.3, 0.8, 0.5, 0.7]), []

    def scripted_evaluate(model, data, recipe, device):
        states.append({k: v.detach().clone() for k, v in model.state_dict().items()})  # the epoch's weights
        return 1.0, next(accuracies)

    monkeypatch.setattr(loop, "evaluate", scripted_evaluate)
    recipe = Recipe.from_params({**params["model"], "schedule": "constant", "epochs": 6, "patience": 2})
    seed_everything(0)
    net = build_net("mlp", params["cnn"]["mlp"])
    result = fit(net, tiny_data(recipe), recipe, CPU, Recorder(), "mlp")
    assert (result.best_epoch, result.epochs_run, result.best_val_accuracy) == (2, 4, 0.8)
    best, last = states[1], states[3]
    assert not all(torch.equal(best[k], last[k]) for k in best)
    for kept in (result.best_state, net.state_dict()):  # what fit returns, and the net it leaves behind
        assert kept.keys() == best.keys() and all(torch.equal(kept[k], best[k]) for k in best)


def test_fit_with_no_training_images_stops_with_a_message(params):
    recipe = Recipe.from_params(params["model"])
    data = dataclasses.replace(tiny_data(recipe), train_idx=np.arange(0))
    with pytest.raises(PipelineError, match="mlp net 2: no training images"):
        fit(build_net("mlp", params["cnn"]["mlp"]), data, recipe, CPU, Recorder(), "mlp net 2")


def test_a_diverging_run_stops_with_a_message_naming_the_net_the_epoch_and_the_key_of_its_lr(params):
    # Plain SGD at lr 10 on random images: the training loss grows to NaN (in epoch 7 here). Once the validation
    # accuracy of a NaN net no longer changed the best epoch, and the run ended "normally" with its metrics.
    recipe = Recipe.from_params(
        {**params["model"], "optimizer": "sgd", "lr": 10.0, "schedule": "constant", "epochs": 10, "patience": 10}
    )
    seed_everything(0)
    recorder = Recorder()
    net = build_net("mlp", params["cnn"]["mlp"])
    with pytest.raises(PipelineError) as error:
        fit(net, tiny_data(recipe), recipe, CPU, recorder, "mlp net 1", lr_sources={"cnn.mlp.recipe.lr": 10.0})
    message = str(error.value)
    found = re.match(r"mlp net 1: the training loss in epoch (\d+) \(batch [12] of 2\) became (nan|inf): ", message)
    assert found, message
    assert message.endswith(
        "training diverged at learning rate 10 (`cnn.mlp.recipe.lr` = 10.0). Lower it in params.yaml or your "
        "`dvc exp run -S` override."
    )
    assert recorder.epochs == list(range(1, int(found[1])))  # nothing reported for the diverged epoch


@pytest.mark.parametrize(
    "lr_sources, named",
    [
        (
            {"model.lr": 0.1, "cnn.resnet18.lr_scale": 0.3},
            "learning rate 0.03 (`model.lr` = 0.1 x `cnn.resnet18.lr_scale` = 0.3). Lower one of them in params.yaml",
        ),
        (None, "learning rate 0.03. Lower the learning rate in params.yaml"),  # a caller that does not know them
    ],
)
def test_the_divergence_message_names_every_key_the_learning_rate_comes_from(params, lr_sources, named):
    recipe = Recipe.from_params({**params["model"], "lr": 0.1 * 0.3})
    trainer = make_trainer(torch.nn.Linear(2, 1), 10, recipe, CPU, Recorder(), "resnet18", lr_sources)
    message = str(loop.diverged(trainer, "validation loss after epoch 3", math.nan))
    assert message == (
        f"resnet18: the validation loss after epoch 3 became nan: training diverged at {named} or your "
        "`dvc exp run -S` override."
    )


def test_a_non_finite_training_loss_is_caught_in_the_batch_it_appears(params):
    recipe = Recipe.from_params({**params["model"], "epochs": 3})
    data = tiny_data(recipe)
    seed_everything(0)
    net = build_net("mlp", params["cnn"]["mlp"])
    with torch.no_grad():
        next(net.parameters()).fill_(math.inf)  # every logit inf or NaN from the first batch on
    recorder = Recorder()
    trainer = make_trainer(net, len(data.train_idx), recipe, CPU, recorder, "mlp")
    with pytest.raises(PipelineError, match=r"^mlp: the training loss in epoch 2 \(batch 1 of 2\) became nan: "):
        train_one_epoch(trainer, data, torch.Generator().manual_seed(0), epoch=2)
    assert recorder.batches == []


def test_a_non_finite_validation_loss_stops_the_run_before_reporting_the_epoch(params):
    # Batch norm trains on batch statistics but validates with its running ones: a NaN running mean (as a
    # step that overflows after the epoch's last batch loss would leave it) breaks validation only.
    recipe = Recipe.from_params({**params["model"], "epochs": 3})
    seed_everything(0)
    net = build_net("lenet5_bn", params["cnn"]["lenet5_bn"])
    bn = next(m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d))
    bn.running_mean.fill_(math.nan)
    recorder = Recorder()
    with pytest.raises(PipelineError, match=r"^lenet5_bn: the validation loss after epoch 1 became nan: "):
        fit(net, tiny_data(recipe), recipe, CPU, recorder, "lenet5_bn")
    assert recorder.batches == [1, 2] and recorder.epochs == []


# The learning-rate schedule and the optimizer, against values worked out by hand from the recipe: a step count from
# the epochs and the batches per epoch (a last batch of one image dropped), one-cycle's warm-up share, peak and end.


def one_cycle_lr(step: int, total: int, peak: float, warmup: float) -> float:
    """One-cycle (torch's OneCycleLR with its default factors): from peak / 25, a half-cosine rise to `peak` at step
    warmup * total - 1, then a half-cosine fall to peak / 25 / 10^4 at the last step, total - 1."""
    start, end, top = peak / 25, peak / 25 / 1e4, warmup * total - 1
    if step <= top:
        frac, high, low = step / top, start, peak
    else:
        frac, high, low = (step - top) / (total - 1 - top), peak, end
    return low + (high - low) * (1 + math.cos(math.pi * frac)) / 2


def scheduled_lrs(recipe: Recipe, train_size: int) -> tuple[list[float], loop.Trainer]:
    """The learning rate of every step of make_trainer's schedule (as many as it was made for)."""
    trainer = make_trainer(torch.nn.Linear(2, 1), train_size, recipe, CPU, Recorder(), "probe")
    total = recipe.epochs * loop.steps_per_epoch(train_size, recipe.batch_size)
    lrs = []
    for _ in range(total):
        lrs.append(trainer.optimizer.param_groups[0]["lr"])
        trainer.optimizer.step()  # no gradients: changes nothing, keeps the scheduler's order check quiet
        trainer.schedule.step()
    return lrs, trainer


def test_onecycle_warms_up_for_the_recipes_share_to_the_peak_lr_then_anneals_by_cosine(params):
    # 101 images in batches of 10 make 10 steps an epoch (the last image is dropped), 100 in 10 epochs.
    recipe = Recipe.from_params(
        {
            **params["model"],
            "schedule": "onecycle",
            "lr": 0.004,
            "warmup_fraction": 0.25,
            "epochs": 10,
            "batch_size": 10,
        }
    )
    lrs, trainer = scheduled_lrs(recipe, train_size=101)
    assert len(lrs) == 100
    assert lrs == pytest.approx([one_cycle_lr(step, 100, 0.004, 0.25) for step in range(100)], rel=1e-9)
    assert lrs[0] == pytest.approx(0.004 / 25) and lrs[-1] == pytest.approx(0.004 / 25 / 1e4)
    assert int(np.argmax(lrs)) == 24 and lrs[24] == pytest.approx(0.004)  # the peak after a quarter of the steps
    assert lrs[12] == pytest.approx((0.004 / 25 + 0.004) / 2)  # half way up
    # A third of the way into the 75 steps of the fall, a cosine is (1 + cos(pi / 3)) / 2 = 3/4 of the way from the end
    # to the peak (a linear fall would be 2/3).
    assert lrs[24 + 25] == pytest.approx(0.004 / 25 / 1e4 + (0.004 - 0.004 / 25 / 1e4) * 3 / 4)
    with pytest.raises(ValueError, match="Tried to step 101 times"):
        trainer.schedule.step()  # made for exactly 100 steps


def test_cosine_warms_up_linearly_for_the_recipes_share_then_decays_to_zero(params):
    recipe = Recipe.from_params(
        {**params["model"], "schedule": "cosine", "lr": 0.01, "warmup_fraction": 0.4, "epochs": 10, "batch_size": 10}
    )
    lrs, trainer = scheduled_lrs(recipe, train_size=101)  # 100 steps: 40 of warm-up, 60 of decay
    assert len(lrs) == 100
    assert lrs[0] == pytest.approx(0.01 / 40) and lrs[19] == pytest.approx(0.01 / 2)  # 1/40, 20/40 of the lr
    assert lrs[39] == pytest.approx(0.01) and lrs[40] == pytest.approx(0.01)  # the last warm-up step, the peak
    assert lrs[55] == pytest.approx(0.01 * (2 + math.sqrt(2)) / 4)  # a quarter of the decay: (1 + cos(pi / 4)) / 2
    assert lrs[70] == pytest.approx(0.01 / 2)  # half way down
    assert lrs[99] == pytest.approx(0.01 * (1 - math.cos(math.pi / 60)) / 2)  # 59 of 60 decay steps: (1 + cos) / 2
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-15)  # after the last step: zero


def test_constant_schedule_keeps_the_recipes_lr(params):
    recipe = Recipe.from_params({**params["model"], "schedule": "constant", "lr": 0.003, "epochs": 3, "batch_size": 10})
    lrs, _ = scheduled_lrs(recipe, train_size=35)
    assert lrs == [0.003] * 12


def test_training_steps_the_schedule_once_per_batch_over_all_epochs(params):
    """The learning rate each batch trains with, through train_one_epoch: 21 images in batches of 4 make 5 batches an
    epoch (the last, single image waits), 15 steps in 3 epochs, over which the one cycle runs exactly once."""
    recipe = Recipe.from_params(
        {**params["model"], "schedule": "onecycle", "lr": 0.01, "warmup_fraction": 0.2, "epochs": 3, "batch_size": 4}
    )
    data = tiny_data(recipe, train=21)
    seed_everything(0)
    net = build_net("mlp", params["cnn"]["mlp"])

    class LrRecorder(Recorder):
        def batch(self, step, loss):
            super().batch(step, loss)
            lrs.append(trainer.optimizer.param_groups[0]["lr"])  # the next batch's

    trainer = make_trainer(net, len(data.train_idx), recipe, CPU, LrRecorder(), "mlp")
    lrs = [trainer.optimizer.param_groups[0]["lr"]]
    generator = torch.Generator().manual_seed(0)
    for epoch in (1, 2, 3):
        train_one_epoch(trainer, data, generator, epoch)
    assert trainer.logger.batches == list(range(1, 16))
    assert lrs[:15] == pytest.approx([one_cycle_lr(step, 15, 0.01, 0.2) for step in range(15)], rel=1e-9)
    assert max(lrs) == pytest.approx(0.01) and lrs.index(max(lrs)) == 2  # the peak at step 0.2 * 15 - 1
    with pytest.raises(ValueError, match="Tried to step 16 times"):
        trainer.schedule.step()


def test_sgd_takes_a_nesterov_step_with_the_recipes_momentum_and_weight_decay(params):
    recipe = Recipe.from_params(
        {**params["model"], "optimizer": "sgd", "lr": 0.1, "momentum": 0.5, "weight_decay": 0.1, "schedule": "constant"}
    )
    model = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, -2.0]]))
    trainer = make_trainer(model, 10, recipe, CPU, Recorder(), "probe")
    model.weight.grad = torch.tensor([[0.5, 0.5]])
    trainer.optimizer.step()
    # d = g + wd * w = [0.6, 0.3]; Nesterov: w - lr * (d + momentum * d) = w - 0.1 * 1.5 * d
    assert model.weight.detach().tolist()[0] == pytest.approx([1.0 - 0.15 * 0.6, -2.0 - 0.15 * 0.3])


def test_adamw_decouples_the_recipes_weight_decay_and_takes_momentum_as_beta1(params):
    recipe = Recipe.from_params(
        {
            **params["model"],
            "optimizer": "adamw",
            "lr": 0.1,
            "momentum": 0.5,
            "weight_decay": 0.1,
            "schedule": "constant",
        }
    )
    model = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(2.0)
    trainer = make_trainer(model, 10, recipe, CPU, Recorder(), "probe")
    model.weight.grad = torch.tensor([[0.3]])
    trainer.optimizer.step()  # decay by lr * wd, then a step of lr (Adam's first step: g / |g|)
    first = 2.0 * (1 - 0.01) - 0.1
    assert model.weight.item() == pytest.approx(first, rel=1e-6)
    model.weight.grad = torch.tensor([[0.0]])
    trainer.optimizer.step()
    # No gradient: the bias-corrected moments are beta1 g / (1 + beta1) and beta2 g^2 / (1 + beta2).
    beta1, beta2 = 0.5, 0.999
    ratio = (beta1 / (1 + beta1)) / math.sqrt(beta2 / (1 + beta2))
    assert model.weight.item() == pytest.approx(first * (1 - 0.01) - 0.1 * ratio, rel=1e-6)


def test_adam_couples_the_recipes_weight_decay_and_takes_momentum_as_beta1(params):
    recipe = Recipe.from_params(
        {
            **params["model"],
            "optimizer": "adam",
            "lr": 0.1,
            "momentum": 0.5,
            "weight_decay": 0.1,
            "schedule": "constant",
        }
    )
    optimizer = make_trainer(torch.nn.Linear(1, 1), 10, recipe, CPU, Recorder(), "probe").optimizer
    assert type(optimizer) is torch.optim.Adam  # not AdamW, whose decay is decoupled
    group = optimizer.param_groups[0]
    assert (group["betas"], group["weight_decay"], group["initial_lr"]) == ((0.5, 0.999), 0.1, recipe.lr)
    assert recipe.lr != 1e-3  # Adam's default


def test_sgd_without_momentum_takes_plain_steps(params):
    recipe = Recipe.from_params({**params["model"], "optimizer": "sgd", "momentum": 0.0, "schedule": "constant"})
    group = make_trainer(torch.nn.Linear(1, 1), 10, recipe, CPU, Recorder(), "probe").optimizer.param_groups[0]
    assert group["momentum"] == 0.0 and not group["nesterov"]


def test_the_one_cycle_schedule_leaves_the_recipes_momentum_alone(params):
    recipe = Recipe.from_params({**params["model"], "optimizer": "sgd", "momentum": 0.5, "schedule": "onecycle"})
    trainer = make_trainer(torch.nn.Linear(1, 1), 100, recipe, CPU, Recorder(), "probe")
    for _ in range(5):  # of its 8 steps
        trainer.optimizer.step()
        trainer.schedule.step()
        assert trainer.optimizer.param_groups[0]["momentum"] == 0.5


def test_a_channels_last_recipe_puts_the_nets_weights_in_that_layout(params):
    recipe = Recipe.from_params({**params["model"], "channels_last": True})
    net = torch.nn.Conv2d(3, 4, 3)
    make_trainer(net, 10, recipe, CPU, Recorder(), "probe")
    assert net.weight.is_contiguous(memory_format=torch.channels_last) and not net.weight.is_contiguous()


def test_training_draws_its_crops_and_order_from_the_recipes_seed_not_torchs_global_generator(params):
    recipe = Recipe.from_params({**params["model"], "epochs": 1})
    weights = []
    for global_seed in (1, 2):
        seed_everything(0)
        net = build_net("mlp", {**params["cnn"]["mlp"], "dropout": 0.0})  # dropout draws from the global one
        torch.manual_seed(global_seed)
        fit(net, tiny_data(recipe), recipe, CPU, Recorder(), "mlp")
        weights.append(net.state_dict())
    assert all(torch.equal(weights[0][key], weights[1][key]) for key in weights[0])
