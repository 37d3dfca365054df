"""The prepared dataset on disk: arrays written by the prepare stage and read by every later stage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fmnist.atomic import load_npy, staged_outputs
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
    """The arrays the prepare stage wrote, with a clear message if they are missing, damaged or do not agree."""
    remedy = f"restore it with `dvc checkout {prepared_dir}` or re-create it with `dvc repro prepare`"
    arrays = {}
    for name in ARRAY_NAMES:
        path = prepared_dir / f"{name}.npy"
        try:
            arrays[name] = load_npy(path, remedy)
        except FileNotFoundError:
            raise PipelineError(f"{path}: not found; run the prepare stage first (`dvc repro prepare`)") from None
    check_agreement(prepared_dir, arrays)
    return Dataset(**arrays)


def check_agreement(prepared_dir: Path, arrays: dict[str, np.ndarray]) -> None:
    """One label per image in each split, and validation indices into the training set: files from one prepare run."""
    remedy = f"restore them with `dvc checkout {prepared_dir}` or re-create them with `dvc repro prepare`"
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if labels.ndim != 1 or images.ndim != 3 or len(images) != len(labels):
            raise PipelineError(
                f"{prepared_dir / f'{split}_images.npy'} (shape {images.shape}) and "
                f"{prepared_dir / f'{split}_labels.npy'} (shape {labels.shape}) do not agree: one label per image "
                f"expected, so they are not from one prepare run; {remedy}"
            )
    val, n_train = arrays["val_indices"], len(arrays["train_labels"])
    indices = val.ndim == 1 and val.dtype.kind in "iu"
    if not indices or (val.size and (val.min() < 0 or val.max() >= n_train)):
        raise PipelineError(
            f"{prepared_dir / 'val_indices.npy'}: expected indices into the {n_train} training images, "
            f"found {val.dtype} of shape {val.shape}; {remedy}"
        )
