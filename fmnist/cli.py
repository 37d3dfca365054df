"""What every stage script shares on its command line: its matrix flags, logging set-up, and turning a PipelineError
(or a full disk, or a checkout it cannot write) into one message. The params a stage reads: fmnist.params_read."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from fmnist.errors import PipelineError, write_error
from fmnist.lifetime import stage_dies_with_dvc
from fmnist.params_read import forget_stage_params


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
        forget_stage_params()
