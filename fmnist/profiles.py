"""Profiles: named sets of params.yaml values for another kind of machine (profiles/<name>.yaml), such as the GPU's.

A profile holds part of params.yaml's tree: each value in it replaces the one at the same place, and each mapping is
merged into the one there. `make repro-gpu` passes it to `dvc exp run` as one `-S key=value` per value, so
params.yaml, dvc.lock and `dvc exp show` record the run's params: nothing is chosen by the hardware.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from fmnist.errors import PipelineError
from fmnist.params import read_yaml, validate

PROFILES_DIR = Path("profiles")
# A string DVC's `-S` grammar (Hydra's) reads back as the same string unquoted.
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")
_HYDRA_WORDS = {"true", "false", "null", "nan", "inf"}


def profile_path(name: str, root: Path = Path()) -> Path:
    return root / PROFILES_DIR / f"{name}.yaml"


def load_profile(name: str, params: dict[str, Any], root: Path = Path()) -> dict[str, Any]:
    """The profile's tree, checked: every key it sets exists in `params` (a mistyped key would otherwise add a
    value no stage reads) except inside a `recipe`, whose keys are optional, and params with it applied are valid."""
    path = profile_path(name, root)
    if not path.is_file():
        known = sorted(p.stem for p in (root / PROFILES_DIR).glob("*.yaml"))
        raise PipelineError(f"{path}: no such profile; the profiles are {', '.join(known) or 'none'}.")
    profile = read_yaml(path)
    if not isinstance(profile, dict) or not profile:
        raise PipelineError(f"{path}: a profile is a mapping of params.yaml sections to the values it changes.")
    _check_keys(profile, params, path, "")
    try:
        validate(apply_profile(params, profile))
    except PipelineError as exc:
        raise PipelineError(f"{path}: with this profile applied, {exc}") from None
    return profile


def _check_keys(profile: dict[str, Any], params: dict[str, Any], path: Path, where: str) -> None:
    for key, value in profile.items():
        dotted = f"{where}{key}"
        if key not in params and not where.endswith("recipe."):
            raise PipelineError(f"{path}: `{dotted}` is not in params.yaml; fix the key or remove it from the profile.")
        if isinstance(value, dict) and isinstance(params.get(key), dict):
            _check_keys(value, params[key], path, f"{dotted}.")


def values_named(tree: dict[str, Any], name: str, where: str = "") -> dict[str, Any]:
    """Every value under a key called `name` in `tree`, by its dotted key (`features.scatnet.device`)."""
    found = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            found.update(values_named(value, name, f"{where}{key}."))
        elif key == name:
            found[f"{where}{key}"] = value
    return found


def apply_profile(params: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
    """A copy of `params` with the profile's values in place (mappings merged, everything else replaced)."""
    merged = copy.deepcopy(params)
    for key, value in profile.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = apply_profile(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def set_args(profile: dict[str, Any], params: dict[str, Any]) -> list[str]:
    """`dvc exp run` arguments that apply the profile: `-S key=value` for each value it sets, `+key` where
    params.yaml has no such key yet (Hydra's syntax for adding one). They hold no space, quote or glob character, so
    a shell passes them on as they are (the Makefile's recipes)."""
    args = []
    for dotted, value, exists in _leaves(profile, params, ""):
        args += ["-S", f"{'' if exists else '+'}{dotted}={hydra_value(value, dotted)}"]
    return args


def _leaves(profile: dict[str, Any], params: Any, where: str):
    for key, value in profile.items():
        present = isinstance(params, dict) and key in params
        inside = params[key] if present else None
        if isinstance(value, dict) and value and isinstance(inside, dict):
            yield from _leaves(value, inside, f"{where}{key}.")
        else:
            yield f"{where}{key}", value, present


def hydra_value(value: Any, key: str) -> str:
    """`value` written as DVC's `-S` reads it back (Hydra's override grammar)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ",".join(hydra_value(v, key) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{hydra_value(v, f'{key}.{k}')}" for k, v in value.items()) + "}"
    text = str(value)
    if not _PLAIN.fullmatch(text) or text.lower() in _HYDRA_WORDS:
        raise PipelineError(
            f"profile value `{key}` = {text!r}: a profile's strings are plain words (letters, digits, `_./-`, not "
            "true/false/null), which `make` passes to `dvc exp run` unquoted; change it or set it in params.yaml."
        )
    return text
