"""What every stage script shares: logging set-up and turning a PipelineError (or a full disk, or a checkout it
cannot write) into one message."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterable

from fmnist.errors import PipelineError
from fmnist.params import load_params, select


def declared_keys(templates: tuple[str, ...], **fields: str) -> list[str]:
    """A stage's `PARAMS_READ` templates (say "features.{name}") filled in for one matrix instance."""
    return [template.format(**fields) for template in templates]


class _StageArgumentParser(argparse.ArgumentParser):
    """A bad flag is a user error like any other: one `error:` line and exit code 1 (through run_stage)."""

    def error(self, message: str):
        raise PipelineError(f"{self.prog}: {message}; the stage matrix in dvc.yaml passes the valid values")


def matrix_args(description: str, argv: list[str] | None, **choices: Iterable[str] | None) -> argparse.Namespace:
    """The `--<name> <value>` flags of one matrix stage instance, each required and checked against its choices
    (None: names that params.yaml defines, which the stage checks against its params)."""
    parser = _StageArgumentParser(description=description)
    for name, allowed in choices.items():
        parser.add_argument(f"--{name}", required=True, choices=None if allowed is None else tuple(allowed))
    return parser.parse_args(argv)


def stage_params(templates: tuple[str, ...], **fields: str) -> dict:
    """Validate params.yaml, then return only the keys this stage declares in dvc.yaml.

    tests/test_dvc_graph.py checks that `templates` match the stage's `params:` in dvc.yaml.
    """
    return select(load_params(), declared_keys(templates, **fields))


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
