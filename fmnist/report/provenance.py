"""The report's closing section: what drew it (commit, params.yaml, devices, machine, package versions)."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from fmnist.cores import cpu_model
from fmnist.layout import Layout
from fmnist.report.document import Block, BulletList, Heading
from fmnist.report.inputs import Inputs

PACKAGES = (
    "torch",
    "torchvision",
    "numpy",
    "scipy",
    "scikit-learn",
    "pandas",
    "kymatio",
    "openTSNE",
    "umap-learn",
    "matplotlib",
    "dvc",
    "dvclive",
)


def git_commit(root: Path, own: Path) -> str:
    """The checkout's commit and the tracked files changed since, other than dvc.lock and the report's own folder
    `own` (relative to `root`, in git): a run drawing the report rewrites both (DVC and the stage remove the folder
    before drawing it again)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    changed = [
        path for path in (line[3:] for line in status) if path != "dvc.lock" and not Path(path).is_relative_to(own)
    ]
    return commit + (f" plus uncommitted changes to {', '.join(changed)}" if changed else "")


def provenance(layout: Layout, inputs: Inputs) -> list[str]:
    params = layout.params_file
    versions = []
    for package in PACKAGES:
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} not installed")
    devices = sorted({str(r.metrics["device"]) for r in inputs.cnn.values() if "device" in r.metrics})
    params_sha = hashlib.sha256(params.read_bytes()).hexdigest() if params.is_file() else "params.yaml missing"
    return [
        f"git commit: {git_commit(layout.root, layout.reports_dir.relative_to(layout.root))}",
        f"params.yaml SHA-256 when the report was drawn: {params_sha}",
        f"devices the CNNs trained on: {', '.join(devices) if devices else 'no CNN metrics'}",
        f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}",
        "packages: " + ", ".join(versions),
    ]


def section(layout: Layout, inputs: Inputs) -> list[Block]:
    return [Heading(2, "Provenance"), BulletList(tuple(provenance(layout, inputs)))]
