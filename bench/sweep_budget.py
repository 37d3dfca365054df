"""Time report 003's three sweep stages on this machine and print each value's accuracies.

    python -m bench.sweep_budget                  # re-run sweep@hidden_units, sweep@filters, sweep@kernel_size
    python -m bench.sweep_budget --report-only    # only print the tables of the last run
    python -m bench.sweep_budget --smoke          # the first sweep only: does the bench run?

Run it in the project's folder. The run is `dvc repro --force --single-item sweep@<name> ...` (so dvc.lock records
it), timed end to end: process start, data loading, and every value's training, validation curve and test scoring.
The budget is 10 minutes for the three stages together on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import sys

from bench._repro import RESULTS, forced_repro, timed_stages, verdict, write_results
from fmnist.catalog import SWEEPS
from fmnist.cores import cpu_model
from fmnist.layout import Layout
from fmnist.records import load_record

BUDGET_SECONDS = 10 * 60
WALL_TIME = RESULTS / "sweep_budget.json"


def table(name: str) -> tuple[str, float]:
    """The sweep's values as a Markdown table, and the sum of their training seconds."""
    record = load_record(Layout().sweep(name).record)
    rows = [
        f"{name} ({record['arch']}.{record['setting']}, {record['epochs']} epochs per value; "
        f"best on validation: {record['best_value']})",
        "",
        "| value | validation | test | parameters | train s |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for value, run in sorted(record["values"].items(), key=lambda item: int(item[0])):  # JSON keys are strings
        rows.append(
            f"| {value} | {run['val_accuracy']:.4f} | {run['test_accuracy']:.4f} | {run['params_count']:,} | "
            f"{run['train_seconds']:.1f} |"
        )
    return "\n".join(rows), sum(run["train_seconds"] for run in record["values"].values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report-only", action="store_true", help="print the tables of the last run, train nothing")
    parser.add_argument("--smoke", action="store_true", help="the first sweep only")
    args = parser.parse_args(argv)
    sweeps = list(SWEEPS)[: 1 if args.smoke else None]
    stages = [f"sweep@{name}" for name in sweeps]
    wall = None
    if not args.report_only:
        _, wall = timed_stages(forced_repro(stages))
    total = 0.0
    for name in sweeps:
        text, seconds = table(name)
        total += seconds
        print(text, end="\n\n")
    print(f"training time of the {len(stages)} sweeps (sum of train_seconds): {total:.0f} s, CPU {cpu_model()}")
    if wall is not None:
        print(f"wall clock of `dvc repro` of the {len(stages)} stages: {wall:.0f} s, {verdict(wall, BUDGET_SECONDS)}")
        write_results(WALL_TIME, {"cpu": cpu_model(), "wall_seconds": round(wall, 1), "train_seconds": total})
    return 0


if __name__ == "__main__":
    sys.exit(main())
