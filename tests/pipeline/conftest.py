"""Every test here runs DVC on a tiny project (minutes in all): marked `e2e`, so `pytest -m "not e2e"` is the
fast inner loop. Tests elsewhere that run DVC, the tiny pipeline or stage scripts end to end carry the mark
themselves. They use one run of the tiny pipeline (the session fixture `tiny_pipeline`) per pytest worker. Under
`pytest -n 2 --dist loadgroup` (`make test`) the teamwork tests go to one worker and the others here to the other,
so the two halves (and the two builds of the pipeline) run side by side while the unit tests fill the gaps."""

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)
            half = "teamwork" if item.path.name == "test_teamwork.py" else "repro"
            item.add_marker(pytest.mark.xdist_group(f"tiny_pipeline_{half}"))
