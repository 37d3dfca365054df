"""The params.yaml specs on their own: numbers finite and within their (open or closed) bounds, everywhere."""

import math

import pytest

from fmnist.errors import PipelineError
from fmnist.schema import Choice, Float, Int, ListOf, MapOf, MatrixList, Nullable, OneOf, Section, Str

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
