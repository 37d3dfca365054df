"""The Makefile's recipes in a checkout whose path holds a space, with stand-ins for python, dvc, ruff and the
install scripts (each logs its arguments): no real pip install, apt-get or pipeline run."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")

# A stand-in that records its name and arguments, one call per line, in calls.log beside the Makefile.
STAND_IN = """#!/bin/sh
printf '%s' "$(basename "$0")" >> "$CALLS"
for arg in "$@"; do printf ' [%s]' "$arg" >> "$CALLS"; done
printf '\\n' >> "$CALLS"
"""


def stand_in(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(STAND_IN)
    path.chmod(0o755)


@pytest.fixture
def checkout(tmp_path) -> Path:
    """The Makefile in `a checkout/` with a fake virtual environment already in place."""
    root = tmp_path / "a checkout"
    root.mkdir()
    shutil.copy(REPO / "Makefile", root / "Makefile")
    (root / "requirements.txt").write_text("")
    (root / "requirements-dev.txt").write_text("-r requirements.txt\n")
    for tool in ("python", "dvc", "ruff"):
        stand_in(root / ".venv" / "bin" / tool)
    for script in ("install_dataset.sh", "install_sshd.sh"):
        stand_in(root / "scripts" / script)
    return root


def make(root: Path, *targets: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    # PATH without the real virtual environment: only the stand-ins (put first by the Makefile) may answer.
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    env = {**os.environ, "PATH": path, "CALLS": str(root / "calls.log"), "MAKEFLAGS": ""}
    result = subprocess.run(["make", *targets], cwd=root, env=env, capture_output=True, text=True, timeout=60)
    log = root / "calls.log"
    return result, log.read_text().splitlines() if log.exists() else []


def test_setup_installs_into_the_venv_of_a_path_with_a_space(checkout):
    result, calls = make(checkout, "setup")
    assert result.returncode == 0, result.stdout + result.stderr
    assert calls == ["python [-m] [pip] [install] [-q] [-r] [requirements-dev.txt]"]
    assert (checkout / ".venv" / ".installed").exists()
    result, calls = make(checkout, "setup")  # idempotent: nothing to do once the stamp is newer
    assert result.returncode == 0 and len(calls) == 1


def test_repro_and_test_run_their_commands_in_a_path_with_a_space(checkout):
    result, calls = make(checkout, "repro", "test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert calls == [
        "python [-m] [pip] [install] [-q] [-r] [requirements-dev.txt]",
        "install_dataset.sh",
        "python [-m] [scripts.repro_args]",  # prints no overrides: plain `dvc repro`
        "dvc [repro]",
        "install_sshd.sh",
        "ruff [format] [--check] [.]",
        "ruff [check] [.]",
        "python [-m] [pytest] [-q] [-n] [2] [--dist] [loadfile] [--no-loadscope-reorder]",
    ]


def test_a_second_make_repro_waits_for_the_first(checkout):
    """Two DVC runs in one checkout rewrite the same params.yaml: `make repro` takes a lock and says it waits."""
    (checkout / ".venv" / "bin" / "dvc").write_text(
        '#!/bin/sh\necho "start $(date +%s.%N)" >> "$CALLS"\nsleep 1.5\necho "end $(date +%s.%N)" >> "$CALLS"\n'
    )
    (checkout / ".venv" / ".installed").touch()
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    env = {**os.environ, "PATH": path, "CALLS": str(checkout / "calls.log"), "MAKEFLAGS": ""}
    runs = [
        subprocess.Popen(["make", "repro"], cwd=checkout, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [run.communicate(timeout=60)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert sum("waiting for it" in output for output in outputs) == 1
    events = [line.split() for line in (checkout / "calls.log").read_text().splitlines() if line[:3] in ("sta", "end")]
    assert [kind for kind, _ in events] == ["start", "end", "start", "end"]  # never two at once
