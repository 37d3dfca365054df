"""Library modules stay small enough to read whole: one job each, split by job when one grows past the limit."""

import pytest

from tests.support.imports import REPO

MAX_LINES = 450
LIBRARY = sorted(p.relative_to(REPO) for p in (REPO / "fmnist").rglob("*.py"))


@pytest.mark.parametrize("path", LIBRARY, ids=str)
def test_no_library_module_is_over_the_limit(path):
    lines = len((REPO / path).read_text().splitlines())
    assert lines <= MAX_LINES, f"{path} has {lines} lines (at most {MAX_LINES}): split it by job"
