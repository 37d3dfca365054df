"""A sample grid of every class (the course reports' figure 1)."""

from __future__ import annotations

from pathlib import Path

from fmnist.atomic import staged_outputs
from fmnist.data import Dataset
from fmnist.layout import Layout
from fmnist.pictures import figures


def write_class_samples(dataset: Dataset, per_class: int, seed: int, layout: Layout) -> Path:
    """`per_class` random training images of each class in one grid (the course reports' figure 1)."""
    path = layout.samples_png
    with staged_outputs() as staged:
        figures.class_samples_grid(dataset.train_images, dataset.train_labels, per_class, seed, staged.path(path))
    return path
