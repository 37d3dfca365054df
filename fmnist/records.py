"""A stage's record of one run, kept in two files.

The headline metrics are the few numbers a user compares across experiments (test accuracy, macro F1, a
validation or CV accuracy, ...): small JSON files in git, which `dvc metrics show`, `dvc metrics diff` and
`dvc exp show` print. The details are everything else the stage knows (per-class scores, confusion matrix,
best params, grid, notes, timings, sizes, device): a cached DVC output that the report and gallery read.
Timings live only in the details, so a re-run that reproduces the predictions shows no metrics diff.
"""

from __future__ import annotations

import json

from fmnist.atomic import StagedOutputs
from fmnist.errors import PipelineError
from fmnist.layout import RecordPaths


def save_record(staged: StagedOutputs, paths: RecordPaths, record: dict, headline: tuple[str, ...]) -> None:
    """Stage the `headline` keys of `record` as its metrics and every other key as its details."""
    staged.save_json(paths.metrics, {key: record[key] for key in headline})
    staged.save_json(paths.details, {key: value for key, value in record.items() if key not in headline})


def read_json(path) -> dict:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise PipelineError(f"{path}: not valid JSON ({exc}); re-run the stage that writes it") from None


def load_record(paths: RecordPaths) -> dict:
    """The whole record again: the details (when present: `dvc pull` may not have fetched them) and the
    headline metrics."""
    details = read_json(paths.details) if paths.details.is_file() else {}
    return {**details, **read_json(paths.metrics)}
