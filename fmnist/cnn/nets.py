"""The seeds' network family, each built from its `cnn.<arch>` params section.

Every network takes a batch of normalised images (N x 1 x 28 x 28 for the small nets, N x 3 x S x S for
the ImageNet backbones, see fmnist.cnn.augment) and returns N x 10 logits. Random initialisation draws
from torch's global generator: seed it first (fmnist.cnn.loop.seed_everything).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from fmnist.backbones import BACKBONES, build_backbone, head_in_features, set_head
from fmnist.catalog import CNN_ARCHS, resolve
from fmnist.classes import NUM_CLASSES

IMAGE_SIDE = 28
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh}
POOLS: dict[str, Callable[[int], nn.Module]] = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}


def mlp(hidden: list[int], dropout: float) -> nn.Module:
    """Seed 004: 784-512-512-10, ReLU, dropout after every hidden layer."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = IMAGE_SIDE * IMAGE_SIDE
    for units in hidden:
        layers += [nn.Linear(width, units), nn.ReLU(), nn.Dropout(dropout)]
        width = units
    layers.append(nn.Linear(width, NUM_CLASSES))
    return nn.Sequential(*layers)


def dense2(hidden: int) -> nn.Module:
    """Seed 003: a two-layer dense net (one hidden ReLU layer, its width swept 3 ... 800)."""
    return nn.Sequential(
        nn.Flatten(), nn.Linear(IMAGE_SIDE * IMAGE_SIDE, hidden), nn.ReLU(), nn.Linear(hidden, NUM_CLASSES)
    )


def cnn1(filters: int, kernel: int) -> nn.Module:
    """Seed 003: one convolutional layer (stride 1, no padding, ReLU) in place of the hidden dense layer."""
    side = IMAGE_SIDE - kernel + 1
    return nn.Sequential(
        nn.Conv2d(1, filters, kernel), nn.ReLU(), nn.Flatten(), nn.Linear(filters * side * side, NUM_CLASSES)
    )


def lenet5(activation: str, pool: str, batch_norm: bool) -> nn.Module:
    """Seed 001's LeNet-5: conv 6@5x5 (padded), pool, conv 16@5x5, pool, conv 120@5x5, FC 84, FC 10.

    `batch_norm` adds BatchNorm after each convolution and the 84-unit layer (seed 001's LeNet-5 + BN).
    """

    def block(conv: nn.Module, channels: int) -> list[nn.Module]:
        return [conv] + ([nn.BatchNorm2d(channels)] if batch_norm else []) + [ACTIVATIONS[activation]()]

    layers = block(nn.Conv2d(1, 6, 5, padding=2), 6) + [POOLS[pool](2)]
    layers += block(nn.Conv2d(6, 16, 5), 16) + [POOLS[pool](2)]
    layers += block(nn.Conv2d(16, 120, 5), 120) + [nn.Flatten(), nn.Linear(120, 84)]
    layers += ([nn.BatchNorm1d(84)] if batch_norm else []) + [ACTIVATIONS[activation](), nn.Linear(84, NUM_CLASSES)]
    return nn.Sequential(*layers)


