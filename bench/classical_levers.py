"""What each classical lever buys toward the classical target (0.93): an RBF SVM on candidate feature sets, scored on
the validation split.

The test set chooses nothing here: every variant trains on a seeded subset of the training rows outside
data/prepared/val_indices.npy and is scored on those held-out rows. The model is the svm stage's best setting
(standardise, PCA to 256 or `--pca`, RBF SVC with C = 10, or each of `--C`); the scattering rows come from
features/scatnet_rich (run `dvc pull` or `dvc repro extract_features@scatnet_rich` first), HOG from
fmnist.features.hog.

    python -m bench.classical_levers                      # the default levers on 20,000 rows (about 10 minutes)
    python -m bench.classical_levers --rows 54000 --levers hog+scatnet_rich   # all rows outside the validation split
    python -m bench.classical_levers --rows 54000 --levers hog_6_bins+scatnet_rich --hflip   # and their mirror images
    python -m bench.classical_levers --rows 15000 --levers raw,resnet18 --pca 512   # a pipeline feature set as saved

A lever named after a feature set of the pipeline (FEATURE_SETS) takes its rows from features/<set>/train.npy.

Prints one line per lever and keeps them in bench/results/classical_levers.json (one entry per lever and row count).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

from bench.gpu import cpu_model
from fmnist.features.extract import build_extractor, extract_into
from fmnist.features.hog import hog_features
from fmnist.layout import Layout
from fmnist.names import FEATURE_SETS
from fmnist.params import load_params

RESULTS = Path(__file__).resolve().parent / "results" / "classical_levers.json"
# name -> HOG (orientations, pixels per cell, cells per block) or None, and whether the scattering rows come along.
LEVERS = {
    "scatnet_rich": (None, True),
    "hog": ((9, 4, 2), False),
    "hog+scatnet_rich": ((9, 4, 2), True),
    "hog_3x3_blocks+scatnet_rich": ((9, 4, 3), True),
    "hog_7px_cells+scatnet_rich": ((9, 7, 2), True),
    "hog_12_bins+scatnet_rich": ((12, 4, 2), True),
    "hog_6_bins+scatnet_rich": ((6, 4, 2), True),
    "hog_4_bins+scatnet_rich": ((4, 4, 2), True),
    "hog_6_bins_3px_cells+scatnet_rich": ((6, 3, 2), True),
    "hog_6_bins_1x1_blocks+scatnet_rich": ((6, 4, 1), True),
}


def score(train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray], C: float, k: int) -> float:
    """Validation accuracy of standardise -> PCA to k -> RBF SVC(C) trained on `train` (features, labels)."""
    pca = PCA(k, svd_solver="randomized", iterated_power=2, random_state=0) if train[0].shape[1] > k else None
    model = make_pipeline(*[step for step in (StandardScaler(), pca, SVC(C=C, cache_size=2000)) if step])
    with threadpool_limits(2):
        model.fit(*train)
        return float((model.predict(val[0]) == val[1]).mean())


def lever_features(images: np.ndarray, hog: tuple[int, int, int] | None, scattering: np.ndarray | None) -> np.ndarray:
    """HOG of `images` (if `hog`), then the given scattering rows (if any)."""
    parts = [hog_features(torch.from_numpy(np.ascontiguousarray(images)), *hog).numpy()] if hog else []
    return np.hstack(parts + ([scattering] if scattering is not None else []))


def rich_scattering(images: np.ndarray) -> np.ndarray:
    """features.scatnet_rich's coefficients of `images`, computed here (for images the pipeline never saw)."""
    params = {**load_params()["features"]["scatnet_rich"], "device": "cpu"}
    extractor = build_extractor(params, "features.scatnet_rich")
    out = np.empty((len(images), extractor.dim), dtype=np.float32)
    extract_into(extractor, np.ascontiguousarray(images), out, params["batch_size"], "scatnet_rich of flipped images")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000, help="training rows (outside the validation split)")
    choices = ", ".join(dict.fromkeys([*LEVERS, *FEATURE_SETS]))
    parser.add_argument("--levers", default=",".join(LEVERS), help=f"comma-separated, of {choices}")
    parser.add_argument("--C", default="10", help="comma-separated values of the SVM's C, each scored")
    parser.add_argument("--pca", type=int, default=256, help="principal components kept")
    parser.add_argument("--hflip", action="store_true", help="add the training rows' mirror images as more rows")
    args = parser.parse_args()
    layout = Layout()
    images = np.load(layout.prepared / "train_images.npy")
    labels = np.load(layout.prepared / "train_labels.npy")
    val_rows = np.load(layout.prepared / "val_indices.npy")
    outside = np.setdiff1d(np.arange(len(labels)), val_rows)
    fit_rows = np.sort(np.random.default_rng(0).choice(outside, min(args.rows, len(outside)), replace=False))
    scattering = np.load(layout.feature_array("scatnet_rich", "train"))
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for lever in args.levers.split(","):
        if lever in FEATURE_SETS:
            if args.hflip:
                raise SystemExit(f"bench.classical_levers: --hflip needs a HOG lever, not the saved set {lever}")
            features = np.load(layout.feature_array(lever, "train"))
        else:
            hog, with_scattering = LEVERS[lever]
            features = lever_features(images, hog, scattering if with_scattering else None)
        train = features[fit_rows], labels[fit_rows]
        if args.hflip:  # mirrored copies of the training rows beside them: twice the rows
            mirrored = images[fit_rows][:, :, ::-1]
            extra = lever_features(mirrored, hog, rich_scattering(mirrored) if with_scattering else None)
            train = np.vstack([train[0], extra]), np.concatenate([train[1], train[1]])
        for C in map(float, args.C.split(",")):
            start = time.perf_counter()
            accuracy = score(train, (features[val_rows], labels[val_rows]), C, args.pca)
            entry = {
                "lever": lever,
                "rows": len(train[1]),
                "hflip": args.hflip,
                "C": C,
                "pca": args.pca,
                "dimension": features.shape[1],
                "val_accuracy": round(accuracy, 4),
                "fit_and_score_seconds": round(time.perf_counter() - start, 1),
                "cpu": cpu_model(),
                "machine": platform.node(),
            }
            print(json.dumps(entry), flush=True)
            results[f"{lever}@{len(fit_rows)}{'+hflip' if args.hflip else ''},C={C:g},pca={args.pca}"] = entry
            RESULTS.parent.mkdir(exist_ok=True)
            RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
