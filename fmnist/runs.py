"""The trained models of a pipeline run, read from their outputs: metrics JSON, test predictions, dvclive curves.

Paths follow the shared output contract: metrics/classify/<feature>-<model>.json with
plots/classify/<feature>-<model>.csv, and metrics/cnn/<arch>.json with plots/cnn/<arch>/predictions.csv
and plots/cnn/<arch>/live/ (dvclive).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fmnist.classes import CLASS_NAMES
from fmnist.errors import PipelineError
from fmnist.layout import Layout
from fmnist.records import load_record


@dataclass
class Run:
    """One trained model: its record (headline metrics and details), and where its test predictions and curves are."""

    kind: str  # "classify" or "cnn"
    name: str  # "<feature>-<model>" or "<arch>"
    metrics: dict
    predictions: Path | None
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def accuracy(self) -> float:
        return float(self.metrics["test_accuracy"])

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"

    @property
    def feature(self) -> str:
        """A classify run's feature set: its metrics' `feature`, else its name up to the first "-"."""
        return self.metrics.get("feature", self.name.split("-")[0])


def read_curves(live_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """dvclive's per-step TSV files under `live_dir`/plots/metrics: series name -> (steps, values)."""
    curves = {}
    root = live_dir / "plots" / "metrics"
    for tsv in sorted(root.rglob("*.tsv")):
        table = pd.read_csv(tsv, sep="\t")
        value_columns = [c for c in table.columns if c not in ("step", "timestamp")]
        if "step" in table.columns and value_columns:
            curves[tsv.relative_to(root).with_suffix("").as_posix()] = (
                table["step"].to_numpy(),
                table[value_columns[0]].to_numpy(dtype=float),
            )
    return curves


def whole_records(layout: Layout, kind: str) -> list[Path]:
    """The headline metrics files of `kind` whose details are here too. Headlines come from git, details from
    the DVC cache: a fresh clone before `dvc pull`, or one whose matrix shrank, has headlines of runs it cannot
    show (the report lists the declared ones among its missing outputs)."""
    return [
        path
        for path in sorted(layout.records_dir(kind).glob("*.json"))
        if layout.record(kind, path.stem).details.is_file()
    ]


def load_runs(layout: Layout, kind: str) -> dict[str, Run]:
    """Every run of `kind` ("classify" or "cnn") whose whole record is here, by name."""
    runs = {}
    for path in whole_records(layout, kind):
        data = load_record(layout.record(kind, path.stem))
        predictions = layout.run_predictions(kind, path.stem)
        curves = read_curves(layout.cnn(path.stem).curves) if kind == "cnn" else {}
        runs[path.stem] = Run(kind, path.stem, data, predictions if predictions.is_file() else None, curves)
    return runs


def read_predictions(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(test-set index, true label, predicted label) from an index,actual,predicted CSV of class names."""
    table = pd.read_csv(path)
    missing = {"index", "actual", "predicted"} - set(table.columns)
    if missing:
        raise PipelineError(f"{path}: lacks column(s) {', '.join(sorted(missing))}; expected index,actual,predicted")
    labels = {name: i for i, name in enumerate(CLASS_NAMES)}
    unknown = sorted(set(table["actual"]).union(table["predicted"]) - set(labels))
    if unknown:
        raise PipelineError(f"{path}: unknown class name(s) {unknown}; expected names from fmnist.classes")
    return (
        table["index"].to_numpy(dtype=np.int64),
        table["actual"].map(labels).to_numpy(),
        table["predicted"].map(labels).to_numpy(),
    )


def best_runs(runs: dict[str, Run]) -> list[Run]:
    """Runs from the highest test accuracy down (ties by name)."""
    return sorted(runs.values(), key=lambda r: (-r.accuracy, r.name))
