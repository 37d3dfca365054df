import hashlib
from pathlib import Path

import pytest

from fmnist import download
from tests.idx_files import write_raw_dir


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    write_raw_dir(folder)
    return folder


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A mirror folder of tiny synthetic files whose checksums the download code is told to expect."""
    folder = tmp_path / "mirror"
    payloads = write_raw_dir(folder)
    expected = {name: hashlib.sha256(payload).hexdigest() for name, payload in payloads.items()}
    monkeypatch.setattr(download, "PAYLOAD_SHA256", expected)
    return folder
