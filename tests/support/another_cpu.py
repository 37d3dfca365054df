"""Run a script in a fresh interpreter under settings through which libraries choose their code by CPU."""

from __future__ import annotations

import subprocess
import sys

from tests.support.stage_workdir import REPO

# Settings through which MKL (torch's CPU FFT and BLAS), ATen and NumPy choose their code by CPU, all moved at once in
# one process: together they stand in for another CPU. MKL's documented switch for the same results on Intel and other
# CPUs is MKL_CBWR=COMPATIBLE. NumPy ignores the features a CPU lacks.
ANOTHER_CPU = {
    "MKL_CBWR": "COMPATIBLE",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    "ATEN_CPU_CAPABILITY": "default",
    "NPY_DISABLE_CPU_FEATURES": "AVX512F AVX512CD AVX512_SKX AVX2 FMA3",
}


def printed_by(script: str, env: dict[str, str]) -> str:
    """What `script` prints, run from the repository with only `env` (and PATH, PYTHONPATH) in its environment."""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()
