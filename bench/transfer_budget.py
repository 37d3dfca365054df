"""Time the transfer-learning stages on this machine, one at a time, and print each one's test accuracy beside the
course report's number it answers.

    python -m bench.transfer_budget                   # every finetune@<run> of params.yaml, then the ensemble
    python -m bench.transfer_budget --stages ensemble # some of them
    python -m bench.transfer_budget --report-only     # the table of the last run, training nothing
    python -m bench.transfer_budget --smoke           # the first of them only: does the bench run?

Run it in the project's folder. Each stage runs as `dvc repro --force --single-item <stage>` (so dvc.lock records
it), timed end to end: process start, the backbone's weights, training, scoring and DVC's caching. The stages' wall
clock goes to bench/results/transfer_budget.json, beside the CPU's name. The budget: 25 minutes for these stages on 2
CPU cores.
"""

from __future__ import annotations

import argparse
import sys

from bench._repro import RESULTS, forced_repro, read_results, timed_stages, verdict, write_results
from fmnist.catalog import ENSEMBLE
from fmnist.cores import cpu_model
from fmnist.layout import Layout
from fmnist.params import load_params
from fmnist.records import load_record

WALL_TIMES = RESULTS / "transfer_budget.json"
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


def table(runs: list[str], seconds: dict[str, float]) -> list[str]:
    rows = [
        "| stage | test accuracy | course report | theirs | difference | validation | stage s |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for run in runs:
        m = load_record(Layout().record("cnn", run))
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
    parser.add_argument("--smoke", action="store_true", help="the first of the stages only")
    args = parser.parse_args(argv)
    runs = args.stages or [*load_params()["finetune"]["runs"], ENSEMBLE]
    runs = runs[: 1 if args.smoke else None]
    # The last figure of every stage, whichever run measured it (a run of some stages keeps the others' and notes).
    results = read_results(WALL_TIMES, {"seconds": {}})
    seconds: dict[str, float] = results["seconds"]
    if not args.report_only:
        for run in runs:
            _, wall = timed_stages(forced_repro([stage_name(run)]))  # one DVC process per stage, timed whole
            seconds[run] = round(wall, 1)
            # Saved after every stage, so that a later failure keeps the earlier figures.
            write_results(WALL_TIMES, {**results, "cpu": cpu_model(), "seconds": seconds})
    print("\n".join(table(runs, seconds)))
    total = sum(seconds.get(run, 0.0) for run in runs)
    print(f"\nwall clock of these stages: {total:.0f} s, {verdict(total, BUDGET_SECONDS)}, CPU {cpu_model()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
