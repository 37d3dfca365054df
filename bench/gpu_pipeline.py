"""The GPU profile's whole pipeline on one machine, timed stage by stage: bench/results/gpu-pipeline-<card>.json.

    python -m bench.gpu_pipeline --budget-s 480 --out bench/results   # on a CUDA machine, in a scratch copy
    python -m bench.gpu_pipeline --smoke --stages prepare 'finetune@*'   # the same code on the CPU, on tiny data

It runs what `make repro-gpu` runs, without DVC (which the GPU machines lent here lack): it writes params.yaml with
profiles/gpu.yaml applied (in place: run it in a scratch copy of the checkout), then runs each stage's own `cmd` from
dvc.yaml with DVC_STAGE set, as DVC does, once every stage it reads from has finished. Stages that use the GPU run
--gpu-workers at a time (the fine-tunes and the best CNN first, so a short budget measures them); the others (classify,
visualize, pictures, report) run beside them on the remaining cores, `--cpu-workers` at a time. `dvc repro` runs
stages one after another: the record gives both this run's wall time and the sum of its stages' seconds.

No stage starts after --budget-s, and stages still running at --kill-s are stopped; the record is rewritten after
every stage, so a run cut short keeps what it measured. --smoke sets every `device` to cpu and every epoch count to 1.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from fmnist.backbones.availability import missing_imagenet_weights
from fmnist.cores import cpu_model
from fmnist.errors import PipelineError
from fmnist.params import load_params
from fmnist.profiles import apply_profile, load_profile
from fmnist.report.pipeline_outputs import DeclaredStage, declared_stages

GPU_STAGES = ("extract_features", "train_cnn", "finetune", "ensemble", "sweep")
# The order the GPU takes its stages in, where several are ready: the profile's new numbers first.
GPU_ORDER = (
    "extract_features@efficientnet_lite0",
    "extract_features@resnet18",
    "extract_features@raw",
    "extract_features@scatnet",
    "extract_features@scatnet_rich",
    "finetune@lite0_whole_100",
    "train_cnn@resnet9",
    "extract_features@*",
    "finetune@*",
    "train_cnn@*",
    "ensemble",
    "sweep@*",
)


@dataclass
class Run:
    stage: DeclaredStage
    lane: str
    process: subprocess.Popen
    log: Path
    started: float


@dataclass
class Record:
    path: Path
    header: dict[str, Any]
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)

    def write(self, wall_s: float) -> None:
        finished = {n: s for n, s in self.stages.items() if s["status"] == "ok"}
        scores = [
            (m["test_accuracy"], n) for n, s in finished.items() for m in s.get("metrics", {}).values() if _scored(m)
        ]
        best = max(scores, default=(None, None))
        body = {
            **self.header,
            "wall_s": round(wall_s, 1),
            "stages_seconds_sum": round(sum(s.get("seconds", 0.0) for s in self.stages.values()), 1),
            "stages_ok": len(finished),
            "stages_planned": len(self.stages),
            "best_test_accuracy": best[0],
            "best_stage": best[1],
            "stages": self.stages,
        }
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(body, indent=1) + "\n")
        temporary.replace(self.path)


def _scored(metrics: dict[str, Any]) -> bool:
    return isinstance(metrics.get("test_accuracy"), (int, float))


def lane_of(stage: DeclaredStage) -> str:
    return "gpu" if stage.name.split("@")[0] in GPU_STAGES else "cpu"


def gpu_rank(stage: DeclaredStage) -> int:
    return next((i for i, p in enumerate(GPU_ORDER) if fnmatch.fnmatchcase(stage.name, p)), len(GPU_ORDER))


def profiled_params(root: Path, profile: str, smoke: bool) -> tuple[dict[str, Any], list[str]]:
    """params.yaml with the profile applied; backbones without their ImageNet weights here set to random, as
    `make repro` does (named in the second value); --smoke's CPU settings."""
    params = load_params(root / "params.yaml")
    params = apply_profile(params, load_profile(profile, params, root))
    if smoke:
        _force(params, "device", lambda value: "cpu")
        _force(params, "epochs", lambda value: 1 if isinstance(value, int) else value)
    randomised = []
    for missing in missing_imagenet_weights(params):
        section = params
        for part in missing.prefix.split("."):
            section = section[part]
        section["weights"] = "random"
        randomised.append(missing.prefix)
    return params, randomised


def _force(tree: Any, key: str, value_of) -> None:
    if isinstance(tree, dict):
        for k, v in tree.items():
            if k == key:
                tree[k] = value_of(v)
            else:
                _force(v, key, value_of)


def planned(root: Path, patterns: list[str] | None) -> list[DeclaredStage]:
    stages = declared_stages(root / "dvc.yaml")
    if patterns:
        stages = [s for s in stages if any(fnmatch.fnmatchcase(s.name, p) for p in patterns)]
    return stages


