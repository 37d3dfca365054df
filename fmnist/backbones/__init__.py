"""Pretrained networks and their verified weights, shared by feature extraction and fine-tuning."""

from fmnist.backbones.weights import build_backbone

__all__ = ["build_backbone"]
