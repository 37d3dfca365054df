"""Turning the prepared images into one feature set: features/<name>/{train,test}.npy and info.json.

Each feature kind (`raw`, `scattering`, a pretrained backbone; one module each) builds an Extractor, a function from a
batch of uint8 images to a float32 torch tensor of one row per image. The images stream through it in batches
and the rows go straight into the .npy files on disk (memory-mapped), so memory stays flat however large the set.
"""

from __future__ import annotations

import logging
import os
import resource
import time
from pathlib import Path

import numpy as np
import torch
from numpy.lib.format import open_memmap
from tqdm import tqdm

from fmnist.atomic import StagedOutputs, staged_outputs
from fmnist.catalog import FEATURE_KINDS, resolve
from fmnist.cores import cpu_model
from fmnist.data import Dataset
from fmnist.device import describe
from fmnist.features.extractor import Extractor
from fmnist.layout import Layout
from fmnist.side_by_side import map_batches

log = logging.getLogger(__name__)


def build_extractor(params: dict, param_prefix: str) -> Extractor:
    """The extractor a `features.<name>` section describes; raises PipelineError before any work.

    The kind's builder (fmnist.catalog.FEATURE_KINDS) is imported only for the kind a stage extracts: each
    extract_features@<name> stage then depends on its own kind's code alone (dvc.yaml lists it;
    tests/test_dvc_graph.py checks), so speeding up the scattering does not re-extract ResNet-18 features.
    """
    return resolve(FEATURE_KINDS[params["kind"]].builder)(params, param_prefix)


def extract_into(extractor: Extractor, images: np.ndarray, out: np.ndarray, batch_size: int, desc: str) -> None:
    """Fill `out` (N x dim) with the features of `images`, batch by batch, with a progress bar.

    With the extractor's `parallel_batches`, on the CPU, the batches run side by side (fmnist.side_by_side): each is
    computed the same way whichever worker takes it, so re-runs are byte-identical.
    """

    def featurize(start: int) -> np.ndarray:
        with torch.inference_mode():
            batch = torch.from_numpy(images[start : start + batch_size]).to(extractor.device)
            return extractor.featurize(batch).to("cpu", torch.float32).numpy()

    side_by_side = extractor.parallel_batches and extractor.device.type == "cpu"
    starts = range(0, len(images), batch_size)
    with tqdm(total=len(images), desc=desc, unit="img", unit_scale=True) as bar:
        for start, rows in zip(starts, map_batches(featurize, starts, side_by_side), strict=True):
            out[start : start + len(rows)] = rows
            bar.update(len(rows))


def write_split(
    staged: StagedOutputs, destination: Path, extractor: Extractor, images: np.ndarray, batch_size: int, desc: str
) -> None:
    out = open_memmap(staged.path(destination), mode="w+", dtype=np.float32, shape=(len(images), extractor.dim))
    extract_into(extractor, images, out, batch_size, desc)
    out.flush()
    del out


def extract_feature_set(name: str, params: dict, dataset: Dataset, layout: Layout, extractor: Extractor) -> dict:
    """Write features/<name>/{train,test}.npy (float32, dataset order) and its info.json; return the info."""
    splits = {"train": dataset.train_images, "test": dataset.test_images}
    count = sum(len(images) for images in splits.values())
    with staged_outputs() as staged:
        start = time.perf_counter()
        for split, images in splits.items():
            write_split(
                staged, layout.feature_array(name, split), extractor, images, params["batch_size"], f"{name} {split}"
            )
        seconds = time.perf_counter() - start
        info = {
            "name": name,
            "kind": params["kind"],
            "dimension": extractor.dim,
            "dtype": "float32",
            "rows": {split: len(images) for split, images in splits.items()},
            "parameters": params,
            "weights": extractor.weights,
            "device": describe(extractor.device),
            "seconds": round(seconds, 3),
            "images_per_second": round(count / seconds, 1),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "torch": torch.__version__,
            "cpu": cpu_model(),
            **extractor.notes,
        }
        staged.save_json(layout.feature_info(name), info)
    log.info(
        "%s: %d x %d features in %.1f s (%.0f images/s) on %s",
        name,
        count,
        extractor.dim,
        seconds,
        count / seconds,
        info["device"],
    )
    return info


def use_all_cores() -> int:
    """Give torch every core this process may run on (the default can be fewer); return the count."""
    threads = len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    return threads
