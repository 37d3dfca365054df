"""Writing small synthetic IDX files, so tests never need the real dataset."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from fmnist.data.idx import IMAGE_MAGIC, LABEL_MAGIC


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    return struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(np.uint8).tobytes()


def synthetic_split(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` random 28 x 28 images with labels cycling through all ten classes."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
    labels = (np.arange(count) % 10).astype(np.uint8)
    return images, labels


def write_raw_dir(folder: Path, train_count: int = 200, test_count: int = 50) -> dict[str, bytes]:
    """The four .gz files of a tiny dataset in `folder`; returns each file's decompressed payload."""
    folder.mkdir(parents=True, exist_ok=True)
    payloads = {}
    for prefix, count, seed in (("train", train_count, 0), ("t10k", test_count, 1)):
        images, labels = synthetic_split(count, seed)
        payloads[f"{prefix}-images-idx3-ubyte"] = idx_bytes(images, IMAGE_MAGIC)
        payloads[f"{prefix}-labels-idx1-ubyte"] = idx_bytes(labels, LABEL_MAGIC)
    for name, payload in payloads.items():
        (folder / f"{name}.gz").write_bytes(gzip.compress(payload, mtime=0))
    return payloads
