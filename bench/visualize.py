"""Time every visualize configuration (feature set x method) with the project's params on its features.

Each one runs in its own Python process, as `dvc repro` runs a stage (imports included), writing into a
temporary folder, so the workspace's outputs are untouched. Prints one line per stage and the total. Run it in the
project's folder:

    python bench/visualize.py [--features raw,scatnet] [--methods pca,tsne] [--features-dir features] [--smoke]

`--smoke` times the first feature set's first method only: does the bench run?
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for `python bench/visualize.py`

from fmnist.data import load_dataset
from fmnist.layout import Layout
from fmnist.params import load_params
from fmnist.pictures.visualize import write_embedding
from fmnist.records import load_record

REPO = Path(__file__).resolve().parents[1]


def embed_one(feature: str, method: str, out: Path) -> None:
    """What visualize@<feature>-<method> does, its outputs written under `out` (the child process's work)."""
    params = load_params()["visualize"]
    write_embedding(load_dataset(Layout().prepared), Layout(out), feature, method, params[method], params["seed"])


def timed_child(feature: str, method: str, out: Path) -> float:
    """Wall seconds of embed_one in a fresh Python process."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bench.visualize", "--child", feature, method, str(out)],
        env={**os.environ, "PYTHONPATH": path},
        check=True,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--features", help="comma-separated (default: params.yaml visualize.features)")
    parser.add_argument("--methods", help="comma-separated (default: params.yaml visualize.methods)")
    parser.add_argument("--features-dir", default="features", help="folder holding <feature>/{train,test}.npy")
    parser.add_argument("--smoke", action="store_true", help="the first feature set's first method only")
    parser.add_argument("--child", nargs=3, metavar=("FEATURE", "METHOD", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        embed_one(*args.child[:2], Path(args.child[2]))
        return
    params = load_params()["visualize"]
    features = args.features.split(",") if args.features else params["features"]
    methods = args.methods.split(",") if args.methods else params["methods"]
    if args.smoke:
        features, methods = features[:1], methods[:1]
    total = 0.0
    print(f"{'stage':<28} {'points':>7} {'embed s':>8} {'stage s':>8} {'5-NN 2-D':>9}")
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        (out / "features").symlink_to(Path(args.features_dir).resolve())  # outputs in `out`, features here
        for feature in features:
            for method in methods:
                wall = timed_child(feature, method, out)
                total += wall
                info = load_record(Layout(out).embedding(feature, method).record)
                print(
                    f"visualize@{feature}-{method:<10} {info['n_points']:>7} {info['seconds']:>8.1f} {wall:>8.1f} "
                    f"{info['knn5_accuracy_2d']:>9.3f}",
                    flush=True,
                )
    print(f"total wall-clock of these stages: {total:.0f} s ({total / 60:.1f} min)")


if __name__ == "__main__":
    main()
