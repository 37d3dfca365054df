"""Time the transfer-learning stages on this machine, one at a time, and print each one's test accuracy beside the
course report's number it answers.

    python -m bench.transfer_budget                   # every finetune@<run> of params.yaml, then the ensemble
    python -m bench.transfer_budget --stages ensemble # some of them
    python -m bench.transfer_budget --report-only     # the table of the last run, training nothing

Each stage runs as `dvc repro --force --single-item <stage>` (so dvc.lock records it), timed end to end: process
start, the backbone's weights, training, scoring and DVC's caching. The stages' wall clock goes to
bench/results/transfer_budget.json, beside the CPU's name. The budget: 25 minutes for these stages on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from bench.gpu import cpu_model
from fmnist.layout import Layout
from fmnist.names import ENSEMBLE
from fmnist.params import load_params
from fmnist.records import load_record

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "transfer_budget.json"
BUDGET_SECONDS = 25 * 60
# The course report number each default run answers (../shared/seeds/README.md); the ensemble's is the goal of 0.95,
# the low end of the deep nets the course reports cite.
TARGETS = {
    "lite0_whole_10": ("001: ResNet-18, 10 % of the data", 0.9069),
    "lite0_whole_50": ("001: ResNet-18, 50 % of the data", 0.9257),
    "lite0_whole_100": ("001: ResNet-18, 100 % of the data", 0.9433),
    "lite0_last_layer": ("002: ResNet-18, last layer", 0.8617),
    "lite0_frozen_head": ("001: VGG-16-BN, frozen convs", 0.9385),
    ENSEMBLE: ("the cited deep nets' low end", 0.950),
}


def stage_name(run: str) -> str:
    return ENSEMBLE if run == ENSEMBLE else f"finetune@{run}"


def timed_repro(stage: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dvc", "repro", "--force", "--single-item", stage], cwd=REPO, check=True)
    return time.perf_counter() - start


def table(runs: list[str], seconds: dict[str, float]) -> list[str]:
    rows = [
        "| stage | test accuracy | course report | theirs | difference | validation | stage s |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for run in runs:
        m = load_record(Layout(REPO).record("cnn", run))
        what, theirs = TARGETS.get(run, ("-", None))
        diff = f"{m['test_accuracy'] - theirs:+.4f}" if theirs is not None else "-"
        wall = f"{seconds[run]:.0f}" if run in seconds else "-"
        rows.append(
            f"| {stage_name(run)} | {m['test_accuracy']:.4f} | {what} | {theirs or '-'} | {diff} | "
            f"{m['val_accuracy']:.4f} | {wall} |"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stages", nargs="*", help="fine-tune run names and/or `ensemble` (default: all)")
    parser.add_argument("--report-only", action="store_true", help="print the last run's table, train nothing")
    args = parser.parse_args(argv)
    runs = args.stages or [*load_params(REPO / "params.yaml")["finetune"]["runs"], ENSEMBLE]
    # The last figure of every stage, whichever run measured it (a run of some stages keeps the others' and notes).
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {"seconds": {}}
    seconds: dict[str, float] = results["seconds"]
    if not args.report_only:
        for run in runs:
            seconds[run] = round(timed_repro(stage_name(run)), 1)
            # Saved after every stage, so that a later failure keeps the earlier figures.
            RESULTS.write_text(json.dumps({**results, "cpu": cpu_model(), "seconds": seconds}, indent=1) + "\n")
    print("\n".join(table(runs, seconds)))
    total = sum(seconds.get(run, 0.0) for run in runs)
    verdict = "within" if total <= BUDGET_SECONDS else "OVER"
    print(f"\nwall clock of these stages: {total:.0f} s ({verdict} the {BUDGET_SECONDS} s budget), CPU {cpu_model()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
