"""Which outputs of a forced run kept the bytes its commit's dvc.lock recorded (on another machine, perhaps):
bench.repro_time's `held` (`--held-only` computes it again for a run's --workdir).

Compares each output of the run's stages in the workdir's dvc.lock with the same output in `git show HEAD:dvc.lock`
there, by the MD5 DVC records. Records (details/, features' info.json, learning curves) carry timings or the machine's
name, so they differ from one run to the next whatever the results do: they are counted apart.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml


def is_record(path: str) -> bool:
    """Whether `path` is an output that names the machine or carries timings: details/, features' info.json, a
    net's learning curves (dvclive writes a timestamp on each row)."""
    return path.startswith("details/") or path.endswith("/info.json") or "/live/" in path


def output_hashes(lock: dict) -> dict[str, dict[str, str | None]]:
    """stage -> {output path: MD5} of a parsed dvc.lock."""
    return {
        name: {out["path"]: out.get("md5") for out in stage.get("outs", [])}
        for name, stage in (lock or {}).get("stages", {}).items()
    }


def compare(committed: dict, ran: dict, stages: list[str]) -> dict:
    """`stages`' outputs in the `ran` lock against the `committed` lock: the paths of results that kept their bytes
    and of those that changed, and the number of records (which always change) of each kind."""
    before, after = output_hashes(committed), output_hashes(ran)
    held: dict = {"same": [], "differ": [], "records_same": 0, "records_differ": 0}
    for stage in stages:
        for path, md5 in after.get(stage, {}).items():
            same = before.get(stage, {}).get(path) == md5
            if is_record(path):
                held["records_same" if same else "records_differ"] += 1
            else:
                held["same" if same else "differ"].append(path)
    return held


def committed_lock(workdir: Path) -> dict | None:
    """The dvc.lock of the workdir's commit, None where it has none (a first run)."""
    shown = subprocess.run(["git", "-C", str(workdir), "show", "HEAD:dvc.lock"], capture_output=True, text=True)
    return yaml.safe_load(shown.stdout) if shown.returncode == 0 else None


def held_bytes(workdir: Path, stages: list[str]) -> dict | None:
    """`compare` of the workdir's run of `stages` with its commit; None where the commit has no dvc.lock."""
    committed = committed_lock(workdir)
    if committed is None:
        return None
    return compare(committed, yaml.safe_load((workdir / "dvc.lock").read_text()), stages)


def summary(held: dict) -> list[str]:
    results = len(held["same"]) + len(held["differ"])
    records = held["records_same"] + held["records_differ"]
    return [
        f"results with the committed bytes: {len(held['same'])} of {results}",
        *(f"  differs: {path}" for path in held["differ"]),
        f"records (timings, machine): {held['records_same']} of {records} the same",
    ]
