"""The CNN tests' shared fixture: a tiny prepared dataset, made once per test module."""

import pytest

from fmnist.data.dataset import prepare_dataset
from tests.support.idx_files import write_raw_dir


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("cnn_data")
    write_raw_dir(root / "raw")
    prepare_dataset(root / "raw", root / "prepared", val_fraction=0.1, seed=0)
    return root / "prepared"
