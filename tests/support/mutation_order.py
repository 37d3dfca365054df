"""The order of a mutant's tests under mutmut (scripts/mutation.sh): its fastest test files first, and in each file
its fastest tests first, by the seconds mutmut recorded for each test (mutants/mutmut-stats.json). mutmut hands a
mutant's tests to pytest in no particular order and stops at the first failure (`-x`), so a mutant that the first
fast test kills no longer waits for a slow one, or for a slow module's fixture (ensemble trains two nets)."""

import json
import os
from pathlib import Path

import pytest

STATS = Path("mutmut-stats.json")  # mutmut runs the tests from its mutants/ folder, where it keeps them


def under_a_mutant() -> bool:
    return "__mutmut_" in os.environ.get("MUTANT_UNDER_TEST", "") and STATS.is_file()


def fastest_first(items: list[pytest.Item], seconds: dict[str, float]) -> None:
    """Sort `items` in place: files by their fastest test, tests within a file by their own time (unknown: last). A
    file's tests stay together, so its module-scoped fixtures are set up once."""
    own = {item.nodeid: seconds.get(item.nodeid, float("inf")) for item in items}
    fastest_in_file: dict[Path, float] = {}
    for item in items:
        fastest_in_file[item.path] = min(fastest_in_file.get(item.path, float("inf")), own[item.nodeid])
    items.sort(key=lambda item: (fastest_in_file[item.path], str(item.path), own[item.nodeid]))


def mutmut_seconds() -> dict[str, float]:
    return json.loads(STATS.read_text())["duration_by_test"]
