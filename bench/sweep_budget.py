"""Time report 003's three sweep stages on this machine and print each value's accuracies.

    python -m bench.sweep_budget                  # re-run sweep@hidden_units, sweep@filters, sweep@kernel_size
    python -m bench.sweep_budget --report-only    # only print the tables of the last run

The run is `dvc repro --force --single-item sweep@<name> ...` (so dvc.lock records it), timed end to end:
process start, data loading, and every value's training, validation curve and test scoring. The budget is
10 minutes for the three stages together on 2 CPU cores.
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
from fmnist.names import SWEEPS
from fmnist.records import load_record

REPO = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = 10 * 60


def table(name: str) -> tuple[str, float]:
    """The sweep's values as a Markdown table, and the sum of their training seconds."""
    record = load_record(Layout(REPO).sweep(name).record)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report-only", action="store_true", help="print the tables of the last run, train nothing")
    args = parser.parse_args()
    stages = [f"sweep@{name}" for name in SWEEPS]
    wall = None
    if not args.report_only:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "dvc", "repro", "--force", "--single-item", *stages], cwd=REPO, check=True
        )
        wall = time.perf_counter() - start
    total = 0.0
    for name in SWEEPS:
        text, seconds = table(name)
        total += seconds
        print(text, end="\n\n")
    print(f"training time of the {len(stages)} sweeps (sum of train_seconds): {total:.0f} s, CPU {cpu_model()}")
    if wall is not None:
        verdict = "within" if wall <= BUDGET_SECONDS else "OVER"
        print(
            f"wall clock of `dvc repro` of the {len(stages)} stages: {wall:.0f} s "
            f"(budget {BUDGET_SECONDS} s): {verdict}"
        )
        out = REPO / "bench" / "results" / "sweep_budget.json"
        out.write_text(json.dumps({"cpu": cpu_model(), "wall_seconds": round(wall, 1), "train_seconds": total}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
