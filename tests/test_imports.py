"""The library's import rules: stages -> families -> shared plumbing, never upward, never sideways into
another family's internals, and no cycles."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.imports import REPO, direct_imports, module_name, reexports_only

LIBRARY = sorted(p.relative_to(REPO) for p in (REPO / "fmnist").rglob("*.py"))
FAMILIES = sorted(p.parent.name for p in LIBRARY if p.parent.name != "fmnist" and p.name == "__init__.py")


def family(module: str) -> str | None:
    """`cnn` for fmnist.cnn.loop, None for the shared plumbing at the top (fmnist.params)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in FAMILIES else None


def test_there_are_families_and_plumbing():
    assert {"data", "features", "classical", "cnn", "pictures", "report", "backbones"} <= set(FAMILIES)
    assert any(family(module_name(p)) is None and p.name != "__init__.py" for p in LIBRARY)


@pytest.mark.parametrize("path", LIBRARY, ids=str)
def test_library_never_imports_stages(path):
    assert not {m for m in direct_imports(path) if not m.startswith("fmnist")}


@pytest.mark.parametrize("path", [p for p in LIBRARY if module_name(p) != "fmnist.cli"], ids=str)
def test_library_never_imports_the_command_line_module(path):
    """fmnist.cli (flags, exit codes, signal handling) belongs to the stage scripts; the library they call, its
    plumbing included, never reaches back up into it."""
    assert "fmnist.cli" not in direct_imports(path), f"{path} imports fmnist.cli, which only stages/ may use"


@pytest.mark.parametrize("path", [p for p in LIBRARY if family(module_name(p)) is None], ids=str)
def test_shared_plumbing_imports_no_family(path):
    upward = {m for m in direct_imports(path) if family(m)}
    assert not upward, f"{path} is shared plumbing but imports the families' {sorted(upward)}"


@pytest.mark.parametrize("path", [p for p in LIBRARY if family(module_name(p))], ids=str)
def test_families_use_each_other_only_through_their_package_api(path):
    own = family(module_name(path))
    sideways = {m for m in direct_imports(path) if family(m) not in (None, own) and m != f"fmnist.{family(m)}"}
    assert not sideways, f"{path} reaches into another family's internals: {sorted(sideways)}"


@pytest.mark.parametrize("path", [p for p in LIBRARY if p.name == "__init__.py"], ids=str)
def test_package_inits_only_re_export(path):
    assert reexports_only(path)


def test_no_import_cycles_between_modules_or_families():
    graph = {module_name(p): {m for m in direct_imports(p) if m != module_name(p)} for p in LIBRARY}
    families = {}
    for module, imported in graph.items():
        for other in imported:
            if family(module) and family(other) and family(module) != family(other):
                families.setdefault(family(module), set()).add(family(other))
    for name, edges in (("module", graph), ("family", families)):
        state: dict[str, int] = {}

        def visit(node, path, edges=edges, state=state, name=name):
            state[node] = 1
            for nxt in edges.get(node, ()):
                if state.get(nxt) == 1:
                    pytest.fail(f"{name} import cycle: {' -> '.join([*path, nxt])}")
                if nxt not in state:
                    visit(nxt, [*path, nxt])
            state[node] = 2

        for node in sorted(edges):
            if node not in state:
                visit(node, [node])


def test_params_validation_imports_no_torch():
    """Stage check_params validates params.yaml in well under a second: the schema, the recipe dataclass included,
    stays free of torch (fmnist.recipe is read by the training loop and by the schema alike)."""
    probe = "import sys, stages.check_params; print(sorted(m for m in ('torch', 'fmnist.cnn') if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


def test_the_rules_catch_a_sideways_import(tmp_path, monkeypatch):
    import tests.support.imports as imports

    (tmp_path / "fmnist/report").mkdir(parents=True)
    (tmp_path / "fmnist/report/bad.py").write_text("from fmnist.cnn.loop import fit\n")
    (tmp_path / "fmnist/cnn").mkdir()
    (tmp_path / "fmnist/cnn/loop.py").write_text("")
    monkeypatch.setattr(imports, "REPO", tmp_path)
    imports.direct_imports.cache_clear()
    try:
        with pytest.raises(AssertionError, match="another family's internals"):
            test_families_use_each_other_only_through_their_package_api(Path("fmnist/report/bad.py"))
    finally:
        imports.direct_imports.cache_clear()
