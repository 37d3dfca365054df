"""Time the default train_cnn stages on this machine and print their accuracies against the course reports.

    python bench/cnn_budget.py                # re-run every stage in train_cnn.archs
    python bench/cnn_budget.py --report-only  # only print the table of the last run
    python bench/cnn_budget.py --smoke        # the first arch only: does the bench run?

Run it in the project's folder. The run is `dvc repro --force --single-item train_cnn@<arch> ...` (so dvc.lock
records it) timed end to end: process start, data loading, training, validation and test scoring of every stage.
The budget is 30 minutes for all default stages together on 2 CPU cores; the best CNN's target is 0.945.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for `python bench/cnn_budget.py`

from bench._repro import RESULTS, forced_repro, timed_stages, verdict, write_results
from fmnist.cores import cpu_model
from fmnist.layout import Layout
from fmnist.params import load_params
from fmnist.records import load_record

BUDGET_SECONDS = 30 * 60
WALL_TIME = RESULTS / "cnn_budget.json"  # the last run's wall clock
BEST_CNN_TARGET = 0.945
# Test accuracy the course reports give for each architecture (../shared/seeds/README.md); None: no number.
REPORT_ACCURACY = {
    "mlp": 0.8812,
    "dense2": 0.659,
    "cnn1": 0.890,
    "lenet5": 0.8987,
    "lenet5_bn": None,
    "lenet5_boosted": 0.9082,
    "convnet_bn": 0.9212,
    "resnet9": None,  # not from the seeds
    "resnet18": 0.9433,
    "vgg16_bn": 0.9385,
}
CONVOLUTIONAL = {"cnn1", "lenet5", "lenet5_bn", "lenet5_boosted", "convnet_bn", "resnet9", "resnet18", "vgg16_bn"}


def table(archs: list[str]) -> tuple[str, dict[str, dict]]:
    rows = [
        "| arch | test accuracy | report | macro F1 | best epoch | epochs run | parameters | train s | images/s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    metrics = {}
    for arch in archs:
        m = load_record(Layout().record("cnn", arch))  # the headline metrics and the details beside them
        metrics[arch] = m
        report = REPORT_ACCURACY[arch]
        rows.append(
            f"| {arch} | {m['test_accuracy']:.4f} | {'-' if report is None else f'{report:.4f}'} | "
            f"{m['macro_f1']:.4f} | {m['best_epoch']} | {m['epochs_run']} | {m['params_count']:,} | "
            f"{m['train_seconds']:.0f} | {m['images_per_second']:.0f} |"
        )
    return "\n".join(rows), metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report-only", action="store_true", help="print the table of the last run, train nothing")
    parser.add_argument("--smoke", action="store_true", help="the first arch of train_cnn.archs only")
    args = parser.parse_args(argv)
    archs = load_params()["train_cnn"]["archs"][: 1 if args.smoke else None]
    wall = None
    if not args.report_only:
        _, wall = timed_stages(forced_repro([f"train_cnn@{arch}" for arch in archs]))
        # Saved before any table is printed, so that the run's time survives whatever comes after.
        write_results(WALL_TIME, {"archs": archs, "wall_seconds": round(wall, 1), "cpu": cpu_model()})
    text, metrics = table(archs)
    print(text)
    print()
    train_total = sum(m["train_seconds"] for m in metrics.values())
    print(f"training time of all {len(archs)} stages (sum of train_seconds): {train_total:.0f} s")
    if wall is not None:
        print(f"wall clock of `dvc repro` of all {len(archs)} stages: {wall:.0f} s, {verdict(wall, BUDGET_SECONDS)}")
    cnns = {a: m["test_accuracy"] for a, m in metrics.items() if a in CONVOLUTIONAL}
    if cnns:
        best = max(cnns, key=cnns.get)
        print(
            f"best CNN: {best} {cnns[best]:.4f} (target {BEST_CNN_TARGET}): "
            f"{'met' if cnns[best] >= BEST_CNN_TARGET else 'NOT met'}"
        )
    below = [
        a for a, m in metrics.items() if REPORT_ACCURACY[a] is not None and m["test_accuracy"] < REPORT_ACCURACY[a]
    ]
    print("below their course report's number:", ", ".join(below) if below else "none")
    print(f"device: {next(iter(metrics.values()))['device']}, CPU {cpu_model()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
