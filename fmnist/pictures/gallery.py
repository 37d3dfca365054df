"""Galleries of misclassified test images of the best classifier and the best CNN."""

from __future__ import annotations

import logging

import numpy as np

from fmnist.atomic import staged_outputs
from fmnist.classes import CLASS_NAMES
from fmnist.errors import PipelineError
from fmnist.layout import Layout
from fmnist.pictures import figures
from fmnist.runs import best_runs, load_runs, read_predictions

log = logging.getLogger(__name__)


def misclassified(index: np.ndarray, actual: np.ndarray, predicted: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Positions of up to `count` seeded random wrong predictions, ordered by true class then test index."""
    wrong = np.flatnonzero(actual != predicted)
    chosen = np.random.default_rng(seed).permutation(wrong)[:count]
    return chosen[np.lexsort((index[chosen], actual[chosen]))]


def write_galleries(layout: Layout, test_images: np.ndarray, count: int, columns: int, seed: int) -> dict:
    """A gallery of misclassified test images for the best classifier and the best CNN that have predictions.

    Writes one PNG each and gallery.json listing them (empty when no predictions exist yet).
    """
    galleries = []
    with staged_outputs() as staged:
        for kind in ("classify", "cnn"):
            runs = [r for r in best_runs(load_runs(layout, kind)) if r.predictions]
            if not runs:
                log.info("no %s predictions: no gallery for it", kind)
                continue
            run = runs[0]
            index, actual, predicted = read_predictions(run.predictions)
            if len(index) and (index.min() < 0 or index.max() >= len(test_images)):
                raise PipelineError(
                    f"{run.predictions}: test index out of range 0-{len(test_images) - 1}; "
                    "re-run the stage that wrote it on the current data"
                )
            shown = misclassified(index, actual, predicted, count, seed)
            captions = [f"true {CLASS_NAMES[actual[i]]}\npred {CLASS_NAMES[predicted[i]]}" for i in shown]
            n_wrong = int((actual != predicted).sum())
            caption = (
                f"Misclassified test images of the best {'classifier' if kind == 'classify' else 'CNN'}, "
                f"{run.name} (test accuracy {run.accuracy:.4f}): {len(shown)} of its {n_wrong:,} errors, "
                "seeded random, ordered by true class"
            )
            png = layout.gallery_dir / f"{kind}-{run.name}.png"
            figures.image_grid(
                test_images[index[shown]],
                captions,
                f"{run.label}: misclassified test images",
                columns,
                staged.path(png),
            )
            galleries.append(
                {
                    "kind": kind,
                    "name": run.name,
                    "png": png.relative_to(layout.root).as_posix(),
                    "caption": caption,
                    "errors": n_wrong,
                    "shown": len(shown),
                }
            )
        manifest = {"galleries": galleries}
        staged.save_json(layout.gallery_index, manifest)
    return manifest
