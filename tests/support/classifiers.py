"""A test's own classifier in place of a catalogued model's."""

from collections.abc import Callable
from dataclasses import replace

import pytest
from sklearn.base import BaseEstimator

from fmnist.catalog import CLASSIFY_MODELS
from fmnist.classical import models


def swap_classifier(monkeypatch: pytest.MonkeyPatch, name: str, make: Callable[[int], BaseEstimator]) -> None:
    """Model `name` builds `make(seed)`, without scaling, until the test ends: its record's builder path then names
    `make` (set as an attribute of fmnist.classical.models, where the catalog's builders live)."""
    attribute = f"test_builder_{name}"
    monkeypatch.setattr(models, attribute, make, raising=False)
    record = replace(CLASSIFY_MODELS[name], scaling="none", builder=f"{models.__name__}:{attribute}")
    monkeypatch.setitem(CLASSIFY_MODELS, name, record)
