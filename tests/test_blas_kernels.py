"""Stages take OpenBLAS's Haswell kernels on every CPU (fmnist.cores.pin_blas_kernels): the same classify bytes on an
AVX2 and an AVX-512 machine."""

import os
import subprocess
import sys
from pathlib import Path

from fmnist import cores
from tests.support.stage_workdir import REPO

# What a stage process sees once `stages` is imported, as `python -m stages.<name>` imports it first.
PROBE = "import stages, os, numpy, scipy.linalg; from fmnist.classical.classify import blas_kernels; " + (
    "print(os.environ.get('OPENBLAS_CORETYPE'), *blas_kernels())"
)


def probe(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO,
        env={**base, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_a_stage_process_takes_the_pinned_kernels_whatever_the_cpu_would_pick():
    assert probe() == f"{cores.BLAS_CORETYPE} openblas {cores.BLAS_CORETYPE}"


def test_a_coretype_set_in_the_environment_is_kept():
    assert probe(OPENBLAS_CORETYPE="Sandybridge") == "Sandybridge openblas Sandybridge"


def test_a_cpu_without_avx2_is_left_to_openblas(monkeypatch):
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: "processor : 0\nflags : fpu sse2 avx\n")
    cores.pin_blas_kernels()
    assert "OPENBLAS_CORETYPE" not in os.environ
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: "processor : 0\nflags : fpu sse2 avx avx2\n")
    cores.pin_blas_kernels()
    assert os.environ["OPENBLAS_CORETYPE"] == cores.BLAS_CORETYPE
