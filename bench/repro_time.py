"""Wall time of one whole default run, stage by stage: what `make repro` runs, forced, in a fresh clone.

    python -m bench.repro_time                      # the real run (about 100 minutes on 2 cores): run it alone
    python -m bench.repro_time --tiny               # the same on the tests' tiny settings (a minute): does it work?

Clones this repository (its committed state) into --workdir with an empty DVC cache of its own, so nothing is
restored from a cache or the run cache, then runs `make repro`'s command there with `--force` (`dvc exp run -f`
with the random-weights overrides where ImageNet weights are missing, else `dvc repro -f`). Each stage's time is
the wall clock from DVC's "Running stage" line to the next stage's (or the end), so it includes the stage's
process start-up and DVC's hashing and caching of its outputs. Prints one row per stage, the total per stage
family and the grand total, with the CPU model; writes them to --out as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import yaml

from bench.gpu import cpu_model
from fmnist.backbones.availability import missing_imagenet_weights, random_overrides

REPO = Path(__file__).resolve().parents[1]
RUNNING = re.compile(r"Running stage '([^']+)'")


def clone(workdir: Path, tiny: bool) -> None:
    if workdir.exists():
        shutil.rmtree(workdir)
    subprocess.run(["git", "clone", "-q", str(REPO), str(workdir)], check=True)
    (workdir / ".venv").symlink_to(REPO / ".venv")
    (workdir / ".dvc" / "config.local").write_text(f"[cache]\n    dir = {workdir / '.dvc-cache'}\n")
    if tiny:
        from tests.support.tiny_params import tiny_settings

        params = yaml.safe_load((workdir / "params.yaml").read_text())
        tiny_settings(params)
        (workdir / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        subprocess.run(["git", "commit", "-qam", "tiny settings"], cwd=workdir, check=True)


def repro_command(workdir: Path) -> list[str]:
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    overrides = random_overrides(missing_imagenet_weights(params))
    return ["dvc", "exp", "run", "--force", *overrides] if overrides else ["dvc", "repro", "--force"]


def timed_run(command: list[str], workdir: Path) -> tuple[list[tuple[str, float]], float]:
    """(stage, seconds) in the order DVC ran them, and the total, streaming DVC's output to stderr."""
    env = {**os.environ, "PATH": f"{REPO / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    starts: list[tuple[str, float]] = []
    with subprocess.Popen(
        command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        for line in process.stdout:
            sys.stderr.write(line)
            if match := RUNNING.search(line):
                starts.append((match[1], time.perf_counter()))
    end = time.perf_counter()
    if process.returncode != 0:
        raise SystemExit(f"bench.repro_time: `{' '.join(command)}` failed (exit {process.returncode}); see above.")
    stages = [
        (name, (starts[i + 1][1] if i + 1 < len(starts) else end) - began) for i, (name, began) in enumerate(starts)
    ]
    return stages, end - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/fmnist-repro-time"))
    parser.add_argument("--tiny", action="store_true", help="the tests' tiny settings: checks the bench works")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "repro_time.json")
    args = parser.parse_args()
    clone(args.workdir, args.tiny)
    command = repro_command(args.workdir)
    print(f"$ {' '.join(command)}  (in {args.workdir}, CPU {cpu_model()}, {os.cpu_count()} cores)", flush=True)
    stages, total = timed_run(command, args.workdir)
    families: dict[str, float] = defaultdict(float)
    for name, seconds in stages:
        families[name.partition("@")[0]] += seconds
        print(f"{name:45s} {seconds:8.1f} s")
    for family, seconds in families.items():
        print(f"{family + ' (all)':45s} {seconds:8.1f} s")
    print(f"{'total':45s} {total:8.1f} s = {total / 60:.1f} min, CPU {cpu_model()}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    record = {"command": command, "tiny": args.tiny, "cpu": cpu_model(), "stages": dict(stages), "total": total}
    args.out.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
