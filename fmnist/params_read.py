"""The params a stage reads: only the keys it declares in dvc.yaml, remembered at its start so that its outputs are
written only while params.yaml still holds them (`check_params_unchanged`, called by fmnist.atomic)."""

from __future__ import annotations

import copy
from pathlib import Path

from fmnist.errors import PipelineError
from fmnist.params import load_params, read_yaml, select


def declared_keys(templates: tuple[str, ...], **fields: str) -> list[str]:
    """A stage's `PARAMS_READ` templates (say "features.{name}") filled in for one matrix instance."""
    return [template.format(**fields) for template in templates]


class _ParamsRead:
    """The params this stage read at its start (`stage_params`), checked again before its outputs are written."""

    path: Path | None = None
    keys: list[str] = []
    values: dict = {}


def stage_params(templates: tuple[str, ...], **fields: str) -> dict:
    """Validate params.yaml, then return only the keys this stage declares in dvc.yaml.

    tests/test_dvc_graph.py checks that `templates` match the stage's `params:` in dvc.yaml.
    """
    keys = declared_keys(templates, **fields)
    values = select(load_params(), keys)
    _ParamsRead.path, _ParamsRead.keys, _ParamsRead.values = Path("params.yaml").resolve(), keys, values
    return copy.deepcopy(_ParamsRead.values)


def forget_stage_params() -> None:
    """Drop what `stage_params` remembered: a stage run in-process (tests) leaves no check behind for the next."""
    _ParamsRead.path, _ParamsRead.keys, _ParamsRead.values = None, [], {}


def _changed_keys(keys: list[str], before: dict, now: dict) -> list[str]:
    changed = []
    for key in keys:
        try:
            same = select(now, [key]) == select(before, [key])
        except PipelineError:  # the key is gone
            same = False
        if not same:
            changed.append(key)
    return changed


def check_params_unchanged() -> None:
    """Refuse to write outputs when params.yaml no longer holds what this stage read at its start.

    DVC records params.yaml as it is when the stage ends; a second `dvc exp run -S ...` started meanwhile
    rewrites it (DVC refuses the run, not the write), so the outputs would be recorded with values they were not
    made with. Called by `fmnist.atomic` before it renames outputs into place.
    """
    path = _ParamsRead.path
    if path is None:
        return
    changed = _changed_keys(_ParamsRead.keys, _ParamsRead.values, read_yaml(path))
    if changed:
        names = ", ".join(f"`{key}`" for key in changed)
        raise PipelineError(
            f"{path.name} changed while this stage ran ({names}), so its outputs would be recorded with values it did "
            "not use; none were written. Another `dvc exp run` (or an edit) changed it: run one experiment at a "
            "time (`make repro` waits for another), restore the file (`git diff params.yaml`), and re-run."
        )
