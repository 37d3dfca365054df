"""What the pipeline is meant to run and produce, read from dvc.yaml itself: matrix and foreach stages expanded.

The report uses it to say which stages are declared and which of their outputs are missing, so the
list of what it expects grows with dvc.yaml and needs no edit here.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fmnist.errors import PipelineError
from fmnist.params import read_yaml

_VARIABLE = re.compile(r"\$\{\s*([\w.]+)\s*\}")
_OUTPUT_KEYS = ("outs", "metrics", "plots")


def _paths(entries: list[Any] | None) -> list[str]:
    """Output paths of an outs/metrics/plots list (plain strings or one-key mappings with options)."""
    paths = []
    for entry in entries or []:
        paths.extend([entry] if isinstance(entry, str) else list(entry))
    return paths


def _fill(text: str, context: dict[str, Any]) -> str:
    def value(match: re.Match) -> str:
        found: Any = context
        for part in match.group(1).split("."):
            if not isinstance(found, dict) or part not in found:
                return match.group(0)  # a variable we do not expand (say from vars:); keep it visible
            found = found[part]
        return str(found)

    return _VARIABLE.sub(value, text)


def _resolve(value: Any, params: dict[str, Any]) -> Any:
    """A matrix or foreach value given as `${section.key}` taken from params.yaml, as DVC does."""
    match = _VARIABLE.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match:
        return value
    found: Any = params
    for part in match.group(1).split("."):
        if not isinstance(found, dict) or part not in found:
            raise PipelineError(f"dvc.yaml refers to `{match.group(1)}`, which params.yaml does not have")
        found = found[part]
    return found


def _instances(name: str, stage: dict[str, Any], params: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(stage name as DVC prints it, substitution context) for each instance of a stage definition."""
    if "matrix" in stage:
        keys = list(stage["matrix"])
        combos = itertools.product(*(_resolve(stage["matrix"][k], params) for k in keys))
        return [
            (f"{name}@{'-'.join(map(str, combo))}", {"item": dict(zip(keys, combo, strict=True))}) for combo in combos
        ]
    if "foreach" in stage:
        items = _resolve(stage["foreach"], params)
        if isinstance(items, dict):
            return [(f"{name}@{key}", {"key": key, "item": item}) for key, item in items.items()]
        return [(f"{name}@{item}", {"item": item}) for item in items]
    return [(name, {})]


@dataclass(frozen=True)
class DeclaredStage:
    """One stage instance of dvc.yaml, its variables filled in."""

    name: str  # as DVC prints it: `classify@raw-lda`
    cmd: str
    deps: tuple[str, ...]
    outs: tuple[str, ...]  # outs, metrics and plots

    def needs(self, other: DeclaredStage) -> bool:
        """Whether this stage reads something `other` writes (a path, or a folder above or below one)."""
        return any(_same_or_nested(dep, out) for dep in self.deps for out in other.outs)


def _same_or_nested(a: str, b: str) -> bool:
    a, b = a.rstrip("/"), b.rstrip("/")
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def declared_stages(dvc_yaml: Path) -> list[DeclaredStage]:
    """Every stage instance of dvc.yaml in its order. Matrix and foreach lists may come from params.yaml beside
    dvc.yaml (`${section.key}`)."""
    stages = (read_yaml(dvc_yaml) or {}).get("stages", {})  # read as DVC reads it (YAML 1.2)
    params_file = dvc_yaml.with_name("params.yaml")
    params = (read_yaml(params_file) or {}) if params_file.is_file() else {}
    result = []
    for name, stage in stages.items():
        body = stage.get("do", stage)
        for instance, context in _instances(name, stage, params):
            result.append(
                DeclaredStage(
                    name=instance,
                    cmd=_fill(body["cmd"], context),
                    deps=tuple(_fill(p, context) for p in body.get("deps") or []),
                    outs=tuple(_fill(p, context) for key in _OUTPUT_KEYS for p in _paths(body.get(key))),
                )
            )
    return result


def declared_outputs(dvc_yaml: Path) -> dict[str, list[str]]:
    """Stage name -> the output paths it declares (outs, metrics and plots), in dvc.yaml order."""
    return {stage.name: list(stage.outs) for stage in declared_stages(dvc_yaml)}
