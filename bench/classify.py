"""Times every classify@<feature>-<model> and classify_wide@<feature>-<model> stage on the real data and prints the
tables for the README.

The stages run through one `dvc repro --force --single-item <stages>` (one DVC process, as a user's
`dvc repro` runs them), so the timed runs are the pipeline's own runs and dvc.lock records them; the
summary stage runs at the end. Run it alone on the machine (other jobs inflate the times):

    python bench/classify.py [--features raw ...] [--models lda ...] [--report-only]

Prints, per feature set x model, the stage's wall-clock seconds (from DVC's "Running stage" line to the next one's) and
the test accuracy, then the search / refit / predict seconds the stage recorded, and the total against
the 30-minute budget. Each stage's wall-clock time is kept in bench/results/classify-wall.json (with the
run's date), so re-timing a few stages after a change (`--features`, `--models`) leaves the others'
times in place; `--report-only` prints the tables of every stage timed so far.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from dvc.repo import Repo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for `python bench/classify.py`

from bench.gpu import cpu_model
from fmnist.layout import Layout
from fmnist.records import load_record
from stages.classify import parse_args as stage_args

REPO = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = 30 * 60
WALL_TIMES = REPO / "bench" / "results" / "classify-wall.json"
CLASSIFY_STAGES = ("classify@", "classify_wide@")  # the two matrices of the same stage (dvc.yaml)
RUNNING = re.compile(r"Running stage '((?:classify|classify_wide)@[^']+)'")
WHOLE_RUN = "dvc repro process of the last run"  # DVC's start-up included


def classify_stages() -> list[tuple[str, str, str]]:
    """(stage name, feature, model) of every classify and classify_wide stage in dvc.yaml, in dvc.yaml's order."""
    found = []
    for stage in Repo(str(REPO)).index.stages:
        if stage.addressing.startswith(CLASSIFY_STAGES):
            words = shlex.split(stage.cmd)
            args = stage_args(words[words.index("-m") + 2 :])
            found.append((stage.addressing, args.feature, args.model))
    return found


def table(rows: list[str], cols: list[str], cell) -> str:
    lines = ["| feature | " + " | ".join(cols) + " |", "| --- |" + " ---: |" * len(cols)]
    lines += [f"| {r} | " + " | ".join(cell(r, c) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def load_wall_times() -> dict[str, dict]:
    return json.loads(WALL_TIMES.read_text()) if WALL_TIMES.is_file() else {}


def save_wall_time(name: str, seconds: float) -> None:
    times = load_wall_times()
    times[name] = {
        "seconds": round(seconds, 1),
        "timed": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
    }
    WALL_TIMES.parent.mkdir(parents=True, exist_ok=True)
    WALL_TIMES.write_text(json.dumps(times, indent=2, sort_keys=True) + "\n")


def run_stages(stages: list[tuple[str, str, str]]) -> None:
    """One `dvc repro` of all `stages` (one DVC process, as a user's `dvc repro` runs them), then the summary.

    A stage's wall-clock time runs from DVC's "Running stage" line for it to the next stage's line (the
    last: to the end of the process), so it includes the stage's process start and DVC saving its outputs.
    """
    command = [sys.executable, "-m", "dvc", "repro", "--force", "--single-item", *(name for name, _, _ in stages)]
    started: tuple[str, float] | None = None
    process_start = time.perf_counter()
    with subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as process:
        for line in process.stdout:
            print(line, end="", flush=True)
            match = RUNNING.search(line)
            if match:
                if started:
                    save_wall_time(started[0], time.perf_counter() - started[1])
                started = (match.group(1), time.perf_counter())
    if process.returncode != 0:
        raise SystemExit(
            f"dvc repro failed (exit {process.returncode}); the times of the stages that ended are in {WALL_TIMES}"
        )
    if started:
        save_wall_time(started[0], time.perf_counter() - started[1])
    save_wall_time(WHOLE_RUN, time.perf_counter() - process_start)


def print_tables(stages: list[tuple[str, str, str]]) -> None:
    """The README's tables for `stages`, from their metrics and recorded wall-clock times."""
    times = load_wall_times()
    wall = {(f, m): times[name]["seconds"] for name, f, m in stages if name in times}
    metrics = {
        (f, m): load_record(record)
        for _, f, m in stages
        if (record := Layout(REPO).record("classify", f"{f}-{m}")).metrics.is_file()
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
        f"\nTotal: {total:.0f} s ({total / 60:.1f} min) for {len(wall)} of {len(stages)} stages; "
        f"budget {BUDGET_SECONDS / 60:.0f} min: "
        f"{'within' if total <= BUDGET_SECONDS else 'OVER'} budget"
    )
    cpus = sorted({times[name].get("cpu", "not recorded") for name, _, _ in stages if name in times})
    print(f"CPU of the timed runs: {'; '.join(cpus)}{' (compare times only within one CPU)' if len(cpus) > 1 else ''}")
    if WHOLE_RUN in times:
        print(
            "The last run's whole `dvc repro` process, DVC's start-up included: "
            f"{times[WHOLE_RUN]['seconds']:.0f} s ({times[WHOLE_RUN]['timed']})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--features", nargs="*", help="only these feature sets, in this order (default: all)")
    parser.add_argument("--models", nargs="*", help="only these models, in this order (default: all)")
    parser.add_argument(
        "--report-only", action="store_true", help="run nothing; print the tables of every declared stage"
    )
    args = parser.parse_args()
    declared = classify_stages()
    chosen = [
        s for s in declared if (not args.features or s[1] in args.features) and (not args.models or s[2] in args.models)
    ]
    # In the order asked for: feature sets first, then models.
    chosen.sort(
        key=lambda s: (args.features.index(s[1]) if args.features else 0, args.models.index(s[2]) if args.models else 0)
    )
    if not args.report_only:
        run_stages(chosen)
    print_tables(declared)


if __name__ == "__main__":
    main()
