"""Turning the prepared images into one feature set: features/<name>/{train,test}.npy and info.json.

Each feature kind (`raw`, `scattering`, `resnet18`) is a function from a batch of uint8 images to a
float32 torch tensor of one row per image. The images stream through it in batches and the rows go
straight into the .npy files on disk (memory-mapped), so memory stays flat however large the set.
"""

from __future__ import annotations

import logging
import os
import resource
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from numpy.lib.format import open_memmap
from tqdm import tqdm

from fmnist.atomic import StagedOutputs, staged_outputs
from fmnist.backbone_features import FEATURE_DIM, autocast, feature_extractor
from fmnist.dataset import Dataset
from fmnist.device import describe, resolve_device
from fmnist.scattering import build_scattering, scattering_dim, scattering_features

log = logging.getLogger(__name__)

@dataclass
class Extractor:
    """A batch of uint8 N x 28 x 28 images (torch, on `device`) -> float32 N x dim features."""

    dim: int
    device: torch.device
    featurize: Callable[[torch.Tensor], torch.Tensor]
    weights: dict | None = None  # for learned features: which weights, from where
    notes: dict = field(default_factory=dict)
    # On the CPU, run whole batches side by side, one core each, instead of splitting every operation
    # across the cores: no core waits for the other at the end of every operation (measured faster
    # for the scattering's many small FFTs and products, and for ResNet-18's convolutions: README).
    parallel_batches: bool = False


def raw_extractor(image_side: int) -> Extractor:
    return Extractor(image_side * image_side, torch.device("cpu"), lambda x: x.reshape(len(x), -1).float().div_(255.0))


def scattering_extractor(params: dict, param_prefix: str) -> Extractor:
    device = resolve_device(params["device"], f"{param_prefix}.device")
    J, L, order, size, resize = (params[k] for k in ("J", "L", "max_order", "input_size", "resize"))
    scattering = build_scattering(J, L, order, size).to(device)
    return Extractor(
        scattering_dim(J, L, order, size),
        device,
        lambda x: scattering_features(scattering, x, size, resize),
        notes={"implementation": "kymatio Scattering2D (torch frontend) with fmnist.scattering.ComplexBackend"},
        parallel_batches=True,
    )


def resnet18_extractor(params: dict, param_prefix: str) -> Extractor:
    device = resolve_device(params["device"], f"{param_prefix}.device")
    model = feature_extractor(
        params["weights"], params["weights_file"], params["weights_sha256"], param_prefix, params["input_size"], params["seed"]
    ).to(device)
    amp = params["mixed_precision"] and device.type == "cuda"

    def featurize(x: torch.Tensor) -> torch.Tensor:
        with autocast(device, amp):
            return model(x).float()

    weights = {"source": params["weights"], "file": params["weights_file"], "sha256": params["weights_sha256"]}
    if params["weights"] == "random":
        weights["note"] = f"randomly initialised (torch seed {params['seed']}): a pipeline smoke run, not ImageNet features"
    return Extractor(FEATURE_DIM, device, featurize, weights=weights, notes={"mixed_precision": amp}, parallel_batches=True)


def build_extractor(params: dict, param_prefix: str, image_side: int = 28) -> Extractor:
    """The extractor a `features.<name>` section describes; raises PipelineError before any work."""
    kind = params["kind"]
    if kind == "raw":
        return raw_extractor(image_side)
    if kind == "scattering":
        return scattering_extractor(params, param_prefix)
    return resnet18_extractor(params, param_prefix)


def extract_into(extractor: Extractor, images: np.ndarray, out: np.ndarray, batch_size: int, desc: str) -> None:
    """Fill `out` (N x dim) with the features of `images`, batch by batch, with a progress bar.

    Every batch is computed the same way whichever worker takes it (one thread each when batches run
    side by side), so the result does not depend on scheduling: re-runs are byte-identical.
    """

    def featurize(start: int) -> np.ndarray:
        with torch.inference_mode():
            batch = torch.from_numpy(images[start : start + batch_size]).to(extractor.device)
            return extractor.featurize(batch).to("cpu", torch.float32).numpy()

    threads = torch.get_num_threads()
    workers = threads if extractor.parallel_batches and extractor.device.type == "cpu" else 1
    starts = range(0, len(images), batch_size)
    if workers > 1:
        torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(workers) as pool, tqdm(total=len(images), desc=desc, unit="img", unit_scale=True) as bar:
            for start, rows in zip(starts, pool.map(featurize, starts)):
                out[start : start + len(rows)] = rows
                bar.update(len(rows))
    finally:
        torch.set_num_threads(threads)


def write_split(staged: StagedOutputs, destination: Path, extractor: Extractor, images: np.ndarray, batch_size: int, desc: str) -> None:
    out = open_memmap(staged.path(destination), mode="w+", dtype=np.float32, shape=(len(images), extractor.dim))
    extract_into(extractor, images, out, batch_size, desc)
    out.flush()
    del out


def extract_feature_set(name: str, params: dict, dataset: Dataset, out_dir: Path, extractor: Extractor) -> dict:
    """Write out_dir/{train,test}.npy (float32, dataset order) and out_dir/info.json; return the info."""
    splits = {"train": dataset.train_images, "test": dataset.test_images}
    count = sum(len(images) for images in splits.values())
    with staged_outputs() as staged:
        start = time.perf_counter()
        for split, images in splits.items():
            write_split(staged, out_dir / f"{split}.npy", extractor, images, params["batch_size"], f"{name} {split}")
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
            **extractor.notes,
        }
        staged.save_json(out_dir / "info.json", info)
    log.info("%s: %d x %d features in %.1f s (%.0f images/s) on %s", name, count, extractor.dim, seconds, count / seconds, info["device"])
    return info


def use_all_cores() -> int:
    """Give torch every core this process may run on (the default can be fewer); return the count."""
    threads = len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    return threads
