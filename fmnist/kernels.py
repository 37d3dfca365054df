"""The CPU code paths a net trains and predicts with: the recipe's `cpu_kernels`.

oneDNN (convolutions), ATen (the other kernels) and MKL (matrix products) choose their code by instruction set, and
MKL by CPU vendor too, when torch loads: the same params give other weights' bytes on another kind of CPU (test
accuracy within 0.20 points: docs/BENCHMARKS.md "Cores and machines"). `native` lets them choose (the default: the
fastest); another setting holds them to the code paths named below, as a CPU of that kind would, so machines that
have them all run the same code. They act only when set before torch loads: a stage whose process lacks them starts
itself again with them (the same process id, so DVC and the stage's own lifetime rules see no change).
Torch-free: it must act before torch loads.
"""

from __future__ import annotations

import logging
import os
import sys

log = logging.getLogger(__name__)

# setting -> the environment that holds torch's libraries to its code paths (native: none); the recipe's
# `cpu_kernels` spec (fmnist.recipe) names the same settings.
CPU_KERNELS: dict[str, dict[str, str]] = {
    "native": {},
    # What an AVX2 CPU without AVX-512 would run: oneDNN, ATen and MKL capped at AVX2.
    "avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    # MKL's conditional numerical reproducibility: one code path for Intel and other vendors' CPUs alike.
    "mkl_compatible": {"MKL_CBWR": "COMPATIBLE"},
}


def use_cpu_kernels(setting: str, key: str) -> None:
    """Hold torch's libraries to `setting`'s code paths (param `key`): where this process started without them,
    start it again, same arguments, with them set. `native` changes nothing: an environment of your own stays."""
    wanted = CPU_KERNELS[setting]
    if all(os.environ.get(name) == value for name, value in wanted.items()):
        return
    settings = " ".join(f"{name}={value}" for name, value in wanted.items())
    log.info("`%s` = %s: starting again with %s", key, setting, settings)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], {**os.environ, **wanted})
