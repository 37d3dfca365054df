"""Batched input pipelines: uint8 images in, normalised float tensors out, augmentation drawn from an
explicit torch.Generator so every epoch's crops and flips are reproducible. The draws are made on the CPU
(the generator's device) and applied to the images wherever they are, so on CUDA the resizing, cropping and
normalising run on the GPU, with the same draws as on the CPU.

Small nets see 1 x 28 x 28 images normalised with the Fashion-MNIST mean and standard deviation, and
train on random crops of the zero-padded image plus horizontal flips, and optionally random erasing. The
ImageNet backbones see the image resized to `input_size`, replicated to three channels and normalised as the
backbone expects, and train on torchvision-style random-resized crops plus flips (seed 001).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

FMNIST_MEAN, FMNIST_STD = 0.2860, 0.3530
RRC_RATIO = (3 / 4, 4 / 3)  # torchvision RandomResizedCrop's default aspect-ratio range
RRC_TRIES = 10
# Random erasing (Zhong et al. 2017, torchvision's RandomErasing defaults): a rectangle of this share of the
# image's area, of this aspect-ratio range (log-uniform), set to 0 (the mean, after normalisation).
ERASE_SCALE = (0.02, 0.33)
ERASE_RATIO = (0.3, 3.3)


def random_flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Flip each image of N x ... x W left-right with probability 1/2."""
    flip = (torch.rand(x.shape[0], generator=generator) < 0.5).to(x.device)
    return torch.where(flip.view(-1, *([1] * (x.dim() - 1))), x.flip(-1), x)


