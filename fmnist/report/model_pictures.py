"""The pictures the report draws itself from the runs' predictions and curves (confusion heatmaps, per-class F1 bars,
learning curves, and through fmnist.report.sweeps the sweeps' panels), and the sections that show the first three."""

from __future__ import annotations

from pathlib import Path

from sklearn.metrics import confusion_matrix, f1_score

from fmnist.atomic import StagedOutputs
from fmnist.classes import CLASS_NAMES
from fmnist.pictures import confusion_heatmap, learning_curves, per_class_f1_bars
from fmnist.report import sweeps
from fmnist.report.document import Block, Figure, Heading, Paragraph
from fmnist.report.inputs import Inputs
from fmnist.runs import Run, best_runs, read_predictions


def draw(inputs: Inputs, out_dir: Path, staged: StagedOutputs) -> tuple[dict[str, Path], dict[Path, Path]]:
    """Confusion heatmaps, per-class F1 bars, learning curves and sweeps drawn from the run's data into `out_dir`.

    Returns key -> final path, and final path -> the temporary file holding it until the outputs commit.
    """
    drawn: dict[str, Path] = {}
    written: dict[Path, Path] = {}

    def temporary(final: Path) -> Path:
        written[final] = staged.path(final)
        return written[final]

    best_by_feature: dict[str, Run] = {}
    for run in best_runs(inputs.classify):
        best_by_feature.setdefault(run.feature, run)
    confusion_runs = list(best_by_feature.values()) + best_runs(inputs.cnn)[:1]
    f1_runs = [r for r in (best_runs(inputs.classify)[:1] + best_runs(inputs.cnn)[:1]) if r.predictions]
    for run in confusion_runs:
        if run.predictions:
            _, actual, predicted = read_predictions(run.predictions)
            matrix = confusion_matrix(actual, predicted, labels=range(len(CLASS_NAMES)))
            key = f"confusion-{run.kind}-{run.name}"
            drawn[key] = out_dir / f"{key}.png"
            confusion_heatmap(matrix, f"{run.label}: test accuracy {run.accuracy:.4f}", temporary(drawn[key]))
    if f1_runs:
        scores = {}
        for run in f1_runs:
            _, actual, predicted = read_predictions(run.predictions)
            scores[f"{run.label} ({run.accuracy:.4f})"] = list(
                f1_score(actual, predicted, labels=range(len(CLASS_NAMES)), average=None, zero_division=0)
            )
        drawn["per-class-f1"] = out_dir / "per-class-f1.png"
        per_class_f1_bars(
            scores, "Per-class F1 of the best classifier and the best CNN", temporary(drawn["per-class-f1"])
        )
    for run in best_runs(inputs.cnn):
        if run.curves:
            key = f"curves-{run.name}"
            drawn[key] = out_dir / f"{key}.png"
            learning_curves(run.curves, f"{run.name}: learning curves (dvclive)", temporary(drawn[key]))
    drawn |= sweeps.draw(inputs.sweeps, temporary, out_dir)
    return drawn, written


def confusion_section(drawn: dict[str, Path]) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Confusion matrices")]
    confusions = [(k, p) for k, p in drawn.items() if k.startswith("confusion-")]
    if not confusions:
        return blocks + [Paragraph("No prediction CSVs: not run.", css="warning")]
    blocks.append(
        Paragraph(
            "Best classifier of each feature set and the best CNN; rows are the true class, the "
            "colour is the share of that class, the numbers are counts of test images."
        )
    )
    return blocks + [Figure(p, k.removeprefix("confusion-").replace("-", " ", 1), half=True) for k, p in confusions]


def per_class_f1_section(drawn: dict[str, Path]) -> list[Block]:
    return [
        Heading(2, "Per-class F1 of the best models"),
        Figure(drawn["per-class-f1"], "Per-class F1 on the test set")
        if "per-class-f1" in drawn
        else Paragraph("No prediction CSVs: not run.", css="warning"),
    ]


def curves_section(drawn: dict[str, Path]) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Learning curves")]
    curves = [(k, p) for k, p in drawn.items() if k.startswith("curves-")]
    if not curves:
        return blocks + [Paragraph("No dvclive curves under plots/cnn/*/live: not run.", css="warning")]
    return blocks + [
        Figure(p, f"{k.removeprefix('curves-')}: losses and accuracies logged by dvclive") for k, p in curves
    ]
