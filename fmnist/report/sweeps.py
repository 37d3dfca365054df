"""Report 003's sweeps in the report: each sweep's numbers, its picture, and ours set beside report 003's findings
(its section 4), with a check of each finding against our numbers rather than a fixed verdict."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fmnist.catalog import SWEEPS
from fmnist.layout import Layout
from fmnist.pictures import sweep_panels
from fmnist.records import load_record
from fmnist.report.document import Block, Figure, Heading, Paragraph, Table


@dataclass(frozen=True)
class Finding:
    """What report 003 says of one sweep, and the setting's name on a picture's axis."""

    axis: str
    log_x: bool
    reported: str


FINDINGS = {
    "hidden_units": Finding(
        "hidden units",
        True,
        "best at 5 to 10 units (test 0.659 with 5); 3 units 0.30, 4 units 0.50; above 20 units worse, and the "
        "800-unit net crashed to random outputs (Adam, lr 0.001, weights drawn with sd 0.5)",
    ),
    "filters": Finding("filters", False, "best with 15 filters (0.88); every count above 0.80, one filter included"),
    "kernel_size": Finding("filter size", False, "with 32 filters, smaller filters slightly better (best 2 x 2)"),
}
CHANCE = 0.1  # ten balanced classes: a net that "crashed" scores about this
WEAK_TREND = 0.005  # a filter-size trend worth less test accuracy than this over the whole range is none


@dataclass(frozen=True)
class SweepResult:
    name: str
    record: dict  # headline metrics and details
    curves: pd.DataFrame  # step, value, val_acc, val_loss
    final: pd.DataFrame  # value, val_acc, test_acc


def load_sweeps(layout: Layout) -> dict[str, SweepResult]:
    """The sweeps whose outputs are all here (a fresh clone has headlines from git only until `dvc pull`)."""
    found = {}
    for name in SWEEPS:
        paths = layout.sweep(name)
        if all(p.is_file() for p in (paths.record.metrics, paths.record.details, paths.curves, paths.final)):
            found[name] = SweepResult(
                name, load_record(paths.record), pd.read_csv(paths.curves), pd.read_csv(paths.final)
            )
    return found


def compare(result: SweepResult) -> str:
    """Whether our numbers agree with report 003's finding on this sweep, said from the numbers."""
    final = result.final
    best, test = result.record["best_value"], result.final.set_index("value")["test_acc"]
    if result.name == "hidden_units":
        crashed = final[final["val_acc"] < 2 * CHANCE]["value"].tolist()
        optimum = "agrees (5 to 10)" if best in (5, 10) else f"differs: ours is best at {best}"
        crash = (
            f"crashed: {crashed}" if crashed else f"no width crashed (worst test {test.min():.4f}, at {test.idxmin()})"
        )
        return f"Optimum {optimum}; {crash}."
    if result.name == "filters":
        floor = "every count above 0.80" if test.min() > 0.80 else f"not every count above 0.80 ({test.min():.4f})"
        optimum = "agrees (15)" if best == 15 else f"differs: ours is best at {best}"
        return f"Optimum {optimum}; {floor}."
    sizes = test.index.to_numpy(float)
    slope = np.polyfit(sizes, test.to_numpy(float), 1)[0]
    if abs(slope) * (sizes.max() - sizes.min()) < WEAK_TREND:
        trend = f"filter size hardly matters here (best {best})"
    else:
        trend = "agrees: smaller filters score higher" if slope < 0 else "differs: larger filters score higher"
    return f"{trend}; test accuracy {slope:+.4f} per pixel of filter size (least squares)."


def draw(sweeps: dict[str, SweepResult], temporary: Callable[[Path], Path], out_dir: Path) -> dict[str, Path]:
    """Each sweep's picture (fmnist.pictures.figures.sweep_panels), as key "sweep-<name>" -> its final path."""
    drawn = {}
    for name, result in sweeps.items():
        curves = {
            int(value): (group["step"].to_numpy(), group["val_acc"].to_numpy())
            for value, group in result.curves.groupby("value", sort=True)
        }
        final = (result.final["value"].tolist(), result.final["val_acc"].tolist(), result.final["test_acc"].tolist())
        finding = FINDINGS[name]
        drawn[f"sweep-{name}"] = out_dir / f"sweep-{name}.png"
        epochs = result.record["epochs"]
        budget = f"{epochs} epoch{'s' * (epochs != 1)} per value"
        title = f"Report 003's {finding.axis} sweep ({result.record['arch']}, {budget})"
        sweep_panels(curves, final, finding.axis, finding.log_x, title, temporary(drawn[f"sweep-{name}"]))
    return drawn


def section(sweeps: dict[str, SweepResult], drawn: dict[str, Path]) -> list[Block]:
    """The report's section: one table row per sweep (ours, report 003's finding, whether they agree), then the
    pictures."""
    blocks: list[Block] = [Heading(2, "Report 003's sweeps")]
    if not sweeps:
        return blocks + [Paragraph("No sweeps (metrics/sweeps/*.json with their details): not run.", css="warning")]
    rows = []
    for name, result in sweeps.items():
        record = result.record
        rows.append(
            (
                f"{name} ({record['arch']}.{record['setting']})",
                ", ".join(str(v) for v in result.final["value"]),
                str(record["best_value"]),
                f"{record['val_accuracy']:.4f}",
                f"{record['test_accuracy']:.4f}",
                FINDINGS[name].reported,
                compare(result),
            )
        )
    blocks.append(
        Table(
            ("sweep", "values", "best (validation)", "its validation", "its test", "report 003 found", "ours"),
            tuple(rows),
            numeric=(False, False, True, True, True, False, False),
            caption="Each value trained with the shared recipe for a fixed number of epochs (params.yaml `sweeps`); "
            "the best value is chosen on the validation split. Report 003 trained with Adam (lr 0.001, batch 32) "
            "from weights drawn with sd 0.5, which explains most differences.",
        )
    )
    blocks += [
        Figure(drawn[f"sweep-{name}"], f"Sweep {name}: validation curves and final accuracies") for name in sweeps
    ]
    return blocks
