"""The training recipe is declared once (fmnist.recipe.Recipe): params.yaml's recipe sections are read off its fields,
so the schema and the dataclass the training loop reads know the same keys, with the same specs."""

from dataclasses import dataclass, fields
from pathlib import Path

import pytest
import yaml

from fmnist.errors import PipelineError
from fmnist.params_cnn import CNN_SECTION, FINE_TUNE_RECIPE, FINE_TUNE_RUN
from fmnist.params_schema import SCHEMA
from fmnist.recipe import RECIPE_SPECS, Recipe, recipe_specs, validated_by
from fmnist.schema import Int, Section

REPO = Path(__file__).resolve().parents[1]


def test_every_recipe_section_holds_the_recipes_own_specs():
    assert list(RECIPE_SPECS) == [field.name for field in fields(Recipe)]
    assert SCHEMA.fields["model"].fields is RECIPE_SPECS
    but_epochs = {key: spec for key, spec in RECIPE_SPECS.items() if key != "epochs"}
    overrides = [CNN_SECTION.fields[arch].fields["recipe"].fields for arch in CNN_SECTION.fields]
    for section in (FINE_TUNE_RECIPE.fields, FINE_TUNE_RUN.fields["recipe"].fields, *overrides):
        assert section.keys() == but_epochs.keys()
        assert all(section[key] is spec for key, spec in but_epochs.items())


def test_a_field_added_to_the_recipe_is_a_params_key_of_its_section():
    @dataclass(frozen=True)
    class Wider(Recipe):
        warmup_epochs: int = validated_by(Int(0, 5))

    specs = recipe_specs(Wider)
    assert list(specs) == [*RECIPE_SPECS, "warmup_epochs"]
    model = yaml.safe_load((REPO / "params.yaml").read_text())["model"]
    with pytest.raises(PipelineError, match="missing key `model.warmup_epochs`"):
        Section(specs).validate("model", model)
    with pytest.raises(PipelineError, match=r"`model.warmup_epochs` = 9 is invalid: expected an integer in \[0, 5\]"):
        Section(specs).validate("model", {**model, "warmup_epochs": 9})
    Section(specs).validate("model", {**model, "warmup_epochs": 2})
    assert Wider.from_params({**model, "warmup_epochs": 2}).warmup_epochs == 2


def test_the_shipped_model_section_is_a_recipe():
    model = yaml.safe_load((REPO / "params.yaml").read_text())["model"]
    assert Recipe.from_params(model).lr == model["lr"]
