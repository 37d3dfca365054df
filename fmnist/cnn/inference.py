"""Scoring a network: its logits on a set of images in eval mode, a batch at a time, with test-time augmentation
(mirror images, shifted copies) for the final scores."""

from __future__ import annotations

from typing import Protocol

import torch
import torch.nn.functional as F
from torch import nn

from fmnist.classes import NUM_CLASSES
from fmnist.cnn.augment import translate
from fmnist.device import autocast
from fmnist.recipe import Recipe

# Images per forward pass when scoring. On the CPU, 100: batches of 1,000 scored ResNet-9 and convnet_bn at half the
# speed, their large activations paid for in page faults (bench/eval_batch.py); a GPU wants big batches.
EVAL_BATCH = {"cpu": 100, "cuda": 1000}
# Test-time shifts (with `model.tta_shift`, as cifar10-airbench's TTA): the image itself weighs 1/2, its copies
# moved `tta_shift` pixels down-right and up-left 1/4 each.
SHIFT_WEIGHTS = ((0, 0.5), (1, 0.25), (-1, 0.25))


class InputPipeline(Protocol):
    """How uint8 images become network inputs (fmnist.cnn.augment.SmallNetInput or ImageNetInput)."""

    hflip: bool

    def train(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor: ...

    def eval(self, images: torch.Tensor) -> torch.Tensor: ...


def to_device(x: torch.Tensor, device: torch.device, channels_last: bool) -> torch.Tensor:
    """A batch of network inputs on `device`, in channels-last memory order when asked (image batches only)."""
    x = x.to(device, non_blocking=True)
    return x.contiguous(memory_format=torch.channels_last) if channels_last and x.dim() == 4 else x


@torch.no_grad()
def predict_logits(
    model: nn.Module,
    images: torch.Tensor,
    pipeline: InputPipeline,
    device: torch.device,
    recipe: Recipe,
    tta: bool = False,
    batch_size: int | None = None,
) -> torch.Tensor:
    """Logits (float32, CPU) of `images` (uint8 N x 28 x 28) in eval mode, in order, `batch_size` images a pass
    (None: EVAL_BATCH for the device).

    With `tta` (test-time augmentation: for the final scores only, not for early stopping or the boosting
    selection, where it would multiply the cost), `recipe.tta_hflip` scores a net trained on flipped images
    (`pipeline.hflip`) as the mean of each image's and its mirror image's logits, and `recipe.tta_shift` adds
    shifted copies of each image (SHIFT_WEIGHTS). Shifts help the ResNet-9 and nets trained on random crops, and
    lower every default-run net's test accuracy (docs/BENCHMARKS.md, "CNNs"): hence off by default.
    """
    model.eval()
    mirrored = tta and recipe.tta_hflip and pipeline.hflip
    shifts = SHIFT_WEIGHTS if tta and recipe.tta_shift else ((0, 1.0),)

    def scores(x: torch.Tensor) -> torch.Tensor:
        logits = model(to_device(x, device, recipe.channels_last)).float()
        if mirrored:
            logits = (logits + model(to_device(x.flip(-1), device, recipe.channels_last)).float()) / 2
        return logits

    out = []
    size = batch_size or EVAL_BATCH[device.type]
    for start in range(0, len(images), size):
        batch = images[start : start + size].to(device, non_blocking=True)
        with autocast(device, recipe.amp):
            logits = sum(
                weight * scores(pipeline.eval(translate(batch, step * recipe.tta_shift))) for step, weight in shifts
            )
        out.append(logits.cpu())
    return torch.cat(out) if out else torch.empty(0, NUM_CLASSES)


def loss_and_accuracy(logits: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    return float(F.cross_entropy(logits, labels)), float((logits.argmax(1) == labels).float().mean())
