"""Training one network, as torchvision's reference classification script does: one epoch of batches
(train_one_epoch), a score on the validation split (evaluate), and the fit that repeats them, keeps the best state by
validation accuracy and stops early; seeded, deterministic runs on the CPU. The recipe it follows is fmnist.recipe's,
its scores come from fmnist.cnn.inference."""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from fmnist.cnn.depthwise import tap_weight_grads
from fmnist.cnn.ema import WeightAverage
from fmnist.cnn.inference import InputPipeline, loss_and_accuracy, predict_logits, to_device
from fmnist.device import autocast
from fmnist.errors import PipelineError
from fmnist.recipe import Recipe

log = logging.getLogger(__name__)


class Logger(Protocol):
    """Where training reports its curves (fmnist.cnn.curves.ScopedCurves, or a recorder in tests)."""

    def batch(self, step: int, loss: float) -> None: ...

    def epoch(self, epoch: int, values: dict[str, float]) -> None: ...


@dataclass(frozen=True, eq=False)  # eq=False: tensors and arrays have no single truth value to compare by
class TrainingData:
    """The images a network learns from: all of them with their labels, which ones to train on and which to
    validate with, and the input pipeline that turns them into network inputs (augmenting training batches)."""

    images: torch.Tensor  # uint8 N x 28 x 28
    labels: torch.Tensor
    train_idx: np.ndarray
    val_idx: np.ndarray
    pipeline: InputPipeline


@dataclass
class Trainer:
    """What a training step uses and changes: the network the batches go through (`torch.compile`d when
    `recipe.compile`), its optimizer, per-batch schedule and mixed-precision gradient scaler, the moving average
    of its weights (`recipe.ema`), where it reports its curves, its name in progress bars and messages, and the
    params keys `recipe.lr` is the product of, with their values, for the message of a diverged run (empty where
    the caller does not know them)."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    schedule: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    average: WeightAverage | None
    recipe: Recipe
    device: torch.device
    logger: Logger
    name: str
    lr_sources: Mapping[str, float]


@dataclass(frozen=True)
class EpochResult:
    loss: float  # mean training loss per image
    accuracy: float  # training accuracy (on the augmented batches, in train mode)
    images: int  # training images processed
    busy_seconds: float  # time spent in training batches (forward, backward, step)


@dataclass
class FitResult:
    best_state: dict[str, torch.Tensor]
    best_epoch: int  # 1-based
    best_val_accuracy: float
    epochs_run: int
    train_size: int
    seconds: float  # wall clock of the whole fit, validation included
    images_seen: int  # training images processed (epochs x train_size)
    busy_seconds: float  # time spent in training batches (forward, backward, step)


def seed_everything(seed: int) -> None:
    """Seed torch's global generator (weights, dropout) and ask for deterministic kernels where they exist."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False


def make_optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(
            params,
            lr=recipe.lr,
            momentum=recipe.momentum,
            nesterov=recipe.momentum > 0,
            weight_decay=recipe.weight_decay,
        )
    if recipe.optimizer == "adam":
        return torch.optim.Adam(params, lr=recipe.lr, betas=(recipe.momentum, 0.999), weight_decay=recipe.weight_decay)
    return torch.optim.AdamW(params, lr=recipe.lr, betas=(recipe.momentum, 0.999), weight_decay=recipe.weight_decay)


def make_schedule(
    optimizer: torch.optim.Optimizer, recipe: Recipe, total_steps: int
) -> torch.optim.lr_scheduler.LRScheduler:
    """Per-batch learning-rate schedule over the full `epochs` (early stopping may end it sooner)."""
    warmup = int(recipe.warmup_fraction * total_steps)
    if recipe.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer,
            max_lr=recipe.lr,
            total_steps=total_steps,
            pct_start=max(recipe.warmup_fraction, 1e-3),
            cycle_momentum=False,
            anneal_strategy="cos",
        )
    if recipe.schedule == "cosine":

        def factor(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            return 0.5 * (1 + np.cos(np.pi * (step - warmup) / max(1, total_steps - warmup)))

        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)


