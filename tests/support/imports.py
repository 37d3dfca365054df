"""The project modules a Python file imports, directly or through other project modules (its import closure).

Used by the tests that hold dvc.yaml's code dependencies and the library's import rules to the imports.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("fmnist", "stages")


def module_path(module: str) -> Path | None:
    """The repository-relative file of a project module (a package's __init__.py), or None."""
    if module.split(".")[0] not in PACKAGES:
        return None
    base = Path(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if (REPO / candidate).is_file():
            return candidate
    return None


def module_name(path: Path) -> str:
    parts = path.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def direct_imports(path: Path) -> frozenset[str]:
    """Project modules imported anywhere in `path` (function-level imports included); `from pkg import mod`
    counts as importing `pkg.mod` when that is a module."""
    found = set()
    for node in ast.walk(ast.parse((REPO / path).read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return frozenset(m for m in found if module_path(m) is not None)


def closure(*modules: str) -> set[Path]:
    """Files of `modules` and of every project module they import, transitively.

    Importing `a.b.c` also runs the packages `a` and `a.b`; a package reached only that way, whose
    __init__.py just re-exports, adds its file but not the modules it re-exports (their code is not used).
    """
    todo, seen = [(m, True) for m in modules], set()
    while todo:
        module, by_name = todo.pop()
        path = module_path(module)
        if path is None or (path in seen and not by_name):
            continue
        if path in seen and not reexports_only(path):
            continue
        first_visit = path not in seen
        seen.add(path)
        parts = module.split(".")
        if first_visit:
            todo.extend((".".join(parts[:i]), False) for i in range(1, len(parts)))
        if by_name or not reexports_only(path):
            todo.extend((m, True) for m in direct_imports(path))
    return seen


def reexports_only(path: Path) -> bool:
    """True for a package __init__.py holding only a docstring, imports and `__all__`."""
    for node in ast.parse((REPO / path).read_text()).body:
        docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        all_names = isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__all__"]
        if not (docstring or all_names or isinstance(node, ast.Import | ast.ImportFrom)):
            return False
    return True
