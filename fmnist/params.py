"""params.yaml: reading it as DVC does, validating it against the schema (fmnist.params_schema), and the
per-stage view of it."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from fmnist.errors import PipelineError
from fmnist.params_cnn import check_ensemble
from fmnist.params_schema import SCHEMA


def _duplicate_key(node: Node, where: str = "") -> tuple[str, int, int] | None:
    """The first key set twice in one mapping under `node`: its dotted name and both (1-based) lines."""
    if isinstance(node, MappingNode):
        first_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            name = key_node.value if isinstance(key_node, ScalarNode) else "?"
            dotted = f"{where}.{name}" if where else name
            line = key_node.start_mark.line + 1
            if name in first_lines:
                return dotted, first_lines[name], line
            first_lines[name] = line
            if found := _duplicate_key(value_node, dotted):
                return found
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            if found := _duplicate_key(item, f"{where}[{i}]"):
                return found
    return None


def read_yaml(path: str | Path) -> Any:
    """The file's content exactly as DVC reads it (`dvc.utils.serialize.parse_yaml`: ruamel.yaml, YAML 1.2),
    so that the stages and DVC's params records agree: `1e-4` is a number, `yes` a string, and a duplicate
    key (which PyYAML would settle silently, the last one winning) an error."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelineError(f"{path}: not found; run the stage from the repository root.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineError(f"{path}: cannot be read as UTF-8 text ({exc}); check the file.") from None
    yaml = YAML(typ="safe")
    try:
        return yaml.load(text)
    except DuplicateKeyError as exc:
        found = _duplicate_key(yaml.compose(text))
        if found is None:  # keys equal as values but written differently (say 1 and 1.0): ruamel.yaml's words
            where = f" on line {exc.problem_mark.line + 1}" if exc.problem_mark is not None else ""
            problem = f"{exc.problem}{where}"
        else:
            dotted, first, line = found
            problem = f"duplicate key `{dotted}` on line {line} (first on line {first})"
        raise PipelineError(f"{path}: {problem}; DVC refuses such a file: keep one of the two lines.") from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).strip().splitlines()[-1]
        raise PipelineError(
            f"{path}: not valid YAML: {problem}{where}. Fix it there (`git diff {path}` shows what changed)."
        ) from None


def load_params(path: str | Path = "params.yaml") -> dict[str, Any]:
    """Read (as DVC does) and validate the whole params file; raise PipelineError with one clear message if it
    is wrong."""
    params = read_yaml(path)
    validate(params)
    return params


def validate(params: dict[str, Any]) -> None:
    """Raise PipelineError with one clear message if `params` (the whole file's content) is wrong."""
    SCHEMA.validate("", params)
    check_ensemble(params)


def select(params: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """The part of `params` named by dotted `keys` (sections or leaves), nested as in the file.

    Stages read only this view, so a key a stage reads but did not declare fails loudly.
    """
    view: dict[str, Any] = {}
    for dotted in keys:
        source, target = params, view
        *parents, leaf = dotted.split(".")
        try:
            for part in parents:
                source = source[part]
                target = target.setdefault(part, {})
            target[leaf] = copy.deepcopy(source[leaf])
        except (KeyError, TypeError):
            raise PipelineError(
                f"params.yaml has no `{dotted}`, which this stage reads; the stage names in dvc.yaml come from "
                "params.yaml's lists: add the section, or remove the name from its list."
            ) from None
    return view