def batch_starts(train_size: int, batch_size: int) -> range:
    """Where each training batch of an epoch of `train_size` images starts, in batches of `batch_size`.

    A last batch of a single image is dropped (that image waits for the next epoch's shuffle): batch norm in train
    mode normalises each channel over the batch, and one image on a 1 x 1 map or in a BatchNorm1d layer leaves it one
    value per channel, which torch refuses ("Expected more than 1 value per channel when training") after the
    epoch's other batches are done. Any other last batch is kept, so those runs train exactly as before.
    """
    single = train_size > batch_size and train_size % batch_size == 1
    return range(0, train_size - 1 if single else train_size, batch_size)


def steps_per_epoch(train_size: int, batch_size: int) -> int:
    return len(batch_starts(train_size, batch_size))


def make_trainer(
    model: nn.Module,
    train_size: int,
    recipe: Recipe,
    device: torch.device,
    logger: Logger,
    name: str,
    lr_sources: Mapping[str, float] | None = None,
) -> Trainer:
    """`model` on `device` (channels-last and compiled as the recipe says) with a fresh optimizer, a per-batch
    schedule over all `recipe.epochs` of `train_size` images, a gradient scaler (float16 on CUDA only) and, with
    `recipe.ema`, the moving average of its weights."""
    model.to(device)
    if recipe.channels_last:
        model.to(memory_format=torch.channels_last)
    step_model = torch.compile(model) if recipe.compile else model
    optimizer = make_optimizer(model, recipe)
    return Trainer(
        model=step_model,
        optimizer=optimizer,
        schedule=make_schedule(optimizer, recipe, recipe.epochs * steps_per_epoch(train_size, recipe.batch_size)),
        scaler=torch.amp.GradScaler(
            enabled=recipe.amp and device.type == "cuda" and not torch.cuda.is_bf16_supported()
        ),
        average=WeightAverage(model, recipe.ema) if recipe.ema else None,
        recipe=recipe,
        device=device,
        logger=logger,
        name=name,
        lr_sources=lr_sources or {},
    )


def diverged(trainer: Trainer, what: str, loss: float) -> PipelineError:
    """The message for a loss that became inf or NaN: the weights are lost, and no metrics may follow. It names the
    params keys the learning rate comes from, with their values (fmnist.cnn.recipes.learning_rate), to lower one."""
    sources = trainer.lr_sources
    if sources:
        named = " x ".join(f"`{key}` = {value}" for key, value in sources.items())
        where, fix = f" ({named})", "it" if len(sources) == 1 else "one of them"
    else:
        where, fix = "", "the learning rate"
    return PipelineError(
        f"{trainer.name}: the {what} became {loss}: training diverged at learning rate {trainer.recipe.lr:g}{where}. "
        f"Lower {fix} in params.yaml or your `dvc exp run -S` override."
    )


def train_one_epoch(trainer: Trainer, data: TrainingData, generator: torch.Generator, epoch: int) -> EpochResult:
    """One pass over the training images in an order drawn from `generator`, which then augments each batch (a
    last batch of one image is left out: see batch_starts).

    Batch losses go to the logger at the global batch number: every epoch has the same number of batches.
    A non-finite batch loss (a diverged run) stops training with a PipelineError.
    """
    recipe = trainer.recipe
    trainer.model.train()
    train_idx = torch.as_tensor(data.train_idx)
    order = train_idx[torch.randperm(len(train_idx), generator=generator)]
    step = (epoch - 1) * steps_per_epoch(len(order), recipe.batch_size)  # batches logged by earlier epochs
    total_loss, correct, seen = 0.0, 0, 0
    start = time.perf_counter()
    bar = tqdm(
        total=len(order),
        desc=f"{trainer.name} {epoch}/{recipe.epochs}",
        unit="img",
        unit_scale=True,
        mininterval=2,
        leave=False,
    )
    with bar:
        for first in batch_starts(len(order), recipe.batch_size):
            batch = order[first : first + recipe.batch_size]
            images = data.images[batch].to(trainer.device, non_blocking=True)
            x = to_device(data.pipeline.train(images, generator), trainer.device, recipe.channels_last)
            y = data.labels[batch].to(trainer.device, non_blocking=True)
            with autocast(trainer.device, recipe.amp), tap_weight_grads():
                logits = trainer.model(x)
                loss = F.cross_entropy(logits, y, label_smoothing=recipe.label_smoothing)
            trainer.optimizer.zero_grad(set_to_none=True)
            trainer.scaler.scale(loss).backward()
            trainer.scaler.step(trainer.optimizer)
            trainer.scaler.update()
            trainer.schedule.step()
            if trainer.average:
                trainer.average.update()
            batch_loss = loss.item()
            if not math.isfinite(batch_loss):
                batches = steps_per_epoch(len(order), recipe.batch_size)
                where = f"epoch {epoch} (batch {first // recipe.batch_size + 1} of {batches})"
                raise diverged(trainer, f"training loss in {where}", batch_loss)
            total_loss += batch_loss * len(batch)
            correct += int((logits.argmax(1) == y).sum())
            seen += len(batch)
            step += 1
            trainer.logger.batch(step, batch_loss)
            bar.update(len(batch))
            bar.set_postfix(loss=f"{batch_loss:.3f}", refresh=False)
    return EpochResult(total_loss / seen, correct / seen, seen, time.perf_counter() - start)


