"""The feature x model accuracy table, gathered from the per-stage metrics in metrics/classify/."""

from __future__ import annotations

import json
from pathlib import Path

from fmnist.errors import PipelineError
from fmnist.names import CLASSIFY_MODELS


def accuracy_table(metrics_dir: Path) -> dict[str, dict[str, float]]:
    """{feature: {model: test accuracy}} from every metrics/classify/<feature>-<model>.json.

    Features are sorted by name, models in the zoo's order.
    """
    table: dict[str, dict[str, float]] = {}
    paths = sorted(metrics_dir.glob("*.json"))
    if not paths:
        raise PipelineError(f"{metrics_dir}: no metrics files; run the classify stages first (`dvc repro classify`)")
    for path in paths:
        try:
            record = json.loads(path.read_text())
            feature, model, accuracy = record["feature"], record["model"], record["test_accuracy"]
        except (json.JSONDecodeError, KeyError) as exc:
            raise PipelineError(f"{path}: not a classify metrics file ({exc}); re-run its classify stage") from None
        table.setdefault(feature, {})[model] = accuracy
    order = {name: i for i, name in enumerate(CLASSIFY_MODELS)}
    return {f: dict(sorted(table[f].items(), key=lambda kv: order.get(kv[0], len(order)))) for f in sorted(table)}


def markdown_table(table: dict[str, dict[str, float]]) -> str:
    """The accuracy table as Markdown: one row per feature set, one column per model."""
    models = [m for m in CLASSIFY_MODELS if any(m in row for row in table.values())]
    lines = ["| feature | " + " | ".join(models) + " |", "| --- |" + " ---: |" * len(models)]
    for feature, row in table.items():
        cells = [f"{row[m]:.4f}" if m in row else "-" for m in models]
        lines.append(f"| {feature} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
