"""Times every classify@<feature>-<model> and classify_wide@<feature>-<model> stage and prints the tables of
docs/BENCHMARKS.md "Classify budget".

The stages run through one `dvc repro --force --single-item <stages>` (one DVC process, as a user's `dvc repro` runs
them), so the timed runs are the pipeline's own runs and dvc.lock records them. Run it alone on the machine (other
jobs inflate the times), in the project's folder:

    python bench/classify.py [--features raw ...] [--models lda ...] [--report-only] [--smoke]

Prints, per feature set x model, the stage's wall-clock seconds (from DVC's "Running stage" line to the next one's)
and the test accuracy, then the search / refit / predict seconds the stage recorded, and the total against the
30-minute budget. Each stage's wall-clock time is kept in bench/results/classify-wall.json (with the run's date), so
re-timing a few stages after a change (`--features`, `--models`) leaves the others' times in place; `--report-only`
prints the tables of every stage timed so far; `--smoke` times the first chosen stage only (seconds on the tests'
tiny project).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for `python bench/classify.py`

from bench._repro import RESULTS, forced_repro, read_results, timed_stages, verdict, write_results
from fmnist.cores import cpu_model
from fmnist.layout import Layout
from fmnist.records import load_record
from fmnist.report.pipeline_outputs import declared_stages

BUDGET_SECONDS = 30 * 60
WALL_TIMES = RESULTS / "classify-wall.json"
CLASSIFY_STAGES = ("classify@", "classify_wide@")  # the two matrices of the same stage (dvc.yaml)
WHOLE_RUN = "dvc repro process of the last run"  # DVC's start-up included


def classify_stages() -> list[tuple[str, str, str]]:
    """(stage name, feature, model) of every classify and classify_wide stage of dvc.yaml, in its order."""
    found = []
    for stage in declared_stages(Path("dvc.yaml")):
        if stage.name.startswith(CLASSIFY_STAGES):
            feature, model = stage.name.partition("@")[2].split("-")  # DVC joins a matrix's values with "-"
            found.append((stage.name, feature, model))
    return found


def table(rows: list[str], cols: list[str], cell) -> str:
    lines = ["| feature | " + " | ".join(cols) + " |", "| --- |" + " ---: |" * len(cols)]
    lines += [f"| {r} | " + " | ".join(cell(r, c) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def save_wall_time(name: str, seconds: float) -> None:
    times = read_results(WALL_TIMES, {})
    times[name] = {
        "seconds": round(seconds, 1),
        "timed": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
    }
    write_results(WALL_TIMES, times)


def run_stages(stages: list[tuple[str, str, str]]) -> None:
    """One `dvc repro` of all `stages`, each stage's wall-clock time saved as it ends."""
    _, whole = timed_stages(forced_repro([name for name, _, _ in stages]), on_stage=save_wall_time)
    save_wall_time(WHOLE_RUN, whole)


def print_tables(stages: list[tuple[str, str, str]]) -> None:
    """The tables of docs/BENCHMARKS.md for `stages`, from their records and recorded wall-clock times."""
    times = read_results(WALL_TIMES, {})
    wall = {(f, m): times[name]["seconds"] for name, f, m in stages if name in times}
    metrics = {
        (f, m): load_record(record)
        for _, f, m in stages
        if (record := Layout().record("classify", f"{f}-{m}")).metrics.is_file()
    }
    features = list(dict.fromkeys(f for _, f, _ in stages))
    models = list(dict.fromkeys(m for _, _, m in stages))

    def seconds(f, m):
        if m == "all":
            return f"{sum(v for (g, _), v in wall.items() if g == f):.0f}"
        return f"{wall[f, m]:.0f}" if (f, m) in wall else "-"

    def accuracy(f, m):
        return f"{metrics[f, m]['test_accuracy']:.4f}" if (f, m) in metrics else "-"

    def phases(f, m):
        if "search_seconds" not in metrics.get((f, m), {}):  # no record, or its details not checked out
            return "-"
        r = metrics[f, m]
        return f"{r['search_seconds']:.0f} / {r['fit_seconds']:.0f} / {r['predict_seconds']:.0f}"

    total = sum(wall.values())
    dates = sorted({times[name]["timed"][:10] for name, _, _ in stages if name in times})
    print(f"\nWall-clock seconds per stage (dvc repro of the stage, on this machine; timed {', '.join(dates)}):\n")
    print(table(features, models + ["all"], seconds))
    print("\nSearch / refit / predict seconds inside each stage:\n")
    print(table(features, models, phases))
    print("\nTest accuracy:\n")
    print(table(features, models, accuracy))
    print(
        f"\nTotal: {total:.0f} s ({total / 60:.1f} min) for {len(wall)} of {len(stages)} stages: "
        f"{verdict(total, BUDGET_SECONDS)}"
    )
    cpus = sorted({times[name].get("cpu", "not recorded") for name, _, _ in stages if name in times})
    print(f"CPU of the timed runs: {'; '.join(cpus)}{' (compare times only within one CPU)' if len(cpus) > 1 else ''}")
    if WHOLE_RUN in times:
        print(
            "The last run's whole `dvc repro` process, DVC's start-up included: "
            f"{times[WHOLE_RUN]['seconds']:.0f} s ({times[WHOLE_RUN]['timed']})"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--features", nargs="*", help="only these feature sets, in this order (default: all)")
    parser.add_argument("--models", nargs="*", help="only these models, in this order (default: all)")
    parser.add_argument(
        "--report-only", action="store_true", help="run nothing; print the tables of every declared stage"
    )
    parser.add_argument("--smoke", action="store_true", help="time the first chosen stage only: does the bench run?")
    args = parser.parse_args(argv)
    declared = classify_stages()
    chosen = [
        s for s in declared if (not args.features or s[1] in args.features) and (not args.models or s[2] in args.models)
    ]
    # In the order asked for: feature sets first, then models.
    chosen.sort(
        key=lambda s: (args.features.index(s[1]) if args.features else 0, args.models.index(s[2]) if args.models else 0)
    )
    if not args.report_only:
        run_stages(chosen[:1] if args.smoke else chosen)
    print_tables(declared)


if __name__ == "__main__":
    main()