def convnet_bn(channels: list[int], convs_per_block: int, kernel: int, fc: list[int], dropout: float) -> nn.Module:
    """Seed 001's "2 conv + 3 FC": blocks of conv-BN-ReLU (x convs_per_block) + 2x2 max pool, then FC
    layers with dropout. The seed's network is channels [64, 512], one conv per block, two hidden FC."""
    layers: list[nn.Module] = []
    side, width = IMAGE_SIDE, 1
    for out in channels:
        for _ in range(convs_per_block):
            layers += [nn.Conv2d(width, out, kernel, padding=kernel // 2, bias=False), nn.BatchNorm2d(out), nn.ReLU()]
            width = out
        layers.append(nn.MaxPool2d(2))
        side //= 2
    layers.append(nn.Flatten())
    width *= side * side
    for units in fc:
        layers += [nn.Dropout(dropout), nn.Linear(width, units), nn.ReLU()]
        width = units
    layers += [nn.Dropout(dropout), nn.Linear(width, NUM_CLASSES)]
    return nn.Sequential(*layers)


def conv_bn_relu(width: int, out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(width, out, 3, stride, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU())


class Residual(nn.Module):
    """x + body(x)."""

    def __init__(self, *body: nn.Module) -> None:
        super().__init__()
        self.body = nn.Sequential(*body)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class GlobalMaxPool(nn.Module):
    """N x C x H x W -> N x C, the maximum over each map (nn.AdaptiveMaxPool2d's backward has no deterministic
    CUDA kernel; amax's has)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.amax(dim=(2, 3))


class Scale(nn.Module):
    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor


def resnet9(channels: list[int], stage1_stride: int) -> nn.Module:
    """Not from the seeds: the ResNet-9 of the CIFAR-10 speed records (Myrtle's DAWNBench entry, the base of
    cifar10-airbench), for 28 x 28 grayscale. A stem conv, then three stages (conv-BN-ReLU, 2 x 2 max pool; the
    first and last with a residual pair of convs), global max pool and a linear layer whose logits are scaled by
    1/8. `channels`: [stem, stage 1, stage 2, stage 3] (the original is [64, 128, 256, 512]); 28 -> 14 -> 7 -> 3.

    `stage1_stride: 2` makes stage 1's conv stride 2 in place of its max pool, as ResNets' stems do: that conv and
    its batch norm then work on 14 x 14 maps, not the net's largest, 28 x 28 at stage 1's width (faster on a CPU,
    less accurate: docs/BENCHMARKS.md, "CNNs").
    """
    stem, first, second, third = channels
    stage1 = [conv_bn_relu(stem, first), nn.MaxPool2d(2)] if stage1_stride == 1 else [conv_bn_relu(stem, first, 2)]
    return nn.Sequential(
        conv_bn_relu(1, stem),
        *stage1,
        Residual(conv_bn_relu(first, first), conv_bn_relu(first, first)),
        conv_bn_relu(first, second),
        nn.MaxPool2d(2),
        conv_bn_relu(second, third),
        nn.MaxPool2d(2),
        Residual(conv_bn_relu(third, third), conv_bn_relu(third, third)),
        GlobalMaxPool(),
        nn.Linear(third, NUM_CLASSES, bias=False),
        Scale(0.125),
    )


class TrainOnly(nn.Module):
    """A network of which only one part (the submodule at attribute path `trainable`) trains: the rest keeps its
    weights and, unlike with a plain `requires_grad_(False)`, its batch-norm statistics, since `train()` leaves it
    in eval mode."""

    def __init__(self, net: nn.Module, trainable: str) -> None:
        super().__init__()
        self.net, self.trainable = net, trainable
        net.requires_grad_(False)
        net.get_submodule(trainable).requires_grad_(True)

    def train(self, mode: bool = True) -> TrainOnly:
        super().train(mode)
        self.net.eval()
        self.net.get_submodule(self.trainable).train(mode)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def with_new_head(arch: str, settings: dict, param_prefix: str) -> nn.Module:
    """A pretrained backbone (ImageNet or random weights) with a new 10-way head in place of ImageNet's."""
    backbone = BACKBONES[arch]
    weights, weights_file, weights_sha256 = settings["weights"], settings["weights_file"], settings["weights_sha256"]
    model = build_backbone(arch, weights, weights_file, weights_sha256, param_prefix)
    set_head(model, backbone, nn.Linear(head_in_features(model, backbone), NUM_CLASSES))
    return model


# The builders fmnist.catalog's CNN_ARCHS name: each builds one network of `arch` from its `cnn.<arch>` settings.


def build_mlp(arch: str, settings: dict) -> nn.Module:
    return mlp(settings["hidden"], settings["dropout"])


def build_dense2(arch: str, settings: dict) -> nn.Module:
    return dense2(settings["hidden"])


def build_cnn1(arch: str, settings: dict) -> nn.Module:
    return cnn1(settings["filters"], settings["kernel"])


def build_lenet5(arch: str, settings: dict) -> nn.Module:
    """LeNet-5, with batch norm where its settings say `batch_norm: true`."""
    return lenet5(settings["activation"], settings["pool"], settings.get("batch_norm", False))


def build_lenet5_bn(arch: str, settings: dict) -> nn.Module:
    """Seed 001's LeNet-5 + BN: batch norm always."""
    return lenet5(settings["activation"], settings["pool"], batch_norm=True)


def build_convnet_bn(arch: str, settings: dict) -> nn.Module:
    return convnet_bn(
        settings["channels"], settings["convs_per_block"], settings["kernel"], settings["fc"], settings["dropout"]
    )


def build_resnet9(arch: str, settings: dict) -> nn.Module:
    return resnet9(settings["channels"], settings["stage1_stride"])


def fine_tuned(arch: str, settings: dict) -> nn.Module:
    """ResNet-18 or EfficientNet-Lite0 with a new head; `freeze: backbone` trains only that head (report 002's
    last-layer fine-tune), `none` fine-tunes everything."""
    model = with_new_head(arch, settings, f"cnn.{arch}")
    return TrainOnly(model, BACKBONES[arch].head) if settings["freeze"] == "backbone" else model


def vgg16_bn(arch: str, settings: dict) -> nn.Module:
    """torchvision VGG-16-BN with frozen convolutions, its classifier trained with a new last layer (report 001)."""
    return TrainOnly(with_new_head(arch, settings, f"cnn.{arch}"), "classifier")


def build_net(arch: str, settings: dict) -> nn.Module:
    """One network of `arch` from its `cnn.<arch>` settings (for boosted archs: one member), by its catalog builder."""
    if arch not in CNN_ARCHS:
        raise ValueError(f"unknown architecture {arch!r}; fmnist.catalog.CNN_ARCHS has {', '.join(CNN_ARCHS)}")
    return resolve(CNN_ARCHS[arch].builder)(arch, settings)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
