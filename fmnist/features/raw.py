"""The `raw` feature kind: the 784 pixels of each image, scaled to [0, 1]."""

from __future__ import annotations

import torch

from fmnist.features.extractor import Extractor

IMAGE_SIDE = 28


def build(params: dict, param_prefix: str) -> Extractor:
    return Extractor(IMAGE_SIDE * IMAGE_SIDE, torch.device("cpu"), lambda x: x.reshape(len(x), -1).float().div_(255.0))
