"""Checks on the real dataset; skipped where Debian's dataset-fashion-mnist is not installed."""

from pathlib import Path

import numpy as np
import pytest

from fmnist.data.download import PAYLOAD_SHA256, verify_payload
from fmnist.data.idx import load_split

MIRROR = Path("/usr/share/datasets/fashion-mnist")
pytestmark = pytest.mark.skipif(
    not (MIRROR / "train-images-idx3-ubyte.gz").exists(), reason="real dataset not installed"
)


def test_real_files_pass_their_checksums():
    for name in PAYLOAD_SHA256:
        verify_payload(name, (MIRROR / f"{name}.gz").read_bytes(), name)


@pytest.mark.parametrize("prefix, count", [("train", 60000), ("t10k", 10000)])
def test_real_files_have_the_documented_counts(prefix, count):
    images, labels = load_split(MIRROR / f"{prefix}-images-idx3-ubyte.gz", MIRROR / f"{prefix}-labels-idx1-ubyte.gz")
    assert images.shape == (count, 28, 28)
    assert np.bincount(labels, minlength=10).tolist() == [count // 10] * 10
