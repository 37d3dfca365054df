"""How many CPU cores a stage computes on, and why the results do not depend on it.

Two kinds of parallel work, two rules:
- Independent pieces, run side by side: the grid search's fits, a forest's trees, one-vs-rest's problems, chunks
  of test rows, feature batches. Each is computed the same way whoever takes it, so they use every core: `auto`,
  every core this process may run on (`os.sched_getaffinity`: a container's or `taskset`'s limit counts). The same
  string on every machine, it re-runs nothing when a teammate moves to a bigger one (`classify.search.n_jobs`).
- One computation split among threads: BLAS and OpenMP inside a fit, oneDNN's convolution gradients. Each thread
  adds its part of a sum and the parts are added last, so the bits of the result follow the thread count
  (measured on 5,000-image subsets of the real data, 1 core against 2 with every thread count following the cores:
  13 of 18 classify runs changed, test accuracy by up to 0.010, and so did LeNet-5's and convnet_bn's weights after
  one epoch; docs/BENCHMARKS.md "Cores and machines"). Their threads are a fixed number, the same on every
  machine: one per fit in the search, `classify.search.fit_threads` (2) for the refit and the predictions,
  `model.cpu_threads` (2) for CNN training. A bigger machine's other cores go to experiments side by side.
tests/test_stage_cli.py runs a feature, a CNN and two classify stages on one core and on two and compares bytes.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

AUTO = "auto"
# OpenBLAS (NumPy's and SciPy's BLAS) picks its kernels by CPU, SkylakeX's on an AVX-512 machine and Haswell's on an
# AVX2 one, and they round differently: the same classify stage (the MLP on EfficientNet-Lite0 features) scored 0.9012
# with the first and 0.9003 with the second. Every stage takes Haswell's, which every AVX2 or AVX-512 x86-64 CPU runs
# (README "Teamwork").
BLAS_CORETYPE = "Haswell"


def cpuinfo(field: str) -> str | None:
    """The first CPU's `field` in /proc/cpuinfo (`model name`, `flags`), None where there is none."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return None
    return next((line.split(":", 1)[1].strip() for line in lines if line.split(":")[0].strip() == field), None)


def cpu_model() -> str:
    """The CPU's model name (records say where a result was computed)."""
    return cpuinfo("model name") or platform.processor() or "unknown"


def pin_blas_kernels() -> None:
    """Make OpenBLAS take BLAS_CORETYPE's kernels on any CPU that has AVX2; call it before NumPy loads (stages/).
    OPENBLAS_CORETYPE already set in the environment is left as it is: an explicit choice."""
    if "avx2" in (cpuinfo("flags") or "").split():
        os.environ.setdefault("OPENBLAS_CORETYPE", BLAS_CORETYPE)


def available_cores() -> int:
    """The number of cores this process may run on."""
    return len(os.sched_getaffinity(0))


def resolve_jobs(n_jobs: int | str) -> int:
    """An `n_jobs` param as a number of workers: `auto` is every available core."""
    return available_cores() if n_jobs == AUTO else int(n_jobs)
