"""The rules every bench script keeps, so that a refactor of the library cannot break one unseen: it reads params
through fmnist.params (as the stages do), imports no stage script, has a small mode that runs its real code path in
seconds (`--smoke`, or `--tiny`), and a test of its own here that runs it."""

import ast
from pathlib import Path

import pytest

from tests.support.stage_workdir import REPO

SCRIPTS = sorted(p for p in (REPO / "bench").glob("*.py") if not p.name.startswith("_"))


def calls_and_imports(path: Path) -> tuple[set[str], set[str]]:
    """`module.function` names called in `path`, and the modules it imports."""
    calls, imports = set(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
        ):
            calls.add(f"{node.func.value.id}.{node.func.attr}")
        elif isinstance(node, ast.Import):
            imports.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imports.add(node.module)
    return calls, imports


def test_there_are_scripts():
    assert {"classify.py", "gpu_pipeline.py"} <= {p.name for p in SCRIPTS}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_a_script_reads_params_through_the_library_and_imports_no_stage(script):
    calls, imports = calls_and_imports(script)
    assert not calls & {"yaml.safe_load", "yaml.load"}, "read params.yaml with fmnist.params.load_params"
    assert not {m for m in imports if m.split(".")[0] == "stages"}, "stage scripts are no library: use fmnist/"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_a_script_has_a_small_mode_and_a_test_that_runs_it(script):
    assert '"--smoke"' in script.read_text() or '"--tiny"' in script.read_text()
    assert (REPO / "tests" / "bench" / f"test_{script.name}").is_file()
