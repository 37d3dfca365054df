"""Parsing and validating IDX files (the MNIST file format) into numpy arrays."""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from fmnist.classes import NUM_CLASSES
from fmnist.errors import PipelineError

IMAGE_MAGIC = 0x00000803  # unsigned byte data, 3 dimensions
LABEL_MAGIC = 0x00000801  # unsigned byte data, 1 dimension
IMAGE_SIDE = 28


def parse_idx(payload: bytes, origin: str, magic: int) -> np.ndarray:
    """The uint8 array in an IDX payload, checking the magic number and the exact length."""
    ndim = magic & 0xFF
    header_len = 4 + 4 * ndim
    if len(payload) < header_len:
        raise PipelineError(f"{origin}: too short for an IDX header ({len(payload)} bytes)")
    (found_magic,) = struct.unpack(">I", payload[:4])
    if found_magic != magic:
        raise PipelineError(f"{origin}: wrong IDX magic number 0x{found_magic:08x}, expected 0x{magic:08x}")
    dims = struct.unpack(f">{ndim}I", payload[4:header_len])
    expected_len = header_len + int(np.prod(dims, dtype=np.int64))
    if len(payload) != expected_len:
        raise PipelineError(
            f"{origin}: wrong length: header says {' x '.join(map(str, dims))} "
            f"({expected_len} bytes in all), file has {len(payload)} bytes"
        )
    return np.frombuffer(payload, dtype=np.uint8, offset=header_len).reshape(dims)


def read_gz(path: Path) -> bytes:
    try:
        return gzip.decompress(path.read_bytes())
    except FileNotFoundError:
        raise PipelineError(f"{path}: not found; run the download stage first (`dvc repro download`)") from None
    except gzip.BadGzipFile:
        raise PipelineError(f"{path}: not a gzip file") from None
    except (EOFError, zlib.error):
        raise PipelineError(f"{path}: truncated or corrupted gzip stream") from None


def load_images(path: Path) -> np.ndarray:
    images = parse_idx(read_gz(path), str(path), IMAGE_MAGIC)
    if images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise PipelineError(f"{path}: images are {images.shape[1]} x {images.shape[2]}, expected 28 x 28")
    return images


def load_labels(path: Path) -> np.ndarray:
    labels = parse_idx(read_gz(path), str(path), LABEL_MAGIC)
    if labels.size and labels.max() >= NUM_CLASSES:
        bad = int(np.argmax(labels >= NUM_CLASSES))
        raise PipelineError(f"{path}: label {labels[bad]} at index {bad} is out of range 0-{NUM_CLASSES - 1}")
    return labels


def load_split(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N x 28 x 28 uint8) and labels (N, int64) of one split, checked to agree in count."""
    images, labels = load_images(images_path), load_labels(labels_path)
    if len(images) != len(labels):
        raise PipelineError(
            f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels; "
            "the two files must come from the same split"
        )
    return images, labels.astype(np.int64)
