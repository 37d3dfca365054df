"""Pretrained networks and their verified weights, shared by feature extraction and fine-tuning."""

from fmnist.backbones.registry import BACKBONES, Backbone, head_in_features, set_head
from fmnist.backbones.weights import build_backbone, provenance

__all__ = ["BACKBONES", "Backbone", "build_backbone", "head_in_features", "provenance", "set_head"]