def evaluate(model: nn.Module, data: TrainingData, recipe: Recipe, device: torch.device) -> tuple[float, float]:
    """Loss and accuracy of `model` on the validation images (eval mode, no test-time flips)."""
    logits = predict_logits(model, data.images[data.val_idx], data.pipeline, device, recipe)
    return loss_and_accuracy(logits, data.labels[data.val_idx])


def fit(
    model: nn.Module,
    data: TrainingData,
    recipe: Recipe,
    device: torch.device,
    logger: Logger,
    name: str,
    lr_sources: Mapping[str, float] | None = None,
) -> FitResult:
    """Train `model` on images[data.train_idx], keep the state with the best accuracy on images[data.val_idx],
    stop after `patience` epochs without improvement. Shuffling and augmentation come from a generator seeded with
    `recipe.seed`, so the same call gives the same result. With `recipe.ema` the moving average of the weights is
    what gets validated and kept, so `model` ends with the best average's weights. A diverged run stops with a
    message naming `lr_sources`, the params keys `recipe.lr` comes from (fmnist.cnn.recipes.learning_rate)."""
    if len(data.train_idx) == 0:
        raise PipelineError(f"{name}: no training images (check cnn.*.train_fraction and the boosting selection)")
    trainer = make_trainer(model, len(data.train_idx), recipe, device, logger, name, lr_sources)
    validated = trainer.average.model if trainer.average else model
    generator = torch.Generator().manual_seed(recipe.seed)
    best_state, best_epoch, best_acc = None, 0, -1.0
    epochs: list[EpochResult] = []
    start = time.perf_counter()
    for epoch in range(1, recipe.epochs + 1):
        train = train_one_epoch(trainer, data, generator, epoch)
        epochs.append(train)
        val_loss, val_acc = evaluate(validated, data, recipe, device)
        if not math.isfinite(val_loss):  # the epoch's last steps broke the weights after its last batch loss
            raise diverged(trainer, f"validation loss after epoch {epoch}", val_loss)
        values = {
            "train/loss": train.loss,
            "train/acc": train.accuracy,
            "val/loss": val_loss,
            "val/acc": val_acc,
            "lr": trainer.optimizer.param_groups[0]["lr"],
        }
        logger.epoch(epoch, values)
        log.info(
            "%s epoch %d/%d: train loss %.4f acc %.4f, val loss %.4f acc %.4f, %.0f images/s",
            name,
            epoch,
            recipe.epochs,
            train.loss,
            train.accuracy,
            val_loss,
            val_acc,
            train.images / train.busy_seconds,
        )
        if val_acc > best_acc:
            best_acc, best_epoch = val_acc, epoch
            best_state = {k: v.detach().to("cpu", copy=True) for k, v in validated.state_dict().items()}
        elif epoch - best_epoch >= recipe.patience:
            log.info(
                "%s: early stop, no validation improvement for %d epochs (best epoch %d)",
                name,
                recipe.patience,
                best_epoch,
            )
            break
    model.load_state_dict(best_state)
    return FitResult(
        best_state=best_state,
        best_epoch=best_epoch,
        best_val_accuracy=best_acc,
        epochs_run=len(epochs),
        train_size=len(data.train_idx),
        seconds=time.perf_counter() - start,
        images_seen=sum(e.images for e in epochs),
        busy_seconds=sum(e.busy_seconds for e in epochs),
    )
