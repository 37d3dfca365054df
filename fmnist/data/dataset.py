"""The prepared dataset on disk: arrays written by the prepare stage and read by every later stage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fmnist.atomic import staged_outputs
from fmnist.data.idx import load_split
from fmnist.errors import PipelineError

RAW_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
ARRAY_NAMES = ("train_images", "train_labels", "test_images", "test_labels", "val_indices")


@dataclass(frozen=True)
class Dataset:
    train_images: np.ndarray  # N x 28 x 28 uint8, dataset order
    train_labels: np.ndarray  # N int64
    test_images: np.ndarray
    test_labels: np.ndarray
    val_indices: np.ndarray  # sorted indices into the training set held out for validation

    def fit_indices(self) -> np.ndarray:
        """Training-set indices not held out for validation."""
        mask = np.ones(len(self.train_labels), dtype=bool)
        mask[self.val_indices] = False
        return np.flatnonzero(mask)


def stratified_val_indices(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Sorted indices of a seeded validation split holding `fraction` of every class."""
    rng = np.random.default_rng(seed)
    chosen = []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        count = int(round(fraction * len(members)))
        chosen.append(rng.permutation(members)[:count])
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def prepare_dataset(raw_dir: Path, out_dir: Path, val_fraction: float, seed: int) -> Dataset:
    """Parse and validate the raw IDX files, draw the validation split, and write the arrays."""
    train_images, train_labels = load_split(*(raw_dir / f for f in RAW_FILES["train"]))
    test_images, test_labels = load_split(*(raw_dir / f for f in RAW_FILES["test"]))
    dataset = Dataset(
        train_images,
        train_labels,
        test_images,
        test_labels,
        stratified_val_indices(train_labels, val_fraction, seed),
    )
    with staged_outputs() as staged:
        for name in ARRAY_NAMES:
            staged.save_npy(out_dir / f"{name}.npy", getattr(dataset, name))
    return dataset


def load_dataset(prepared_dir: Path) -> Dataset:
    """The arrays the prepare stage wrote, with a clear message if they are missing."""
    arrays = {}
    for name in ARRAY_NAMES:
        path = prepared_dir / f"{name}.npy"
        try:
            arrays[name] = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise PipelineError(f"{path}: not found; run the prepare stage first (`dvc repro prepare`)") from None
    return Dataset(**arrays)
