"""DVC stage: a 2-D embedding (PCA, t-SNE, UMAP or LLE) of one feature set, as PNG, CSV and info JSON."""

import argparse
import logging
import time
from pathlib import Path

import numpy as np

from fmnist.atomic import staged_outputs
from fmnist.classes import CLASS_NAMES
from fmnist.cli import run_stage, stage_params
from fmnist.dataset import load_dataset
from fmnist.embedding import METHOD_TITLES, METHODS, check_settings, draw_subset, embed, knn_accuracy_2d
from fmnist.figures import embedding_scatter

PARAMS_READ = ("visualize.seed", "visualize.{method}")
PREPARED_DIR = Path("data/prepared")

log = logging.getLogger("visualize")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feature", required=True, help="feature set under features/")
    parser.add_argument("--method", required=True, choices=METHODS)
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    params = stage_params(PARAMS_READ, **vars(args))["visualize"]
    settings, seed = params[args.method], params["seed"]
    name = f"{args.feature}-{args.method}"
    dataset = load_dataset(PREPARED_DIR)
    subset = draw_subset(Path("features") / args.feature, dataset.train_labels, dataset.test_labels,
                         settings["n_points"], seed)
    check_settings(args.method, settings, len(subset.labels))
    log.info("%s of %s: %d points x %d features", METHOD_TITLES[args.method], args.feature, *subset.features.shape)
    start = time.perf_counter()
    coords = embed(subset.features, args.method, settings, seed)
    seconds = time.perf_counter() - start
    knn = knn_accuracy_2d(coords, subset.labels, seed)
    log.info("done in %.1f s; 5-NN accuracy in 2-D %.3f", seconds, knn)
    title = (f"{METHOD_TITLES[args.method]} of {args.feature} features\n"
             f"{len(subset.labels):,} images (train + test, stratified, seed {seed})")
    with staged_outputs() as staged:
        png = Path("figures/visualize") / f"{name}.png"
        embedding_scatter(coords, subset.labels, title, METHOD_TITLES[args.method], staged.path(png))
        with open(staged.path(Path("plots/visualize") / f"{name}.csv"), "w") as f:
            f.write("split,index,class,x,y\n")
            for split, index, label, (x, y) in zip(subset.split, subset.index, subset.labels, coords):
                f.write(f"{split},{index},{CLASS_NAMES[label]},{x:.5g},{y:.5g}\n")
        staged.save_json(Path("metrics/visualize") / f"{name}.json", {
            "feature": args.feature, "method": args.method, "n_points": int(len(subset.labels)),
            "n_points_requested": settings["n_points"], "input_dims": int(subset.features.shape[1]),
            "settings": settings, "seed": seed, "knn5_accuracy_2d": round(knn, 4), "seconds": round(seconds, 2),
            "png": png.as_posix(), "classes_in_subset": np.bincount(subset.labels, minlength=len(CLASS_NAMES)).tolist(),
        })


if __name__ == "__main__":
    run_stage(main)
