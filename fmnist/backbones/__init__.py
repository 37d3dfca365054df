"""Pretrained networks and their verified weights, shared by feature extraction and fine-tuning."""

from fmnist.backbones.registry import BACKBONES, Backbone, PooledStages, head_in_features, pooled_width, set_head
from fmnist.backbones.weights import build_backbone, provenance

__all__ = [
    "BACKBONES",
    "Backbone",
    "PooledStages",
    "build_backbone",
    "head_in_features",
    "pooled_width",
    "provenance",
    "set_head",
]
