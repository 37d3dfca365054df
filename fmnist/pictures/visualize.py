"""One embedding picture of one feature set: PNG, the 2-D coordinates as CSV (for `dvc plots`), and its record
(the 2-D 5-NN accuracy as its metric; settings, sizes and timing as its details)."""

from __future__ import annotations

import logging
import time

import numpy as np

from fmnist.atomic import staged_outputs
from fmnist.catalog import EMBEDDINGS
from fmnist.classes import CLASS_NAMES
from fmnist.data import Dataset
from fmnist.layout import Layout
from fmnist.pictures.embedding import check_settings, draw_subset, embed, knn_accuracy_2d
from fmnist.pictures.figures import embedding_scatter
from fmnist.records import save_record

log = logging.getLogger(__name__)

# How well the 2-D picture keeps the classes apart: the one number of an embedding that `dvc metrics` shows.
HEADLINE = ("knn5_accuracy_2d",)


def write_embedding(dataset: Dataset, layout: Layout, feature: str, method: str, settings: dict, seed: int) -> dict:
    """Embed a seeded stratified subset of feature set `feature` with `method`; write PNG, CSV and JSON."""
    subset = draw_subset(layout, feature, dataset.train_labels, dataset.test_labels, settings["n_points"], seed)
    check_settings(method, settings, len(subset.labels))
    log.info("%s of %s: %d points x %d features", EMBEDDINGS[method].title, feature, *subset.features.shape)
    start = time.perf_counter()
    coords = embed(subset.features, method, settings, seed)
    seconds = time.perf_counter() - start
    knn = knn_accuracy_2d(coords, subset.labels, seed)
    log.info("done in %.1f s; 5-NN accuracy in 2-D %.3f", seconds, knn)
    paths = layout.embedding(feature, method)
    title = (
        f"{EMBEDDINGS[method].title} of {feature} features\n"
        f"{len(subset.labels):,} images (train + test, stratified, seed {seed})"
    )
    info = {
        "feature": feature,
        "method": method,
        "n_points": int(len(subset.labels)),
        "n_points_requested": settings["n_points"],
        "input_dims": int(subset.features.shape[1]),
        "settings": settings,
        "seed": seed,
        "knn5_accuracy_2d": round(knn, 4),
        "seconds": round(seconds, 2),
        "png": paths.png.relative_to(layout.root).as_posix(),
        "classes_in_subset": np.bincount(subset.labels, minlength=len(CLASS_NAMES)).tolist(),
    }
    with staged_outputs() as staged:
        embedding_scatter(coords, subset.labels, title, EMBEDDINGS[method].title, staged.path(paths.png))
        with open(staged.path(paths.csv), "w") as f:
            f.write("split,index,class,x,y\n")
            for split, index, label, (x, y) in zip(subset.split, subset.index, subset.labels, coords, strict=True):
                f.write(f"{split},{index},{CLASS_NAMES[label]},{x:.5g},{y:.5g}\n")
        save_record(staged, paths.record, info, HEADLINE)
    return info
