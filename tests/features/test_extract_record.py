"""What extracting a feature set records (info.json, the log line, the progress bars) and how it uses the cores."""

import json
import logging
import resource
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from fmnist import side_by_side
from fmnist.cores import cpu_model
from fmnist.data.dataset import Dataset
from fmnist.device import describe
from fmnist.features import extract as E
from fmnist.features.extractor import Extractor
from fmnist.layout import Layout

PARAMS = {"kind": "corner", "batch_size": 3}
CPU = torch.device("cpu")


def corner(images: torch.Tensor) -> torch.Tensor:
    """Two features per image: its top-left pixel and the one beside it."""
    return images[:, 0, :2].float()


@pytest.fixture
def dataset() -> Dataset:
    images = np.arange(7 * 28 * 28, dtype=np.int64).reshape(7, 28, 28) % 251
    labels = np.zeros(7, dtype=np.int64)
    return Dataset(images[:4].astype(np.uint8), labels[:4], images[4:].astype(np.uint8), labels[4:], np.arange(1))


@pytest.fixture
def two_torch_threads():
    """torch starts with two threads, so that a change to one shows."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(threads)


def fake_clock_and_memory(monkeypatch):
    """perf_counter reads 100 s, then 102.60049 s; the peak resident memory is 300.59 MiB."""
    monkeypatch.setattr(E, "time", SimpleNamespace(perf_counter=iter([100.0, 102.60049]).__next__))

    def getrusage(who):
        assert who == resource.RUSAGE_SELF
        return SimpleNamespace(ru_maxrss=300 * 1024 + 600)

    monkeypatch.setattr(E, "resource", SimpleNamespace(RUSAGE_SELF=resource.RUSAGE_SELF, getrusage=getrusage))


def test_info_records_the_set_its_run_and_the_extractors_notes(tmp_path, dataset, monkeypatch, caplog):
    fake_clock_and_memory(monkeypatch)
    layout = Layout(tmp_path)
    extractor = Extractor(2, CPU, corner, weights={"source": "mine"}, notes={"scale": "none"})
    with caplog.at_level(logging.INFO, logger=E.__name__):
        info = E.extract_feature_set("tiny", PARAMS, dataset, layout, extractor)
    assert info == {
        "name": "tiny",
        "kind": "corner",
        "dimension": 2,
        "dtype": "float32",
        "rows": {"train": 4, "test": 3},
        "parameters": PARAMS,
        "weights": {"source": "mine"},
        "device": describe(CPU),
        "seconds": 2.6,
        "images_per_second": 2.7,  # 7 / 2.60049, to one decimal
        "peak_rss_mib": 301,
        "torch": torch.__version__,
        "cpu": cpu_model(),
        "scale": "none",
    }
    assert json.loads(layout.feature_info("tiny").read_text()) == info
    assert caplog.messages == [f"tiny: 7 x 2 features in 2.6 s (3 images/s) on {describe(CPU)}"]
    for split, images in (("train", dataset.train_images), ("test", dataset.test_images)):
        rows = np.load(layout.feature_array("tiny", split))
        assert rows.dtype == np.float32
        np.testing.assert_array_equal(rows, images[:, 0, :2])


def test_each_split_shows_a_progress_bar_counted_in_images(tmp_path, dataset, capsys):
    E.extract_feature_set("tiny", PARAMS, dataset, Layout(tmp_path), Extractor(2, CPU, corner))
    bars = capsys.readouterr().err
    assert "tiny train: 100%" in bars and "4.00/4.00 [" in bars
    assert "tiny test: 100%" in bars and "3.00/3.00 [" in bars
    assert "img/s]" in bars


def featurize_watching_threads(seen: list) -> Callable[[torch.Tensor], torch.Tensor]:
    """`corner`, noting the thread each batch runs in and torch's thread count there."""

    def featurize(images: torch.Tensor) -> torch.Tensor:
        seen.append((threading.get_ident(), torch.get_num_threads()))
        time.sleep(0.02)  # long enough for a pool with more workers to start a second one
        return corner(images)

    return featurize


@pytest.mark.usefixtures("two_torch_threads")
def test_parallel_batches_run_one_torch_thread_per_core(dataset, monkeypatch):
    monkeypatch.setattr(side_by_side, "available_cores", lambda: 2)
    seen = []
    extractor = Extractor(2, CPU, featurize_watching_threads(seen), parallel_batches=True)
    out = np.zeros((4, 2), dtype=np.float32)
    E.extract_into(extractor, dataset.train_images, out, 1, "train")
    assert [threads for _, threads in seen] == [1, 1, 1, 1] and len({thread for thread, _ in seen}) == 2
    assert torch.get_num_threads() == 2  # given back afterwards
    np.testing.assert_array_equal(out, dataset.train_images[:, 0, :2])


@pytest.mark.usefixtures("two_torch_threads")
def test_other_extractors_run_batch_after_batch_on_every_thread(dataset, monkeypatch):
    """Without parallel_batches, one batch at a time, with all of torch's threads."""
    monkeypatch.setattr(side_by_side, "available_cores", lambda: 2)
    seen = []
    extractor = Extractor(2, CPU, featurize_watching_threads(seen))
    E.extract_into(extractor, dataset.train_images, np.zeros((4, 2), dtype=np.float32), 1, "train")
    assert [threads for _, threads in seen] == [2, 2, 2, 2] and len({thread for thread, _ in seen}) == 1


def test_batches_go_to_the_extractors_device(dataset):
    """The meta device stands in for a GPU: each batch is moved there before the extractor sees it (its features come
    back as CPU rows here, since a meta tensor holds no values to copy back)."""
    devices = []

    def featurize(images: torch.Tensor) -> torch.Tensor:
        devices.append(images.device)
        return torch.zeros(len(images), 2)

    E.extract_into(Extractor(2, torch.device("meta"), featurize), dataset.train_images, np.ones((4, 2)), 3, "train")
    assert devices == [torch.device("meta")] * 2
