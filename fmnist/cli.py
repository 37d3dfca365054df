"""What every stage script shares: logging set-up and turning a PipelineError into one message."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable, Iterable

from fmnist.errors import PipelineError
from fmnist.params import load_params, select


def declared_keys(templates: tuple[str, ...], **fields: str) -> list[str]:
    """A stage's `PARAMS_READ` templates (say "features.{name}") filled in for one matrix instance."""
    return [template.format(**fields) for template in templates]


def matrix_args(description: str, argv: list[str] | None, **choices: Iterable[str]) -> argparse.Namespace:
    """The `--<name> <value>` flags of one matrix stage instance, each required and checked against its choices."""
    parser = argparse.ArgumentParser(description=description)
    for name, allowed in choices.items():
        parser.add_argument(f"--{name}", required=True, choices=tuple(allowed))
    return parser.parse_args(argv)


def stage_params(templates: tuple[str, ...], **fields: str) -> dict:
    """Validate params.yaml, then return only the keys this stage declares in dvc.yaml.

    tests/test_dvc_graph.py checks that `templates` match the stage's `params:` in dvc.yaml.
    """
    return select(load_params(), declared_keys(templates, **fields))


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
