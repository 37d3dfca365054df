"""dvc.yaml and the stage scripts agree: each stage declares exactly the params keys it reads, and its code
dependencies are exactly the project modules it imports (minus the params plumbing dvc.yaml explains)."""

import importlib
import os
import shlex
from pathlib import Path
from unittest import mock

import pytest
import yaml
from dvc.dependency.param import ParamsDependency
from dvc.repo import Repo

from fmnist.catalog import FEATURE_KINDS
from fmnist.params_read import declared_keys
from tests.support.imports import REPO, closure, reexports_only

STAGES = list(Repo(str(REPO)).index.stages)
# Params validation and naming: they can stop a run, not change an output (see the comment atop dvc.yaml).
PLUMBING = {
    Path(f"fmnist/{name}.py")
    for name in ("cli", "errors", "catalog", "params", "params_read", "layout", "lifetime")
    # The schema: its specs, its sections and shared pieces, and the recipe dataclass that declares the recipe
    # sections' keys.
    + ("schema", "params_schema", "params_parts", "params_data", "params_classify", "params_cnn", "recipe")
}
# The stage that owns that plumbing: it re-runs on any change to it.
PLUMBING_OWNER = "check_params"


def stage_module_and_fields(stage):
    """The stage module a `python -m stages.X [--flag value ...]` command runs, and its arguments as the stage parses
    them (a matrix stage's from its name, which DVC passes in DVC_STAGE)."""
    words = shlex.split(stage.cmd)
    module = importlib.import_module(words[words.index("-m") + 1])
    if not hasattr(module, "parse_args"):
        return module, {}
    with mock.patch.dict(os.environ, {"DVC_STAGE": stage.addressing}):
        return module, vars(module.parse_args(words[words.index("-m") + 2 :]))


def imported_code(stage) -> set[Path]:
    """The project files a stage instance runs: its script's import closure, plus its feature kind's module."""
    module, fields = stage_module_and_fields(stage)
    modules = [module.__name__]
    if "name" in fields and module.__name__ == "stages.extract_features":
        params = yaml.safe_load((REPO / "params.yaml").read_text())
        modules.append(FEATURE_KINDS[params["features"][fields["name"]]["kind"]].builder.partition(":")[0])
    files = {p for p in closure(*modules) if not (p.name == "__init__.py" and reexports_only(p))}
    return files if stage.name == PLUMBING_OWNER else files - PLUMBING


def declared_code(stage) -> set[Path]:
    return {Path(dep.def_path) for dep in stage.deps if dep.def_path.endswith(".py")}


@pytest.mark.parametrize("stage", STAGES, ids=[s.addressing for s in STAGES])
def test_stage_declares_exactly_the_params_it_reads(stage):
    module, fields = stage_module_and_fields(stage)
    declared = {key for dep in stage.deps if isinstance(dep, ParamsDependency) for key in dep.params}
    assert set(declared_keys(module.PARAMS_READ, **fields)) == declared


@pytest.mark.parametrize("stage", STAGES, ids=[s.addressing for s in STAGES])
def test_stage_code_deps_are_exactly_its_imports(stage):
    imported, declared = imported_code(stage), declared_code(stage)
    assert not imported - declared, f"{stage.addressing} imports modules dvc.yaml does not list as deps"
    assert not declared - imported, f"{stage.addressing} lists code deps it does not import"


def test_the_import_closure_sees_a_new_import(tmp_path, monkeypatch):
    """The check above would fail if a stage started importing another project module."""
    import tests.support.imports as imports

    stage = next(s for s in STAGES if s.name == "download")
    script = REPO / "stages/download.py"
    edited = tmp_path / "stages/download.py"
    edited.parent.mkdir()
    edited.write_text(script.read_text() + "\nfrom fmnist.runs import load_runs\n")
    (tmp_path / "fmnist").symlink_to(REPO / "fmnist")
    monkeypatch.setattr(imports, "REPO", tmp_path)
    imports.direct_imports.cache_clear()
    try:
        assert Path("fmnist/runs.py") in imported_code(stage) - declared_code(stage)
    finally:
        imports.direct_imports.cache_clear()
