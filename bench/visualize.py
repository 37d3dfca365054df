"""Time every visualize configuration (feature set x method) with the default params on the real features.

Each one runs in its own Python process, as `dvc repro` runs a stage (imports included), writing into a
temporary folder, so the workspace's outputs are untouched. Prints one line per stage and the total.

    python bench/visualize.py [--features raw,scatnet] [--methods pca,tsne]
                                                         [--features-dir features]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for `python bench/visualize.py`

from fmnist.layout import Layout

REPO = Path(__file__).resolve().parents[1]

RUN_ONE = """
import sys
from pathlib import Path
from fmnist.data import load_dataset
from fmnist.layout import Layout
from fmnist.params import load_params
from fmnist.pictures.visualize import write_embedding
feature, method, out = sys.argv[1:]
params = load_params()["visualize"]
write_embedding(load_dataset(Layout().prepared), Layout(Path(out)), feature, method, params[method], params["seed"])
"""


def main() -> None:
    params = yaml.safe_load((REPO / "params.yaml").read_text())["visualize"]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--features", default=",".join(params["features"]))
    parser.add_argument("--methods", default=",".join(params["methods"]))
    parser.add_argument("--features-dir", default="features", help="folder holding <feature>/{train,test}.npy")
    args = parser.parse_args()
    total = 0.0
    print(f"{'stage':<28} {'points':>7} {'embed s':>8} {'stage s':>8} {'5-NN 2-D':>9}")
    with tempfile.TemporaryDirectory() as out:
        (Path(out) / "features").symlink_to((REPO / args.features_dir).resolve())  # outputs in `out`, features here
        for feature in args.features.split(","):
            for method in args.methods.split(","):
                start = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-c", RUN_ONE, feature, method, out],
                    cwd=REPO,
                    check=True,
                    stderr=subprocess.DEVNULL,
                )
                wall = time.perf_counter() - start
                total += wall
                info = json.loads(Layout(Path(out)).embedding(feature, method).info.read_text())
                print(
                    f"visualize@{feature}-{method:<10} {info['n_points']:>7} {info['seconds']:>8.1f} {wall:>8.1f} "
                    f"{info['knn5_accuracy_2d']:>9.3f}",
                    flush=True,
                )
    print(f"total wall-clock of these stages: {total:.0f} s ({total / 60:.1f} min)")


if __name__ == "__main__":
    main()
