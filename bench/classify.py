"""Times every classify@<feature>-<model> stage on the real data and prints the tables for the README.

Each stage runs through DVC (`dvc repro --force --single-item`), one after another, so the timed runs
are the pipeline's own runs and dvc.lock records them; the summary stage runs at the end. Run it alone
on the machine, under the CPU lock:

    flock /tmp/fmnist-cpu.lock python bench/classify.py [--features raw ...] [--models lda ...]

Prints, per feature set x model, the stage's wall-clock seconds (process start to outputs written) and
the test accuracy, then the search / refit / predict seconds the stage recorded, and the total against
the 30-minute budget.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

from dvc.repo import Repo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from stages.classify import METRICS_DIR, parse_args as stage_args  # noqa: E402

BUDGET_SECONDS = 30 * 60


def classify_stages() -> list[tuple[str, str, str]]:
    """(stage name, feature, model) of every classify matrix stage in dvc.yaml, in dvc.yaml's order."""
    found = []
    for stage in Repo(str(REPO)).index.stages:
        if stage.addressing.startswith("classify@"):
            words = shlex.split(stage.cmd)
            args = stage_args(words[words.index("-m") + 2 :])
            found.append((stage.addressing, args.feature, args.model))
    return found


def table(rows: list[str], cols: list[str], cell) -> str:
    lines = ["| feature | " + " | ".join(cols) + " |", "| --- |" + " ---: |" * len(cols)]
    lines += [f"| {r} | " + " | ".join(cell(r, c) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--features", nargs="*", help="only these feature sets, in this order (default: all)")
    parser.add_argument("--models", nargs="*", help="only these models, in this order (default: all)")
    args = parser.parse_args()
    stages = [
        s for s in classify_stages() if (not args.features or s[1] in args.features) and (not args.models or s[2] in args.models)
    ]
    # In the order asked for: feature sets first, then models.
    stages.sort(key=lambda s: (args.features.index(s[1]) if args.features else 0, args.models.index(s[2]) if args.models else 0))
    wall: dict[tuple[str, str], float] = {}
    metrics: dict[tuple[str, str], dict] = {}
    for i, (name, feature, model) in enumerate(stages, 1):
        print(f"=== [{i}/{len(stages)}] {name}", flush=True)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dvc", "repro", "--force", "--single-item", name], cwd=REPO, check=True)
        wall[feature, model] = time.perf_counter() - start
        metrics[feature, model] = json.loads((REPO / METRICS_DIR / f"{feature}-{model}.json").read_text())
        print(f"=== {name}: {wall[feature, model]:.1f} s, test accuracy {metrics[feature, model]['test_accuracy']:.4f}", flush=True)
    subprocess.run([sys.executable, "-m", "dvc", "repro", "--single-item", "classify_summary"], cwd=REPO, check=True)

    features = list(dict.fromkeys(f for _, f, _ in stages))
    models = list(dict.fromkeys(m for _, _, m in stages))

    def seconds(f, m):
        return f"{wall[f, m]:.0f}" if (f, m) in wall else "-"

    def accuracy(f, m):
        return f"{metrics[f, m]['test_accuracy']:.4f}" if (f, m) in metrics else "-"

    def phases(f, m):
        if (f, m) not in metrics:
            return "-"
        r = metrics[f, m]
        return f"{r['search_seconds']:.0f} / {r['fit_seconds']:.0f} / {r['predict_seconds']:.0f}"

    total = sum(wall.values())
    print("\nWall-clock seconds per stage (dvc repro of the stage, on this machine):\n")
    print(table(features, models + ["all"], lambda f, m: f"{sum(v for (g, _), v in wall.items() if g == f):.0f}" if m == "all" else seconds(f, m)))
    print("\nSearch / refit / predict seconds inside each stage:\n")
    print(table(features, models, phases))
    print("\nTest accuracy:\n")
    print(table(features, models, accuracy))
    print(f"\nTotal: {total:.0f} s ({total / 60:.1f} min) for {len(wall)} stages; budget {BUDGET_SECONDS / 60:.0f} min: "
          f"{'within' if total <= BUDGET_SECONDS else 'OVER'} budget")


if __name__ == "__main__":
    main()
