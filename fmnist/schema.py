"""A small declarative checker for params.yaml: every key known, every value of the right type and range.

Each spec validates one value and raises PipelineError naming the dotted key, the value, what is
allowed, and where to fix it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fmnist.errors import PipelineError


def _fail(key: str, value: Any, allowed: str) -> PipelineError:
    return PipelineError(
        f"params.yaml: `{key}` = {value!r} is invalid: expected {allowed}. "
        "Fix it in params.yaml (or in your `dvc exp run -S` override)."
    )


class Spec:
    def validate(self, key: str, value: Any) -> None:
        raise NotImplementedError


def _range_text(lo: float | None, hi: float | None, lo_open: bool, hi_open: bool) -> str:
    if lo is None and hi is None:
        return ""
    left = "(" if lo_open else "["
    right = ")" if hi_open else "]"
    return f" in {left}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{right}"


@dataclass(frozen=True)
class Number(Spec):
    """An int, or a float when `integer` is False (ints are accepted for floats: YAML writes 1 for 1.0).

    Always finite: `dvc exp run -S model.lr=nan` writes `.nan`, which YAML reads as a float, and NaN fails
    every comparison with a bound (an unbounded side would let infinities through as well).
    """

    lo: float | None = None
    hi: float | None = None
    integer: bool = False
    lo_open: bool = False
    hi_open: bool = False

    def validate(self, key: str, value: Any) -> None:
        kind = "an integer" if self.integer else "a number"
        allowed = kind + _range_text(self.lo, self.hi, self.lo_open, self.hi_open)
        types = (int,) if self.integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, types):
            raise _fail(key, value, allowed)
        if isinstance(value, float) and not math.isfinite(value):  # ints are finite (and may not fit a float)
            raise _fail(key, value, "a finite number" + _range_text(self.lo, self.hi, self.lo_open, self.hi_open))
        too_low = self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo)
        too_high = self.hi is not None and (value >= self.hi if self.hi_open else value > self.hi)
        if too_low or too_high:
            raise _fail(key, value, allowed)


def Int(lo: int | None = None, hi: int | None = None) -> Number:
    return Number(lo, hi, integer=True)


def Float(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False, hi_open: bool = False) -> Number:
    return Number(lo, hi, integer=False, lo_open=lo_open, hi_open=hi_open)


@dataclass(frozen=True)
class Bool(Spec):
    def validate(self, key: str, value: Any) -> None:
        if not isinstance(value, bool):
            raise _fail(key, value, "true or false")


@dataclass(frozen=True)
class Str(Spec):
    def validate(self, key: str, value: Any) -> None:
        if not isinstance(value, str) or not value:
            raise _fail(key, value, "a non-empty string")


@dataclass(frozen=True)
class Choice(Spec):
    options: tuple

    def __init__(self, *options: Any) -> None:
        object.__setattr__(self, "options", options)

    def validate(self, key: str, value: Any) -> None:
        if isinstance(value, bool) != any(isinstance(o, bool) for o in self.options) or value not in self.options:
            raise _fail(key, value, "one of " + ", ".join(repr(o) for o in self.options))


@dataclass(frozen=True)
class OneOf(Spec):
    """A value that may match any of several specs (say `null` or a positive int)."""

    specs: tuple
    allowed: str

    def validate(self, key: str, value: Any) -> None:
        for spec in self.specs:
            try:
                spec.validate(key, value)
                return
            except PipelineError:
                continue
        raise _fail(key, value, self.allowed)


@dataclass(frozen=True)
class Nullable(Spec):
    """`null`, or a value that `spec` accepts (say an optional file name)."""

    spec: Spec

    def validate(self, key: str, value: Any) -> None:
        if value is not None:
            self.spec.validate(key, value)


@dataclass(frozen=True)
class ListOf(Spec):
    item: Spec
    min_len: int = 0
    max_len: int | None = None
    unique: bool = False

    def validate(self, key: str, value: Any) -> None:
        too_long = self.max_len is not None and isinstance(value, list) and len(value) > self.max_len
        if not isinstance(value, list) or len(value) < self.min_len or too_long:
            if self.max_len == self.min_len:
                raise _fail(key, value, f"a list of exactly {self.min_len} item(s)")
            most = f" and at most {self.max_len}" if self.max_len is not None else ""
            raise _fail(key, value, f"a list of at least {self.min_len}{most} item(s)")
        if self.unique and len(set(map(repr, value))) != len(value):
            raise _fail(key, value, "a list without repeated items")
        for i, item in enumerate(value):
            self.item.validate(f"{key}[{i}]", item)


# A value of a stage matrix: DVC puts it into the stage's name (train_cnn@<arch>, classify@<feature>-<model>, so no
# `-`), into the command and file names in dvc.yaml, and the command runs in a shell.
MATRIX_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class MatrixList(Spec):
    """A list that a `matrix:` in dvc.yaml iterates, one stage per item: a YAML list (DVC cannot iterate anything
    else, and says only "'Value' object is not iterable"), without repeats, of names MATRIX_NAME allows, checked
    before `item` checks them."""

    item: Spec
    min_len: int = 1

    def validate(self, key: str, value: Any) -> None:
        if not isinstance(value, list):
            example = f"[{value}]" if isinstance(value, str) else "[name, ...]"
            raise PipelineError(
                f"params.yaml: `{key}` = {value!r} is not a list: dvc.yaml makes one stage of each of its items, "
                f"so write a YAML list, e.g. `{key.rpartition('.')[2]}: {example}`. Fix it in params.yaml (or in your "
                "`dvc exp run -S` override)."
            )
        for i, name in enumerate(value):
            if not isinstance(name, str) or not MATRIX_NAME.fullmatch(name):
                raise PipelineError(
                    f"params.yaml: `{key}[{i}]` = {name!r} is not a name: it becomes part of a stage name, a shell "
                    "command and file names, so it is lower case letters, digits and underscores (a letter first, "
                    "at most 64). Fix it in params.yaml (or in your `dvc exp run -S` override)."
                )
        ListOf(self.item, min_len=self.min_len, unique=True).validate(key, value)


@dataclass(frozen=True)
class MapOf(Spec):
    """A mapping with free keys (for example a model's grid: sklearn parameter name -> list), or keys
    drawn from `keys` when given."""

    value: Spec
    keys: tuple | None = None

    def validate(self, key: str, value: Any) -> None:
        if not isinstance(value, Mapping):
            raise _fail(key, value, "a mapping")
        for name, item in value.items():
            if self.keys is not None and name not in self.keys:
                raise _fail(f"{key}.{name}", item, "a key among " + ", ".join(self.keys))
            self.value.validate(f"{key}.{name}", item)


@dataclass(frozen=True)
class Overrides(Spec):
    """A mapping of some of `fields`' keys, each checked by its spec: values that replace another section's
    (for example an architecture's own `recipe`, over the shared `model` section)."""

    fields: Mapping[str, Spec]
    replaces: str  # the section whose values these replace, for the messages

    def validate(self, key: str, value: Any) -> None:
        if not isinstance(value, Mapping):
            raise _fail(key, value, f"a mapping of `{self.replaces}` keys to the values that replace them")
        for name, item in value.items():
            if name not in self.fields:
                raise PipelineError(
                    f"params.yaml: unknown key `{key}.{name}`; it may replace these `{self.replaces}` keys: "
                    f"{', '.join(sorted(self.fields))}. Check the spelling in params.yaml (or in your `dvc exp run -S` "
                    "override)."
                )
            self.fields[name].validate(f"{key}.{name}", item)


@dataclass(frozen=True)
class Section(Spec):
    """A mapping with exactly these keys."""

    fields: Mapping[str, Spec]

    def validate(self, key: str, value: Any) -> None:
        where = f"`{key}`" if key else "the top level"
        if not isinstance(value, Mapping):
            raise _fail(key or "(top level)", value, "a mapping")
        known = ", ".join(sorted(self.fields))
        for name in value:
            if name not in self.fields:
                dotted = f"{key}.{name}" if key else str(name)
                raise PipelineError(
                    f"params.yaml: unknown key `{dotted}` under {where}; known keys there: {known}. "
                    "Check the spelling in params.yaml (or in your `dvc exp run -S` override)."
                )
        for name, spec in self.fields.items():
            dotted = f"{key}.{name}" if key else name
            if name not in value:
                raise PipelineError(f"params.yaml: missing key `{dotted}`; add it (see the README's params table).")
            spec.validate(dotted, value[name])


# Values several sections share, across families.
DEVICE = Choice("auto", "cpu", "cuda")
# Workers of a classify stage, threads of a CNN stage (fmnist/cores.py): every core this process may use, or a number.
JOBS = OneOf(
    (Choice("auto"), Int(1, 1024)), "auto (every core this process may use) or a number of workers from 1 to 1024"
)
# Where an ImageNet backbone's weights come from (fmnist/backbones/weights.py): its feature sets and its nets.
WEIGHTS = {
    "weights": Choice("imagenet", "random"),
    "weights_file": Nullable(Str()),
    "weights_sha256": Nullable(Str()),
}
