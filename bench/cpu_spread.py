"""The default CNNs as other CPUs would train them: the spread of their test accuracy, and whether their weights'
bytes hold, when this machine runs the same stage with its libraries held to narrower code paths.

    python -m bench.cpu_spread                      # the quick default archs, native, avx2, mkl_compatible
    python -m bench.cpu_spread --settings native sse4
    python -m bench.cpu_spread --archs lenet5 cnn1  # some archs
    python -m bench.cpu_spread --report-only        # the table of the last run
    python -m bench.cpu_spread --smoke              # the first arch of train_cnn.archs, two settings: does it run?

oneDNN (convolutions) and ATen (the other kernels) choose their code by instruction set, MKL (matrix products) by
instruction set and CPU vendor: each setting below is an environment a CPU of another kind would give the stage, set
before the stage's process starts. Each run is `python -m stages.train_cnn --arch <arch>` in a folder of its own
under --workdir (this project's params.yaml and data/prepared), so the project's outputs are left alone. Writes the
test accuracy, seconds and checkpoint SHA-256 of every run, and each arch's spread, to --out with the CPU model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench._repro import RESULTS, write_results
from fmnist.cores import cpu_model
from fmnist.kernels import CPU_KERNELS
from fmnist.layout import Layout
from fmnist.params import load_params
from fmnist.records import load_record

REPO = Path(__file__).resolve().parents[1]
# name -> the environment of a CPU of that kind (this machine's own: none set): the recipe's `cpu_kernels` settings,
# and one with no AVX at all.
SETTINGS: dict[str, dict[str, str]] = {
    **CPU_KERNELS,
    "sse4": {"ONEDNN_MAX_CPU_ISA": "SSE41", "ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
}
# An AVX2-only CPU, and MKL's vendor branch; sse4 (no AVX at all) on request.
DEFAULT_SETTINGS = ("native", "avx2", "mkl_compatible")
# The default archs that train in minutes on 2 cores (convnet_bn and resnet9 take 20 minutes or more a run).
QUICK_ARCHS = ("mlp", "dense2", "cnn1", "lenet5")


def train(arch: str, setting: str, project: Path, workdir: Path) -> dict:
    """Train `arch` under `setting` in a folder of its own under `workdir`: its test accuracy, seconds and the SHA-256
    of its checkpoint."""
    run_dir = workdir / setting
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(project / "params.yaml", run_dir / "params.yaml")
    prepared = Layout(run_dir).prepared
    if not prepared.exists():
        prepared.parent.mkdir(parents=True, exist_ok=True)
        prepared.symlink_to(Layout(project).prepared.resolve())
    env = {**os.environ, "PYTHONPATH": str(REPO), **SETTINGS[setting]}
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "stages.train_cnn", "--arch", arch], cwd=run_dir, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"train_cnn@{arch} under {setting} failed:\n{result.stderr[-3000:]}")
    outputs = Layout(run_dir).cnn(arch)
    return {
        "test_accuracy": load_record(outputs.record)["test_accuracy"],
        "seconds": round(seconds, 1),
        "checkpoint_sha256": hashlib.sha256(outputs.checkpoint.read_bytes()).hexdigest(),
    }


def spread(runs: dict[str, dict]) -> dict:
    """An arch's runs summed up: the test accuracy's range, and whether every checkpoint has the native one's bytes."""
    accuracies = [run["test_accuracy"] for run in runs.values()]
    native = runs.get("native", {}).get("checkpoint_sha256")
    return {
        "accuracy_spread": round(max(accuracies) - min(accuracies), 4),
        "bytes_identical": native is not None and all(run["checkpoint_sha256"] == native for run in runs.values()),
    }


def table(results: dict) -> list[str]:
    settings = [s for s in SETTINGS if any(s in record["runs"] for record in results["archs"].values())]
    lines = [
        f"CPU {results['cpu']}, {results['date']}, commit {results['commit']}",
        "| arch | " + " | ".join(f"{s} accuracy (s)" for s in settings) + " | spread | bytes identical |",
        "| --- |" + " --- |" * (len(settings) + 2),
    ]
    for arch, record in results["archs"].items():
        runs = record["runs"]
        cells = [f"{runs[s]['test_accuracy']:.4f} ({runs[s]['seconds']:.0f})" if s in runs else "-" for s in settings]
        lines.append(
            f"| {arch} | {' | '.join(cells)} | {record['accuracy_spread']:.4f} | "
            f"{'yes' if record['bytes_identical'] else 'no'} |"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archs", nargs="+", default=list(QUICK_ARCHS))
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(DEFAULT_SETTINGS))
    parser.add_argument("--smoke", action="store_true", help="the first arch of train_cnn.archs, native and avx2")
    parser.add_argument("--report-only", action="store_true", help="print the table of --out, train nothing")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/fmnist-cpu-spread"))
    parser.add_argument("--out", type=Path, default=RESULTS / "cpu_spread.json")
    args = parser.parse_args(argv)
    if not args.report_only:
        archs, settings = args.archs, args.settings
        if args.smoke:
            archs, settings = load_params()["train_cnn"]["archs"][:1], ["native", "avx2"]
        date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        results = {"cpu": cpu_model(), "date": date, "commit": commit, "archs": {}}
        for arch in archs:
            runs = {s: train(arch, s, Path.cwd(), args.workdir) for s in settings}
            results["archs"][arch] = {"runs": runs, **spread(runs)}
            write_results(args.out, results)  # each arch kept as it ends
    if not args.out.is_file():
        raise SystemExit(f"{args.out}: no results yet; run `python -m bench.cpu_spread` first")
    print("\n".join(table(json.loads(args.out.read_text()))))


if __name__ == "__main__":
    main()
