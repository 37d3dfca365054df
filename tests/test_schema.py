"""The params.yaml specs on their own: numbers finite and within their (open or closed) bounds, everywhere."""

import math

import pytest

from fmnist.errors import PipelineError
from fmnist.schema import (
    Choice,
    Float,
    Int,
    ListOf,
    MapOf,
    MatrixList,
    Nullable,
    Number,
    OneOf,
    Overrides,
    Section,
    Spec,
    Str,
)

NON_FINITE = [math.nan, math.inf, -math.inf]


@pytest.mark.parametrize("value", NON_FINITE, ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize(
    "spec", [Float(), Float(0.0, 10.0, lo_open=True), Float(0.0, 1.0, hi_open=True), Float(lo=0.0), Float(hi=1.0)]
)
def test_floats_must_be_finite(spec, value):
    # NaN compares False with every bound, and an unbounded side lets infinities through: both once passed.
    with pytest.raises(PipelineError, match=rf"`model.lr` = {value!r} is invalid: expected a finite number"):
        spec.validate("model.lr", value)


@pytest.mark.parametrize("value", NON_FINITE, ids=["nan", "inf", "-inf"])
def test_ints_reject_non_finite_floats(value):
    with pytest.raises(PipelineError, match=r"expected an integer"):
        Int(1, 1000).validate("model.epochs", value)


@pytest.mark.parametrize(
    "spec, value, key",
    [
        (ListOf(Float()), [1.0, math.nan], r"`k\[1\]`"),
        (ListOf(ListOf(Float(0.0))), [[0.5], [math.inf]], r"`k\[1\]\[0\]`"),
        (MapOf(Float()), {"a": 1.0, "b": -math.inf}, r"`k.b`"),
        (MapOf(ListOf(Float())), {"C": [math.nan]}, r"`k.C\[0\]`"),
        (Section({"lr": Float(0.0, 10.0, lo_open=True)}), {"lr": math.nan}, r"`k.lr`"),
        (Nullable(Float()), math.inf, r"`k`"),
    ],
    ids=["list", "nested-list", "map", "map-of-lists", "section", "nullable"],
)
def test_non_finite_numbers_are_rejected_inside_lists_and_maps(spec, value, key):
    with pytest.raises(PipelineError, match=rf"{key} = .* is invalid: expected a finite number"):
        spec.validate("k", value)


def test_one_of_rejects_non_finite_numbers():
    spec = OneOf((Float(), Str()), "a finite number or a string")
    spec.validate("k", 1.5)
    with pytest.raises(PipelineError, match=r"`k` = nan is invalid: expected a finite number or a string"):
        spec.validate("k", math.nan)


@pytest.mark.parametrize(
    "spec, value",
    [
        (Float(0.0, 10.0, lo_open=True), 0.0),  # model.lr
        (Float(0.0, 10.0, lo_open=True), 0),
        (Float(0.0, 0.5, lo_open=True), 0.0),  # data.val_fraction
        (Float(0.0, 1.0, hi_open=True), 1.0),  # model.momentum
        (Float(0.0, 1.0, hi_open=True), 1),
        (Float(0.0, 1.0), -1e-12),
        (Float(0.0, 1.0), 1.0000001),
        (Int(1, 1000), 0),
        (Int(1, 1000), 1001),
    ],
)
def test_values_on_or_past_a_bound_it_excludes_are_rejected(spec, value):
    with pytest.raises(PipelineError, match=r"is invalid: expected"):
        spec.validate("k", value)


@pytest.mark.parametrize(
    "spec, value",
    [
        (Float(0.0, 10.0, lo_open=True), 1e-12),
        (Float(0.0, 10.0, lo_open=True), 10.0),
        (Float(0.0, 1.0, hi_open=True), 0.0),
        (Float(0.0, 1.0, hi_open=True), 0.999999),
        (Float(0.0, 1.0), 0),
        (Float(0.0, 1.0), 1.0),
        (Float(), 1e308),
        (Float(0.0), 10**400),  # an int too large for a float is still finite, not a crash
        (Int(1, 1000), 1000),
    ],
)
def test_values_on_a_closed_bound_or_inside_are_accepted(spec, value):
    spec.validate("k", value)


@pytest.mark.parametrize("name", ["a", "a" * 64, "lite0_whole_10", "x9_"])
def test_matrix_names_of_one_to_64_lower_case_letters_digits_and_underscores_pass(name):
    MatrixList(Str()).validate("k", [name])


@pytest.mark.parametrize(
    "name", ["a" * 65, "", "9a", "_a", "Raw", "raw-lda", "raw lda", "a;b", "a$(b)", "a/b", "ä", 3, None, ["a"]]
)
def test_other_matrix_values_are_refused_by_name_before_the_item_spec(name):
    # Choice would accept the unsafe option: the name check comes first, whatever the item spec.
    with pytest.raises(PipelineError, match=r"^params.yaml: `k\[1\]` = .* is not a name: "):
        MatrixList(Choice("a", name)).validate("k", ["a", name])


@pytest.mark.parametrize("value", ["a", {"a": 1}, 3, None, ("a",)])
def test_a_matrix_list_is_a_yaml_list(value):
    with pytest.raises(
        PipelineError, match=r"^params.yaml: `s.k` = .* is not a list: .* write a YAML list, e\.g\. `k: "
    ):
        MatrixList(Str()).validate("s.k", value)


def test_a_matrix_list_has_no_repeats_and_its_least_length():
    MatrixList(Str(), min_len=0).validate("k", [])
    with pytest.raises(PipelineError, match=r"`k` = \[\] is invalid: expected a list of at least 1 item"):
        MatrixList(Str()).validate("k", [])
    with pytest.raises(PipelineError, match=r"`k` = \['a', 'a'\] is invalid: expected a list without repeated items"):
        MatrixList(Str()).validate("k", ["a", "a"])
    with pytest.raises(PipelineError, match=r"`k\[0\]` = 'b' is invalid: expected one of 'a'"):
        MatrixList(Choice("a")).validate("k", ["b"])


FIX = "Fix it in params.yaml (or in your `dvc exp run -S` override)."
SPELLING = "Check the spelling in params.yaml (or in your `dvc exp run -S` override)."


# Each spec is built inside the test (a lambda), not when the module is collected, so that the test exercises Int and
# Float themselves too.
@pytest.mark.parametrize(
    "spec, key, value, message",
    [
        (
            lambda: Float(lo=0.0),
            "model.lr",
            -1.0,
            f"`model.lr` = -1.0 is invalid: expected a number in [0.0, inf]. {FIX}",
        ),
        (
            lambda: Float(hi=1.0),
            "model.lr",
            2.0,
            f"`model.lr` = 2.0 is invalid: expected a number in [-inf, 1.0]. {FIX}",
        ),
        (lambda: Float(), "model.lr", "x", f"`model.lr` = 'x' is invalid: expected a number. {FIX}"),
        (lambda: Int(), "data.seed", 1.5, f"`data.seed` = 1.5 is invalid: expected an integer. {FIX}"),
        (
            lambda: Float(0.0, 1.0, hi_open=True),
            "model.momentum",
            math.inf,
            f"`model.momentum` = inf is invalid: expected a finite number in [0.0, 1.0). {FIX}",
        ),
        (
            lambda: Float(lo=0.0, lo_open=True),
            "model.lr",
            math.nan,
            f"`model.lr` = nan is invalid: expected a finite number in (0.0, inf]. {FIX}",
        ),
        (lambda: Str(), "finetune.note", "", f"`finetune.note` = '' is invalid: expected a non-empty string. {FIX}"),
        (lambda: MapOf(Int()), "k.grid", [1], f"`k.grid` = [1] is invalid: expected a mapping. {FIX}"),
        (
            lambda: MapOf(Int(), keys=("raw", "scatnet")),
            "k.max_train",
            {"hog": 10},
            f"`k.max_train.hog` = 10 is invalid: expected a key among raw, scatnet. {FIX}",
        ),
        (
            lambda: Overrides({"lr": Float(), "epochs": Int(1)}, "model"),
            "cnn.mlp",
            {"lr": 0.1, "batch": 2},
            f"unknown key `cnn.mlp.batch`; it may replace these `model` keys: epochs, lr. {SPELLING}",
        ),
        (
            lambda: Overrides({"lr": Float()}, "model"),
            "cnn.mlp",
            3,
            f"`cnn.mlp` = 3 is invalid: expected a mapping of `model` keys to the values that replace them. {FIX}",
        ),
        (lambda: Section({"seed": Int()}), "", [1], f"`(top level)` = [1] is invalid: expected a mapping. {FIX}"),
        (lambda: Section({"seed": Int()}), "data", "x", f"`data` = 'x' is invalid: expected a mapping. {FIX}"),
        (
            lambda: Section({"seed": Int()}),
            "",
            {"sed": 1},
            f"unknown key `sed` under the top level; known keys there: seed. {SPELLING}",
        ),
        (
            lambda: ListOf(Int(), max_len=2),
            "k",
            [1, 2, 3],
            f"`k` = [1, 2, 3] is invalid: expected a list of at least 0 and at most 2 item(s). {FIX}",
        ),
        (
            lambda: ListOf(Int(), min_len=1),
            "k",
            [],
            f"`k` = [] is invalid: expected a list of at least 1 item(s). {FIX}",
        ),
        (
            lambda: MatrixList(Str()),
            "k.wide.features",
            "raw",
            "`k.wide.features` = 'raw' is not a list: dvc.yaml makes one stage of each of its items, so write a YAML "
            f"list, e.g. `features: [raw]`. {FIX}",
        ),
        (
            lambda: MatrixList(Str()),
            "k.features",
            {"raw": 1},
            "`k.features` = {'raw': 1} is not a list: dvc.yaml makes one stage of each of its items, so write a YAML "
            f"list, e.g. `features: [name, ...]`. {FIX}",
        ),
        (
            lambda: MatrixList(Str()),
            "k.features",
            ["raw", "Raw-1"],
            "`k.features[1]` = 'Raw-1' is not a name: it becomes part of a stage name, a shell command and file names, "
            f"so it is lower case letters, digits and underscores (a letter first, at most 64). {FIX}",
        ),
    ],
    ids=[
        "no-upper-bound",
        "no-lower-bound",
        "unbounded-float",
        "int",
        "finite-half-open",
        "finite-open-unbounded",
        "str",
        "map",
        "map-key",
        "overrides-key",
        "overrides-not-a-map",
        "top-level",
        "section",
        "top-level-key",
        "list-too-long",
        "list-too-short",
        "matrix-string",
        "matrix-mapping",
        "matrix-name",
    ],
)
def test_each_error_names_the_key_and_value_says_what_is_allowed_and_where_to_fix_it(spec, key, value, message):
    with pytest.raises(PipelineError) as caught:
        spec().validate(key, value)
    assert str(caught.value) == f"params.yaml: {message}"


def test_int_and_float_keep_the_bounds_they_are_given():
    for accepted in (1, 10):
        Int(1, 10).validate("k", accepted)
    for accepted in (0.0, 1.0, 0):
        Float(0.0, 1.0).validate("k", accepted)  # bounds are closed unless said otherwise
    rejected = [(Int(1, 10), 0), (Int(1, 10), 11), (Float(0.0, 1.0), -0.1), (Float(0.0, 1.0), 1.1)]
    rejected += [(Float(0.0, 1.0, lo_open=True), 0.0), (Float(0.0, 1.0, hi_open=True), 1.0)]
    for spec, value in rejected:
        with pytest.raises(PipelineError, match="is invalid: expected"):
            spec.validate("k", value)


def test_int_and_float_are_the_numbers_they_name():
    assert Int(1, 10) == Number(1, 10, integer=True)
    assert Float(0.0, 1.0, hi_open=True) == Number(0.0, 1.0, integer=False, lo_open=False, hi_open=True)


def test_one_of_asks_each_spec_about_the_same_key():
    seen = []

    class Recording(Spec):
        def validate(self, key, value):
            seen.append(key)
            raise PipelineError("no")

    with pytest.raises(PipelineError, match=r"`model.lr` = 1 is invalid: expected anything"):
        OneOf((Recording(), Recording()), "anything").validate("model.lr", 1)
    assert seen == ["model.lr", "model.lr"]
