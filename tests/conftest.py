import hashlib
import urllib.error
from pathlib import Path

import pytest
import torch

from fmnist.data import download
from tests.support.dvc_project import DvcProject, make_tiny_project
from tests.support.idx_files import write_raw_dir
from tests.support.tiny_params import tiny_settings


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


@pytest.fixture(scope="session")
def tiny_pipeline(tmp_path_factory) -> DvcProject:
    """The whole pipeline run once on tiny data and committed, shared by the end-to-end tests.

    Tests may push from it or configure its .dvc/config.local; anything else they change (params,
    outputs) they restore, and tests that run experiments work in a `git clone` of it.
    """
    project = make_tiny_project(tmp_path_factory.mktemp("pipeline"), tiny_params=tiny_settings)
    project.dvc("repro")
    project.commit_all("first run")
    return project


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """An empty torchvision cache and a network that refuses every download."""
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("network unreachable")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
