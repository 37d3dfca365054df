"""The in-process mutant runner (tests/support/mutation_runner.py) on a toy project whose function switches on
MUTANT_UNDER_TEST as mutmut's trampolines do: a kill is confirmed; a survivor is not a kill, nor is a mutant over its
time (unfinished) or one that leaves the process failing tests by itself (suspect), after each of which the process
stops; the next run resumes where it stopped."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

TOY = """
import os
import time

broken = []


def add(a, b):
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    if mutant == "toy.x_add__mutmut_1":
        return a - b
    if mutant == "toy.x_add__mutmut_2":
        return b + a
    if mutant == "toy.x_add__mutmut_3":
        time.sleep(30)
    if mutant == "toy.x_add__mutmut_4":
        broken.append(mutant)
    return 0 if broken else a + b
"""

TESTS = """
from pathlib import Path

from toy import add


def test_adds():
    with Path("ran.txt").open("a") as ran:
        ran.write("adds\\n")
    assert add(2, 1) == 3


def test_adds_zero():
    with Path("ran.txt").open("a") as ran:
        ran.write("adds_zero\\n")
    assert add(0, 0) == 0
"""


def run_mutants(root: Path, names: list[str]) -> str:
    (root / "names.txt").write_text("\n".join(names))
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "MUTATION_NAMES": "names.txt",
        "MUTATION_RESULTS": "results.txt",
        "MUTATION_LIMIT": "2",
    }
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.support.mutation_runner"]
    done = subprocess.run([*command, "test_toy.py"], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return (root / "results.txt").read_text()


def test_each_mutant_is_killed_survives_runs_over_time_or_is_suspect_and_a_stopped_run_resumes(tmp_path):
    (tmp_path / "toy.py").write_text(TOY)
    (tmp_path / "test_toy.py").write_text(TESTS)
    stats = {
        "duration_by_test": {"test_toy.py::test_adds_zero": 0.01, "test_toy.py::test_adds": 0.02},
        "tests_by_mangled_function_name": {"toy.x_add": ["test_toy.py::test_adds", "test_toy.py::test_adds_zero"]},
    }
    (tmp_path / "mutmut-stats.json").write_text(json.dumps(stats))
    (tmp_path / "results.txt").write_text("toy.x_add__mutmut_2: survived\n")  # from a stopped run
    names = [f"toy.x_add__mutmut_{number}" for number in (1, 2, 3, 4, 5)]

    assert run_mutants(tmp_path, names).splitlines() == [
        "toy.x_add__mutmut_2: survived",
        "toy.x_add__mutmut_1: killed",
        "toy.x_add__mutmut_3: unfinished",
    ]  # and the process stopped there: the alarm may have cut a fixture's setup short
    # Fastest first for mutant 1, killed by the second test and confirmed by it; then the killer first for mutant 3.
    assert (tmp_path / "ran.txt").read_text().split() == ["adds_zero", "adds", "adds", "adds"]
    assert run_mutants(tmp_path, names).splitlines()[3:] == ["toy.x_add__mutmut_4: suspect"]  # stopped again
    assert run_mutants(tmp_path, names).splitlines()[4:] == ["toy.x_add__mutmut_5: survived"]  # a new process
