"""dvc.yaml and the stage scripts agree: each stage declares exactly the params keys it reads."""

import importlib
import shlex
from pathlib import Path

import pytest
from dvc.dependency.param import ParamsDependency
from dvc.repo import Repo

from fmnist.cli import declared_keys

REPO = Path(__file__).resolve().parents[1]
STAGES = list(Repo(str(REPO)).index.stages)


def stage_module_and_fields(cmd: str):
    """The stage module a `python -m stages.X --flag value ...` command runs, and its parsed arguments."""
    words = shlex.split(cmd)
    module = importlib.import_module(words[words.index("-m") + 1])
    rest = words[words.index("-m") + 2 :]
    fields = vars(module.parse_args(rest)) if hasattr(module, "parse_args") else {}
    return module, fields


@pytest.mark.parametrize("stage", STAGES, ids=[s.addressing for s in STAGES])
def test_stage_declares_exactly_the_params_it_reads(stage):
    module, fields = stage_module_and_fields(stage.cmd)
    declared = {key for dep in stage.deps if isinstance(dep, ParamsDependency) for key in dep.params}
    assert set(declared_keys(module.PARAMS_READ, **fields)) == declared


@pytest.mark.parametrize("stage", STAGES, ids=[s.addressing for s in STAGES])
def test_stage_depends_on_its_own_script(stage):
    module, _ = stage_module_and_fields(stage.cmd)
    script = Path(module.__file__).resolve().relative_to(REPO).as_posix()
    assert script in {dep.def_path for dep in stage.deps}