def start(stage: DeclaredStage, root: Path, log: Path) -> subprocess.Popen:
    argv = shlex.split(stage.cmd)
    if argv[0] == "python":
        argv[0] = sys.executable
    path = os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "DVC_STAGE": stage.name, "PYTHONPATH": path}
    with log.open("wb") as out:
        return subprocess.Popen(argv, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def log_tail(log: Path, lines: int = 12) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def stage_metrics(root: Path, stage: DeclaredStage) -> dict[str, Any]:
    found = {}
    for out in stage.outs:
        path = root / out
        if out.startswith("metrics/") and path.suffix == ".json" and path.is_file():
            found[out] = json.loads(path.read_text())
    return found


def execute(stages: list[DeclaredStage], root: Path, record: Record, args: argparse.Namespace) -> None:
    logs = root / ".bench-logs"
    logs.mkdir(exist_ok=True)
    pending = list(stages)
    running: dict[str, Run] = {}
    capacity = {"gpu": args.gpu_workers, "cpu": args.cpu_workers}
    for stage in stages:
        record.stages[stage.name] = {"lane": lane_of(stage), "status": "pending"}
    began = time.monotonic()

    def finish(run: Run, status: str) -> None:
        entry = record.stages[run.stage.name]
        entry.update(status=status, seconds=round(time.monotonic() - run.started, 1))
        if status == "ok":
            entry["metrics"] = stage_metrics(root, run.stage)
        else:
            entry["log_tail"] = log_tail(run.log)
        print(f"{time.monotonic() - began:7.1f} s  {status:<8} {run.stage.name} ({entry['seconds']} s)", flush=True)
        del running[run.stage.name]
        record.write(time.monotonic() - began)

    while pending or running:
        for run in list(running.values()):
            if (code := run.process.poll()) is not None:
                finish(run, "ok" if code == 0 else f"rc {code}")
        if time.monotonic() - began > args.kill_s:
            for run in list(running.values()):
                os.killpg(run.process.pid, signal.SIGKILL)
                run.process.wait()
                finish(run, "killed at --kill-s")
            break
        ready = []
        for stage in list(pending):
            states = {o.name: record.stages[o.name]["status"] for o in stages if o is not stage and stage.needs(o)}
            lost = [name for name, status in states.items() if status not in ("ok", "running", "pending")]
            if lost:
                pending.remove(stage)
                record.stages[stage.name]["status"] = f"skipped: needs {', '.join(lost)}"
            elif all(status == "ok" for status in states.values()):
                ready.append(stage)
        over_budget = time.monotonic() - began > args.budget_s
        if not running and (over_budget or not ready):  # nothing left that can start
            break
        if over_budget:
            ready = []
        for stage in sorted(ready, key=gpu_rank):
            lane = lane_of(stage)
            if sum(r.lane == lane for r in running.values()) < capacity[lane]:
                pending.remove(stage)
                record.stages[stage.name]["status"] = "running"
                log = logs / f"{stage.name}.log"
                running[stage.name] = Run(stage, lane, start(stage, root, log), log, time.monotonic())
        time.sleep(0.2)
    for name in (s.name for s in pending):
        record.stages[name]["status"] = "not started (budget)" if over_budget else "not started: waits on itself"
    record.write(time.monotonic() - began)


def machine(smoke: bool) -> dict[str, Any]:
    import torch

    found = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    if torch.cuda.is_available() and not smoke:
        found["device"] = torch.cuda.get_device_name(0)
        query = ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"]
        found["driver"] = subprocess.run(query, capture_output=True, text=True).stdout.strip()
    else:
        found["device"] = "cpu"
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="gpu")
    parser.add_argument("--stages", nargs="*", help="stage names or patterns (default: every stage of dvc.yaml)")
    parser.add_argument("--budget-s", type=float, default=840.0, help="no stage starts after this many seconds")
    parser.add_argument("--kill-s", type=float, default=900.0, help="stages still running then are stopped")
    parser.add_argument("--gpu-workers", type=int, default=1, help="stages on the GPU at a time")
    parser.add_argument("--cpu-workers", type=int, default=max(1, ((os.cpu_count() or 2) - 2) // 2))
    parser.add_argument("--commit", default="", help="the commit the checkout holds (for the record)")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--smoke", action="store_true", help="every device cpu, every epoch count 1")
    args = parser.parse_args(argv)
    root = Path.cwd()
    try:
        params, randomised = profiled_params(root, args.profile, args.smoke)
    except PipelineError as exc:
        sys.exit(f"error: {exc}")
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    found = machine(args.smoke)
    card = found["device"].split()[-1].lower() if found["device"] != "cpu" else "cpu"
    args.out.mkdir(parents=True, exist_ok=True)
    header = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": args.commit,
        "command": "python -m bench.gpu_pipeline " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])),
        "profile": args.profile,
        "random_weights": randomised,
        "gpu_workers": args.gpu_workers,
        "cpu_workers": args.cpu_workers,
        **found,
    }
    record = Record(args.out / f"gpu-pipeline-{card}.json", header)
    execute(planned(root, args.stages), root, record, args)
    print(f"record: {record.path}")


if __name__ == "__main__":
    main()
