"""Wall time of one whole default run, stage by stage: what `make repro` runs, forced, in a fresh clone.

    python -m bench.repro_time                      # the real run (about 110 minutes on 2 cores): run it alone
    python -m bench.repro_time --tiny               # the same on the tests' tiny settings (minutes): does it work?
    python -m bench.repro_time --report-only        # the tables of the last run's --out file
    python -m bench.repro_time --held-only          # which outputs of --workdir's run kept the committed bytes, again

Clones this repository (its committed state) into --workdir with an empty DVC cache of its own, so nothing is
restored from a cache or the run cache, then runs `make repro`'s command there with `--force` (`dvc exp run -f`
with the random-weights overrides and end-stage targets where ImageNet weights are missing, else `dvc repro -f`).
Each stage's time is the wall clock from DVC's "Running stage" line to the next stage's (or the end), so it
includes the stage's process start-up and DVC's hashing and caching of its outputs. Prints one row per stage, the
total per stage family and the grand total, with the CPU model, then which outputs kept the bytes of the commit's
dvc.lock (`held`, bench/_held.py: the same results on this CPU as on the one that recorded it?); writes them to
--out as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import yaml

from bench._held import held_bytes
from bench._held import summary as held_summary
from bench._repro import RESULTS, instruction_set, read_results, timed_stages, write_results
from fmnist.backbones.availability import missing_imagenet_weights, offline_run_args
from fmnist.cores import cpu_model
from fmnist.params import load_params

REPO = Path(__file__).resolve().parents[1]


def clone(workdir: Path, tiny: bool) -> None:
    if workdir.exists():
        shutil.rmtree(workdir)
    subprocess.run(["git", "clone", "-q", str(REPO), str(workdir)], check=True)
    (workdir / ".venv").symlink_to(REPO / ".venv")
    (workdir / ".dvc" / "config.local").write_text(f"[cache]\n    dir = {workdir / '.dvc-cache'}\n")
    if tiny:
        from tests.support.tiny_params import tiny_settings

        params = load_params(workdir / "params.yaml")
        tiny_settings(params)
        (workdir / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        identity = ["-c", "user.name=bench.repro_time", "-c", "user.email=bench@localhost"]
        subprocess.run(["git", *identity, "commit", "-qam", "tiny settings"], cwd=workdir, check=True)


def repro_command(params: dict) -> list[str]:
    """`make repro`'s command for `params`, every stage forced."""
    overrides = offline_run_args(params, missing_imagenet_weights(params))
    return ["dvc", "exp", "run", "--force", *overrides] if overrides else ["dvc", "repro", "--force"]


def timed_run(workdir: Path, command: list[str], out: Path, tiny: bool, env: dict[str, str]) -> dict:
    """Run `command` in `workdir` stage by stage (bench._repro.timed_stages) and write its record to `out`, as each
    stage ends too: a run that fails or is stopped keeps the stages it finished, with no total.

    The tests' tiny pipeline is built by this function (tests/conftest.py), so every suite runs it whole."""
    print(f"$ {' '.join(command)}  (in {workdir}, CPU {cpu_model()}, {os.cpu_count()} cores)", flush=True)
    record = {
        "command": command,
        "tiny": tiny,
        "cpu": cpu_model(),
        "isa": instruction_set(),
        "stages": {},
        "total": None,
    }

    def keep(stage: str, seconds: float) -> None:
        record["stages"][stage] = seconds
        write_results(out, record)

    _, total = timed_stages(command, cwd=workdir, env=env, on_stage=keep)
    record.update(total=total, held=None if tiny else held_bytes(workdir, list(record["stages"])))
    write_results(out, record)
    return record


def summary(record: dict) -> list[str]:
    """One line per stage, per stage family (the name before `@`) and the grand total of a run's record."""
    families: dict[str, float] = defaultdict(float)
    lines = []
    for name, seconds in record["stages"].items():
        if seconds is None:  # a run timed from outside that missed its start (a record's `what` says)
            lines.append(f"{name:45s}   not timed")
            continue
        families[name.partition("@")[0]] += seconds
        lines.append(f"{name:45s} {seconds:8.1f} s")
    lines += [f"{family + ' (all)':45s} {seconds:8.1f} s" for family, seconds in families.items()]
    total, cpu = record["total"], f"CPU {record['cpu']} ({record.get('isa')})"
    if total is None:
        timed = sum(seconds is not None for seconds in record["stages"].values())
        lines.append(f"stopped before its end: {timed} stages timed, {cpu}")
    else:
        lines.append(f"{'total':45s} {total:8.1f} s = {total / 60:.1f} min, {cpu}")
    return [*lines, *held_summary(record["held"])] if record.get("held") else lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/fmnist-repro-time"))
    parser.add_argument("--tiny", action="store_true", help="the tests' tiny settings: checks the bench works")
    parser.add_argument("--report-only", action="store_true", help="print the tables of --out, run nothing")
    parser.add_argument(
        "--held-only",
        action="store_true",
        help="compare --workdir's run of --out's stages with its commit's dvc.lock, store it in --out, run nothing",
    )
    parser.add_argument("--out", type=Path, default=REPO / RESULTS / "repro_time.json")
    args = parser.parse_args(argv)
    if args.held_only:
        record = read_results(args.out, {})
        write_results(args.out, {**record, "held": held_bytes(args.workdir, list(record["stages"]))})
    elif not args.report_only:
        clone(args.workdir, args.tiny)
        command = repro_command(load_params(args.workdir / "params.yaml"))
        path = f"{REPO / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"
        timed_run(args.workdir, command, args.out, args.tiny, env={"PATH": path})
    print("\n".join(summary(json.loads(args.out.read_text()))))


if __name__ == "__main__":
    main()
