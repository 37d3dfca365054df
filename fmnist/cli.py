"""What every stage script shares: logging set-up and turning a PipelineError (or a full disk, or a checkout it
cannot write) into one message."""

from __future__ import annotations

import argparse
import copy
import errno
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from fmnist.errors import PipelineError
from fmnist.lifetime import stage_dies_with_dvc
from fmnist.params import load_params, read_yaml, select


def declared_keys(templates: tuple[str, ...], **fields: str) -> list[str]:
    """A stage's `PARAMS_READ` templates (say "features.{name}") filled in for one matrix instance."""
    return [template.format(**fields) for template in templates]


@dataclass(frozen=True)
class Axis:
    """One flag of a matrix stage: where its values come from (named in the error message) and the values it
    accepts (None: names that params.yaml defines, which the stage checks against its params)."""

    source: str
    choices: Iterable[str] | None = None


class _StageArgumentParser(argparse.ArgumentParser):
    """A bad flag is a user error like any other: one `error:` line and exit code 1 (through run_stage)."""

    def __init__(self, description: str, sources: str):
        super().__init__(description=description)
        self.sources = sources

    def error(self, message: str):
        raise PipelineError(f"{self.prog}: {message}; the values come from {self.sources}: correct them there")


def flags_from_stage_name(stage_name: str | None, flags: list[str]) -> list[str]:
    """The flags of the matrix instance DVC runs, read from its name (DVC_STAGE, say `classify@raw-lda`)."""
    pattern = "@" + "-".join(f"<{flag}>" for flag in flags)
    if not stage_name:
        example = " ".join(f"--{flag} <value>" for flag in flags)
        raise PipelineError(f"no stage instance given: pass {example} (DVC names it in DVC_STAGE)")
    _, _, name = stage_name.rpartition(":")  # a dvc.yaml outside the repository root prefixes its path
    _, at, values = name.partition("@")
    parts = values.split("-") if at else []
    if len(parts) != len(flags):
        raise PipelineError(f"DVC_STAGE={stage_name!r}: expected a matrix instance named <stage>{pattern}")
    return [word for flag, value in zip(flags, parts, strict=True) for word in (f"--{flag}", value)]


def matrix_args(description: str, argv: list[str] | None, **axes: Axis) -> argparse.Namespace:
    """The `--<name> <value>` flags of one matrix stage instance, each required and checked against its choices.

    DVC runs a matrix stage without flags: its `cmd` in dvc.yaml carries no value from params.yaml, because DVC
    runs `cmd` through a shell and a value such as `dense2;touch pwned` would run before any check. The instance
    is read instead from DVC_STAGE, which DVC sets to the stage's name, and checked here like a flag.
    """
    sources = ", ".join(dict.fromkeys(axis.source for axis in axes.values()))
    parser = _StageArgumentParser(description, sources)
    for name, axis in axes.items():
        choices = None if axis.choices is None else tuple(axis.choices)
        parser.add_argument(f"--{name}", required=True, choices=choices)
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        argv = flags_from_stage_name(os.environ.get("DVC_STAGE"), list(axes))
    return parser.parse_args(argv)


class _ParamsRead:
    """The params this stage read at its start (`stage_params`), checked again before its outputs are written."""

    path: Path | None = None
    keys: list[str] = []
    values: dict = {}

    @classmethod
    def forget(cls) -> None:
        cls.path, cls.keys, cls.values = None, [], {}


def stage_params(templates: tuple[str, ...], **fields: str) -> dict:
    """Validate params.yaml, then return only the keys this stage declares in dvc.yaml.

    tests/test_dvc_graph.py checks that `templates` match the stage's `params:` in dvc.yaml.
    """
    keys = declared_keys(templates, **fields)
    values = select(load_params(), keys)
    _ParamsRead.path, _ParamsRead.keys, _ParamsRead.values = Path("params.yaml").resolve(), keys, values
    return copy.deepcopy(_ParamsRead.values)


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


# errno -> what went wrong and the fix, for the OSErrors a user can fix.
WRITE_PROBLEMS = {
    errno.ENOSPC: ("no space left on the device", "free some disk space"),
    errno.EDQUOT: ("disk quota exceeded", "free some disk space (or raise the quota)"),
    errno.EROFS: ("the file system is read-only", "make the checkout writable (or work in a writable clone)"),
    errno.EACCES: ("permission denied", "make the checkout writable (`chmod -R u+w` on it, or fix its owner)"),
    errno.EPERM: ("operation not permitted", "make the checkout writable (`chmod -R u+w` on it, or fix its owner)"),
}


def write_error(exc: OSError, path: str | os.PathLike | None, writing: bool = True) -> PipelineError | None:
    """One message for an OSError a user can fix (a full disk, a read-only or unwritable checkout), naming
    `path` (by default the exception's own file); None for any other OSError."""
    if exc.errno not in WRITE_PROBLEMS:
        return None
    what, fix = WRITE_PROBLEMS[exc.errno]
    where = path if path is not None else exc.filename
    subject = f"{where}: " if where is not None else ""
    action = "cannot write it: " if writing and where is not None else ""
    return PipelineError(f"{subject}{action}{what}; {fix}, then re-run `dvc repro`.")


def _exit_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM (a scheduler, `kill`, `dvc queue kill`) ends the stage like Ctrl-C: `staged_outputs`
    then removes its temporary files instead of leaving them behind."""
    raise SystemExit(128 + signum)


def run_stage(main: Callable[[], None]) -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    stage_dies_with_dvc()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    try:
        main()
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    except OSError as exc:  # a full disk or an unwritable checkout outside `staged_outputs` (dvclive's curves, say)
        error = write_error(exc, None, writing=False)
        if error is None:
            raise
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    finally:
        _ParamsRead.forget()  # a stage run in-process (tests) leaves no check behind for the next
