"""Every test here runs DVC on a tiny project (minutes in all): marked `e2e`, so `pytest -m "not e2e"` is the
fast inner loop. Tests elsewhere that run DVC, the tiny pipeline or stage scripts end to end carry the mark
themselves. They share one run of the tiny pipeline (the session fixture `tiny_pipeline`), so under
`pytest -n 2 --dist loadgroup` (`make test`) they all go to one worker, which builds it once."""

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.xdist_group("tiny_pipeline"))