def random_crop(x: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Per image, a random H x W window of the image zero-padded by `padding` on every side (N x H x W)."""
    if padding == 0:
        return x
    n, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))
    dy = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    rows = (dy[:, None] + torch.arange(h))[:, :, None]
    cols = (dx[:, None] + torch.arange(w))[:, None, :]
    return padded[torch.arange(n)[:, None, None].to(x.device), rows.to(x.device), cols.to(x.device)]


def translate(x: torch.Tensor, step: int) -> torch.Tensor:
    """Every image of N x H x W moved `step` pixels down and right (up and left when negative), zero filling the
    uncovered border (the background): a fixed crop of the zero-padded image, as random_crop draws them."""
    if step == 0:
        return x
    h, w = x.shape[-2:]
    padded = F.pad(x, (abs(step),) * 4)
    start = abs(step) - step
    return padded[:, start : start + h, start : start + w]


def random_erase(x: torch.Tensor, probability: float, generator: torch.Generator) -> torch.Tensor:
    """Per image of N x C x H x W, with `probability`, one random rectangle set to 0. The rectangle's area share
    and log aspect ratio are uniform in ERASE_SCALE and ERASE_RATIO, its sides clipped to the image. Draws
    nothing when `probability` is 0, so turning it off leaves every other draw as it was."""
    if probability == 0:
        return x
    n, _, height, width = x.shape
    erase = torch.rand(n, generator=generator) < probability
    area = height * width * (ERASE_SCALE[0] + (ERASE_SCALE[1] - ERASE_SCALE[0]) * torch.rand(n, generator=generator))
    log_lo, log_hi = math.log(ERASE_RATIO[0]), math.log(ERASE_RATIO[1])
    ratio = torch.exp(log_lo + (log_hi - log_lo) * torch.rand(n, generator=generator))
    h = torch.sqrt(area * ratio).round().clamp(1, height)
    w = torch.sqrt(area / ratio).round().clamp(1, width)
    y1 = torch.floor(torch.rand(n, generator=generator) * (height - h + 1))
    x1 = torch.floor(torch.rand(n, generator=generator) * (width - w + 1))
    rows, cols = torch.arange(height), torch.arange(width)
    inside_rows = (rows >= y1[:, None]) & (rows < (y1 + h)[:, None])
    inside_cols = (cols >= x1[:, None]) & (cols < (x1 + w)[:, None])
    mask = (inside_rows[:, :, None] & inside_cols[:, None, :] & erase[:, None, None]).unsqueeze(1).to(x.device)
    return x.masked_fill(mask, 0.0)


def random_resized_boxes(n: int, side: int, scale_min: float, generator: torch.Generator) -> torch.Tensor:
    """torchvision's RandomResizedCrop box sampling, vectorised: N x 4 boxes (x1, y1, x2, y2) in pixels.

    Area fraction uniform in [scale_min, 1], log aspect ratio uniform in RRC_RATIO; the first of
    RRC_TRIES draws that fits is used, else the whole image.
    """
    area = side * side * (scale_min + (1 - scale_min) * torch.rand(n, RRC_TRIES, generator=generator))
    log_lo, log_hi = math.log(RRC_RATIO[0]), math.log(RRC_RATIO[1])
    ratio = torch.exp(log_lo + (log_hi - log_lo) * torch.rand(n, RRC_TRIES, generator=generator))
    w = torch.sqrt(area * ratio).round()
    h = torch.sqrt(area / ratio).round()
    fits = (w > 0) & (w <= side) & (h > 0) & (h <= side)
    first = torch.argmax(fits.int(), dim=1)
    any_fit = fits.any(dim=1)
    rows = torch.arange(n)
    w = torch.where(any_fit, w[rows, first], torch.tensor(float(side)))
    h = torch.where(any_fit, h[rows, first], torch.tensor(float(side)))
    x1 = torch.floor(torch.rand(n, generator=generator) * (side - w + 1))
    y1 = torch.floor(torch.rand(n, generator=generator) * (side - h + 1))
    return torch.stack([x1, y1, x1 + w, y1 + h], dim=1)


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 N x 28 x 28 -> float N x 1 x 28 x 28 in [0, 1]."""
    return images.float().div_(255).unsqueeze(1)


@dataclass(frozen=True)
class SmallNetInput:
    """Fashion-MNIST-normalised 28 x 28 input; training adds padded random crops, flips and random erasing
    (with probability `erase`)."""

    crop_padding: int
    hflip: bool
    erase: float = 0.0

    def train(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        images = random_crop(images, self.crop_padding, generator)
        if self.hflip:
            images = random_flip(images, generator)
        return random_erase(self.eval(images), self.erase, generator)

    def eval(self, images: torch.Tensor) -> torch.Tensor:
        return (to_unit(images) - FMNIST_MEAN) / FMNIST_STD


@dataclass(frozen=True)
class ImageNetInput:
    """Grayscale resized to `size` (bilinear, as the crops are), replicated to 3 channels, normalised with the
    backbone's `mean` and `std`; training uses random-resized crops (area fraction >= `crop_scale_min`; 1.0
    turns them off), flips and random erasing (with probability `erase`)."""

    size: int
    crop_scale_min: float
    hflip: bool
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    erase: float = 0.0

    def train(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        x = to_unit(images)
        if self.crop_scale_min < 1.0:
            from torchvision.ops import roi_align  # on first use: it imports torch._dynamo (about 2 s)

            boxes = random_resized_boxes(len(x), x.shape[-1], self.crop_scale_min, generator)
            indexed = torch.cat([torch.arange(len(x), dtype=x.dtype)[:, None], boxes], dim=1).to(x.device)
            x = roi_align(x, indexed, output_size=self.size, spatial_scale=1.0, sampling_ratio=2, aligned=True)
        else:
            x = F.interpolate(x, size=self.size, mode="bilinear", align_corners=False)
        if self.hflip:
            x = random_flip(x, generator)
        return random_erase(self._normalise(x), self.erase, generator)

    def eval(self, images: torch.Tensor) -> torch.Tensor:
        return self._normalise(F.interpolate(to_unit(images), size=self.size, mode="bilinear", align_corners=False))

    def _normalise(self, x: torch.Tensor) -> torch.Tensor:
        mean = torch.tensor(self.mean, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, device=x.device).view(1, 3, 1, 1)
        return (x.expand(-1, 3, -1, -1) - mean) / std
