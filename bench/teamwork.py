"""Teamwork on the real data, timed: classify stages here and on a Dask cluster, and one experiment shared
between two clones through a Git remote and the DVC remote.

    python -m bench.teamwork                                  # both parts, the default stages
    python -m bench.teamwork --skip-experiments --stage raw-svm

Dask: each `classify@<set>-<model>` runs as `python -m stages.classify` in a scratch folder (links to
data/prepared and features/<set>, a copy of params.yaml), once on this machine and once with DASK_SCHEDULER_ADDRESS
naming a local cluster of two single-thread workers (`dask scheduler`, `dask worker`); the bench lists any
field of the record (timings aside) that differs. On one machine the cluster competes for the same cores: the
figure is its overhead.

Experiments: HEAD goes into a bare Git repository; clone A (this checkout's DVC cache, linked) runs
`dvc exp run -S cnn.dense2.hidden=10 train_cnn@dense2` and `dvc exp push origin` (outputs to the default remote);
clone B, with an empty cache, runs `dvc pull` (the baseline, as a new teammate would), `dvc exp pull origin`,
`dvc exp apply` and `dvc status`. Needs a committed HEAD whose outputs are in the default remote (`dvc push`).
Run it alone on the machine; figures go to bench/results/teamwork.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.gpu import cpu_model

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "teamwork.json"
TIMINGS = ("search_seconds", "fit_seconds", "predict_seconds")
EXPERIMENT = ("-S", "cnn.dense2.hidden=10", "train_cnn@dense2")


def timed(command: list[str], cwd: Path, **env: str) -> float:
    """Run `command` in `cwd` (its output to this terminal); its wall seconds. Fails loudly."""
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env={**os.environ, **env}, check=True)
    return round(time.perf_counter() - start, 1)


def scratch_workdir(root: Path, feature: str) -> Path:
    work = root / feature
    if not work.exists():
        (work / "data").mkdir(parents=True)
        (work / "features").mkdir()
        (work / "data" / "prepared").symlink_to(REPO / "data" / "prepared")
        (work / "features" / feature).symlink_to(REPO / "features" / feature)
        shutil.copy(REPO / "params.yaml", work / "params.yaml")
    return work


def dask_part(stages: list[str], root: Path) -> list[dict]:
    from tests.support.dask_cluster import dask_cluster

    rows = []
    env = {"PYTHONPATH": str(REPO)}
    root.mkdir(parents=True)
    with dask_cluster(root) as cluster:
        for stage in stages:
            feature, model = stage.split("-", 1)
            work = scratch_workdir(root, feature)
            command = [sys.executable, "-m", "stages.classify", "--feature", feature, "--model", model]
            metrics = work / "metrics" / "classify" / f"{stage}.json"
            local = timed(command, work, **env)
            details = work / "details" / "classify" / f"{stage}.json"
            local_record = {**json.loads(details.read_text()), **json.loads(metrics.read_text())}
            on_dask = timed(command, work, DASK_SCHEDULER_ADDRESS=cluster.scheduler.address, **env)
            row = {"stage": f"classify@{stage}", "local_s": local, "dask_2_workers_s": on_dask}
            dask_record = {**json.loads(details.read_text()), **json.loads(metrics.read_text())}
            row["differ"] = [k for k, v in local_record.items() if dask_record[k] != v and k not in TIMINGS]
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def dvc(*args: str) -> list[str]:
    return [sys.executable, "-m", "dvc", *args]


def experiment_part(root: Path) -> dict:
    bare, alice, bob = root / "team.git", root / "alice", root / "bob"
    subprocess.run(["git", "clone", "-q", "--bare", str(REPO), str(bare)], check=True)
    cache = subprocess.run(dvc("cache", "dir"), cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    for clone in (alice, bob):
        subprocess.run(["git", "clone", "-q", str(bare), str(clone)], check=True)
    subprocess.run(dvc("cache", "dir", "--local", cache), cwd=alice, check=True)
    subprocess.run(dvc("config", "--local", "cache.type", "symlink"), cwd=alice, check=True)
    subprocess.run(dvc("checkout", "--quiet"), cwd=alice, check=True)
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    figures = {
        "alice: dvc exp run (train_cnn@dense2, hidden 10)": timed(dvc("exp", "run", *EXPERIMENT), alice, **env),
        "alice: dvc exp push origin": timed(dvc("exp", "push", "origin"), alice, **env),
        "bob: dvc pull (the baseline, empty cache)": timed(dvc("pull", "--quiet"), bob, **env),
        "bob: dvc exp pull origin": timed(dvc("exp", "pull", "origin"), bob, **env),
    }
    shown = subprocess.run(dvc("exp", "show", "--json"), cwd=bob, capture_output=True, text=True, check=True).stdout
    names = [exp["name"] for base in json.loads(shown) for exp in base.get("experiments") or []]
    figures["bob: dvc exp apply"] = timed(dvc("exp", "apply", names[0]), bob, **env)
    status = subprocess.run(dvc("status", "--json"), cwd=bob, capture_output=True, text=True, check=True).stdout
    figures["bob's dvc status after apply"] = json.loads(status)
    for label, value in figures.items():
        print(f"{label}: {value}", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", action="append", help="<set>-<model>, repeatable")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--skip-experiments", action="store_true")
    args = parser.parse_args()
    result = {"cpu": cpu_model(), "cores": len(os.sched_getaffinity(0))}
    print(f"CPU: {result['cpu']}, {result['cores']} cores", flush=True)
    with tempfile.TemporaryDirectory(prefix="fmnist-teamwork-") as scratch:
        if not args.skip_dask:
            result["dask"] = dask_part(args.stage or ["raw-svm", "raw-random_forest"], Path(scratch) / "dask")
        if not args.skip_experiments:
            result["experiments"] = experiment_part(Path(scratch) / "experiments")
    kept = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    RESULTS.write_text(json.dumps({**kept, **result}, indent=2) + "\n")  # a part not re-run keeps its figures
    print(f"written to {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
