"""fmnist.catalog: every builder path names a callable, every name has what params.yaml and dvc.yaml need for it, and
the families' own tables (the backbones' weights, the classify zoo) cover the catalog's names."""

from pathlib import Path

import pytest
import yaml

from fmnist.backbones import BACKBONES as BACKBONE_DETAILS
from fmnist.catalog import (
    BACKBONES,
    CLASSIFY_MODELS,
    CNN_ARCHS,
    EMBEDDINGS,
    FEATURE_KINDS,
    FEATURE_SETS,
    FINE_TUNE_BACKBONES,
    SWEEPS,
    resolve,
)
from fmnist.classical.models import SCALERS
from fmnist.params_parts import FINE_TUNING
from tests.support.imports import REPO, closure, module_path

PARAMS = yaml.safe_load((REPO / "params.yaml").read_text())
DVC_STAGES = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
BUILDERS = {
    **{f"feature kind {k.name}": k.builder for k in FEATURE_KINDS.values()},
    **{f"backbone {b.name}": b.builder for b in BACKBONES.values()},
    **{f"arch {a.name}": a.builder for a in CNN_ARCHS.values()},
    **{f"classify model {m.name}": m.builder for m in CLASSIFY_MODELS.values()},
    **{f"embedding {e.name}": e.builder for e in EMBEDDINGS.values()},
}


@pytest.mark.parametrize("builder", list(BUILDERS.values()), ids=list(BUILDERS))
def test_every_builder_path_resolves_to_a_callable(builder):
    assert callable(resolve(builder)), f"{builder} is not callable"


def builder_file(builder: str) -> Path | None:
    return module_path(builder.partition(":")[0])


def test_the_stages_that_build_import_every_builder_statically():
    """dvc.yaml's code deps follow the static imports (tests/test_dvc_graph.py): a CNN arch's or a backbone's builder
    in a project module the builders' callers do not import would leave the stages that run it blind to its code;
    so would a classify model's or an embedding method's outside its stage's imports.
    (Each feature kind's module is a dependency of its own extract_features stage: test_dvc_graph adds it.)"""
    nets = closure("fmnist.cnn.nets")
    for arch in CNN_ARCHS.values():
        assert builder_file(arch.builder) in nets, f"{arch.builder} is outside fmnist.cnn.nets's imports"
    registry = closure("fmnist.backbones.registry")
    for backbone in BACKBONES.values():
        assert builder_file(backbone.builder) in (registry | {None}), f"{backbone.builder} is outside the registry's"
    for stage, records in (("classify", CLASSIFY_MODELS), ("visualize", EMBEDDINGS)):
        imported = closure(f"stages.{stage}")
        for record in records.values():
            assert builder_file(record.builder) in imported, f"{record.builder} is outside stages/{stage}.py's imports"


def test_every_feature_set_has_its_section_and_stage():
    assert list(PARAMS["features"]) == list(FEATURE_SETS)
    for name, feature in FEATURE_SETS.items():
        assert PARAMS["features"][name]["kind"] == feature.kind, f"features.{name}.kind"
    assert list(DVC_STAGES["extract_features"]["foreach"]) == list(FEATURE_SETS)


def test_every_arch_classify_model_and_embedding_method_has_its_section():
    assert list(PARAMS["cnn"]) == list(CNN_ARCHS)
    assert set(CLASSIFY_MODELS) <= set(PARAMS["classify"])
    assert set(EMBEDDINGS) <= set(PARAMS["visualize"])


def test_every_sweep_has_its_section_and_stage_and_varies_a_setting_of_its_arch():
    assert list(PARAMS["sweeps"]) == list(SWEEPS)
    assert DVC_STAGES["sweep"]["foreach"] == {name: {"arch": sweep.arch} for name, sweep in SWEEPS.items()}
    for sweep in SWEEPS.values():
        assert sweep.setting in CNN_ARCHS[sweep.arch].schema.fields


def test_params_matrices_name_catalogued_things():
    assert set(PARAMS["train_cnn"]["archs"]) <= set(CNN_ARCHS)
    for key in ("features", "wide_features"):
        assert set(PARAMS["classify"][key]) <= set(FEATURE_SETS)
    for key in ("models", "wide_models"):
        assert set(PARAMS["classify"][key]) <= set(CLASSIFY_MODELS)
    assert set(PARAMS["visualize"]["features"]) <= set(FEATURE_SETS)
    assert set(PARAMS["visualize"]["methods"]) <= set(EMBEDDINGS)
    for run in PARAMS["finetune"]["runs"]:
        assert PARAMS["finetune"][run]["arch"] in FINE_TUNE_BACKBONES


def test_the_families_tables_cover_the_catalog():
    assert list(BACKBONE_DETAILS) == list(BACKBONES)
    assert {model.scaling for model in CLASSIFY_MODELS.values()} <= set(SCALERS)


def test_imagenet_input_archs_are_the_backbones_and_fine_tunable_ones_fine_tune():
    assert {name for name, arch in CNN_ARCHS.items() if arch.imagenet_input} == set(BACKBONES)
    for name in FINE_TUNE_BACKBONES:
        assert CNN_ARCHS[name].schema is FINE_TUNING


def test_backbone_feature_kinds_build_through_the_backbone_module():
    for name, kind in FEATURE_KINDS.items():
        assert (kind.builder == "fmnist.features.backbone:build") == (name in BACKBONES)


def test_boosting_is_the_arch_trait_or_its_boost_setting():
    assert CNN_ARCHS["lenet5_boosted"].trains_boosted({})
    assert not CNN_ARCHS["convnet_bn"].trains_boosted({"boost": False})
    assert CNN_ARCHS["convnet_bn"].trains_boosted({"boost": True})
    assert [name for name, arch in CNN_ARCHS.items() if arch.boosted] == ["lenet5_boosted"]
