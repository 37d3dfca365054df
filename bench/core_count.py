"""Do the results depend on the number of cores? The same work in two processes, one on one core, one on all of
them, compared byte for byte.

    python -m bench.core_count                          # the shipped rules (fmnist/cores.py)
    python -m bench.core_count --threads-follow-cores   # every thread count follows the cores: what the rules prevent
    python -m bench.core_count --features raw --models svm,hgb --archs lenet5_bn

Work, on the real data: each classify model (params.yaml's grid, `n_jobs: auto`) searched on 4,000 of 5,000
training rows of each feature set, refit on the 5,000 and scored on 2,000 test rows; one epoch of each CNN arch on
2,000 training images. Each run prints a digest of its record (timings left out) and predictions, or of its
weights, and its accuracy; the summary lists the runs whose bytes differ between the two core counts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from bench.gpu import cpu_model

REPO = Path(__file__).resolve().parents[1]
MODELS = "lda,qda,logreg,linear_svc,svm,random_forest,knn,mlp,hgb"
TIMINGS = ("search_seconds", "fit_seconds", "predict_seconds")


def digest(*chunks: bytes) -> str:
    return hashlib.sha256(b"".join(chunks)).hexdigest()[:12]


def classify_runs(features: list[str], models: list[str], follow: bool) -> None:
    import numpy as np
    import yaml

    from fmnist.classical.classify import classify
    from fmnist.classical.workers import local_workers
    from fmnist.cores import available_cores
    from fmnist.data import load_dataset

    params = yaml.safe_load((REPO / "params.yaml").read_text())["classify"]
    threads = available_cores() if follow else params["search"]["fit_threads"]
    data = load_dataset(REPO / "data" / "prepared")
    rows = np.arange(0, len(data.train_labels), len(data.train_labels) // 5000)[:5000]
    for feature in features:
        train = np.load(REPO / "features" / feature / "train.npy", mmap_mode="r")
        test = np.load(REPO / "features" / feature / "test.npy", mmap_mode="r")
        train_xy = (np.ascontiguousarray(train[rows]), data.train_labels[rows])
        test_xy = (np.ascontiguousarray(test[:2000]), data.test_labels[:2000])
        for model in models:
            model_params = {**params[model], "max_train": None}
            search = {**params["search"], "size": 4000}
            record, predicted = classify(
                feature, model, model_params, search, train_xy, test_xy, local_workers("auto", threads)
            )
            kept = {key: value for key, value in record.items() if key not in TIMINGS}
            print(
                json.dumps(
                    {
                        "run": f"{feature}-{model}",
                        "digest": digest(json.dumps(kept, sort_keys=True).encode(), predicted.tobytes()),
                        "accuracy": round(record["test_accuracy"], 4),
                    }
                ),
                flush=True,
            )


def cnn_runs(archs: list[str], follow: bool) -> None:
    import torch
    import yaml

    from fmnist.cnn.loop import Recipe, TrainingData, fit, seed_everything
    from fmnist.cnn.nets import build_net
    from fmnist.cnn.recipes import effective_recipe, input_pipeline
    from fmnist.cores import available_cores
    from fmnist.data import load_dataset
    from fmnist.device import use_cpu_threads

    class Quiet:
        def batch(self, step, loss):
            pass

        def epoch(self, epoch, values):
            pass

    params = yaml.safe_load((REPO / "params.yaml").read_text())
    data = load_dataset(REPO / "data" / "prepared")
    images, labels = torch.from_numpy(data.train_images), torch.from_numpy(data.train_labels)
    train_idx, val_idx = data.fit_indices()[:2000], data.val_indices[:500]
    for arch in archs:
        settings = params["cnn"][arch]
        recipe = effective_recipe(arch, params["model"], settings).__dict__ | {"epochs": 1, "device": "cpu"}
        recipe = Recipe.from_params(recipe)
        use_cpu_threads(available_cores() if follow else recipe.cpu_threads)
        seed_everything(recipe.seed)
        net = build_net(arch, settings)
        result = fit(
            net,
            TrainingData(images, labels, train_idx, val_idx, input_pipeline(arch, settings, recipe)),
            recipe,
            torch.device("cpu"),
            Quiet(),
            arch,
        )
        weights = digest(*(t.detach().contiguous().numpy().tobytes() for t in net.state_dict().values()))
        print(json.dumps({"run": f"cnn-{arch}", "digest": weights, "accuracy": round(result.best_val_accuracy, 4)}))


def child(args: argparse.Namespace) -> None:
    os.environ.setdefault("TQDM_DISABLE", "1")
    if args.features:
        classify_runs(args.features.split(","), args.models.split(","), args.threads_follow_cores)
    if args.archs:
        cnn_runs(args.archs.split(","), args.threads_follow_cores)


def run_on(cores: set[int], argv: list[str]) -> dict[str, dict]:
    result = subprocess.run(
        [sys.executable, "-m", "bench.core_count", "--child", *argv],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        preexec_fn=lambda: os.sched_setaffinity(0, cores),
        capture_output=True,
        text=True,
        check=True,
    )
    runs = [json.loads(line) for line in result.stdout.splitlines() if line.startswith('{"run"')]
    return {run["run"]: run for run in runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--features", default="raw,scatnet_rich", help="comma-separated feature sets ('' for none)")
    parser.add_argument("--models", default=MODELS)
    parser.add_argument("--archs", default="mlp,cnn1,lenet5_bn,convnet_bn", help="comma-separated ('' for none)")
    parser.add_argument("--threads-follow-cores", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    all_cores = os.sched_getaffinity(0)
    print(f"CPU: {cpu_model()}; one core against {len(all_cores)}; threads follow cores: {args.threads_follow_cores}")
    argv = sys.argv[1:]
    one, every = run_on({min(all_cores)}, argv), run_on(all_cores, argv)
    differ = []
    for name, run in one.items():
        same = run["digest"] == every[name]["digest"]
        differ += [] if same else [name]
        print(
            f"{name:28s} {run['digest']} {every[name]['digest']} accuracy {run['accuracy']} / "
            f"{every[name]['accuracy']}{'' if same else '  DIFFERENT'}"
        )
    listed = ", ".join(differ) or "none"
    print(f"{len(differ)} of {len(one)} runs differ between 1 and {len(all_cores)} cores: {listed}")


if __name__ == "__main__":
    main()
