"""The report's section setting every number the course reports give (fmnist.report.baselines) beside the best run
of ours that answers it, or saying why none does."""

from __future__ import annotations

from typing import NamedTuple

from fmnist.catalog import BACKBONES, FEATURE_SETS, Backbone
from fmnist.report.baselines import REPORT_NUMBERS, ReportNumber
from fmnist.report.cnns import cnn_setting
from fmnist.report.document import Block, Heading, Paragraph, Table
from fmnist.report.formatting import fmt, fmt_diff, fmt_params
from fmnist.report.inputs import Inputs
from fmnist.runs import Run


class ReportRow(NamedTuple):
    """One row of the course reports' table, every cell formatted."""

    model: str
    setting: str
    report: str  # "000" ... "004", or "cited"
    reported: str
    ours: str  # "not run" when no run of ours answers the number
    difference: str
    ours_from: str


def run_setting(run: Run) -> str:
    """Which setting produced a number of ours, in a few words."""
    m = run.metrics
    if run.kind == "classify":
        parts = [fmt_params(m.get("best_params"))]
        if "train_size" in m:
            parts.append(f"train {m['train_size']:,}")
        return f"{run.label}: " + "; ".join(p for p in parts if p)
    parts = [cnn_setting(m)]
    if "epochs_run" in m:  # an ensemble trains nothing itself
        parts.append(f"best epoch {m.get('best_epoch', '?')} of {m['epochs_run']}")
    return f"{run.label}: " + "; ".join(p for p in parts if p)


def stand_in_backbone(run: Run) -> Backbone | None:
    """The catalog's stand-in backbone (answering the course reports' ResNet-18 and VGG-16-BN rows) a run trained, or
    classified the features of, if any."""
    feature = FEATURE_SETS.get(run.metrics.get("feature"))
    used = (run.metrics.get("arch"), feature.kind if feature else None)
    return next((backbone for name, backbone in BACKBONES.items() if backbone.stand_in and name in used), None)


def _matches(metrics: dict, require: dict) -> bool:
    return all(k in metrics and metrics[k] == v for k, v in require.items())


def report_row(number: ReportNumber, inputs: Inputs) -> ReportRow:
    """One course report number beside the best run of ours that answers it (or why none does)."""
    present = []
    for kind, name in number.ours:
        runs = inputs.classify if kind == "classify" else inputs.cnn
        present += list(runs.values()) if name == "*" else [runs[name]] if name in runs else []
    head = (number.model, number.setting, number.report, fmt(number.reported))
    if number.imagenet_features:
        random = [run for run in present if inputs.feature_weights.get(run.feature) != "imagenet"]
        present = [run for run in present if run not in random]
        if random and not present:
            labels = ", ".join(run.label for run in random)
            return ReportRow(*head, "not run", "", f"not in this setting: {labels} ran on features of random weights")
    candidates = [run for run in present if number.key in run.metrics and _matches(run.metrics, number.require)]
    if not candidates:
        if present:  # ran, but not in the setting the course report gives
            why = "; ".join(
                f"{r.label} ran with " + ", ".join(f"{k}={r.metrics.get(k, 'unset')}" for k in number.require)
                for r in present
            )
            return ReportRow(*head, "not run", "", f"not in this setting: {why}")
        wanted = " or ".join(f"{kind} {'(any)' if name == '*' else name}" for kind, name in number.ours)
        return ReportRow(*head, "not run", "", f"{wanted} not run")
    best = max(candidates, key=lambda r: r.metrics[number.key])
    ours = float(best.metrics[number.key])
    notes = [number.note] if number.note else []
    stand_in = stand_in_backbone(best)
    if number.backbone and stand_in:
        notes.append(f"{stand_in.title}, {stand_in.stand_in}, in place of {number.backbone}")
    note = f" ({'; '.join(notes)})" if notes else ""
    return ReportRow(*head, fmt(ours), fmt_diff(ours - number.reported), run_setting(best) + note)


def report_rows(inputs: Inputs) -> list[ReportRow]:
    return [report_row(number, inputs) for number in REPORT_NUMBERS]


def tally(inputs: Inputs) -> str:
    """How many course report numbers we answer, and meet or beat, in one sentence."""
    compared = [r for r in report_rows(inputs) if r.ours != "not run"]
    beaten = sum(1 for r in compared if float(r.ours) >= float(r.reported))
    return (
        f"Course report numbers: {len(REPORT_NUMBERS)}; we have an answer to {len(compared)}, "
        f"at or above the reported number in {beaten}."
    )


def weights_notes(inputs: Inputs) -> list[str]:
    """Every backbone not run with ImageNet weights (feature sets and CNNs): the course reports' ResNet-18
    numbers used them."""
    notes = [
        f"features/{name} extracted with {source} weights"
        for name, source in inputs.feature_weights.items()
        if source != "imagenet"
    ]
    notes += [
        f"train_cnn@{name} trained from {run.metrics['weights']} weights"
        for name, run in sorted(inputs.cnn.items())
        if run.metrics.get("weights", "imagenet") != "imagenet"
    ]
    return notes


def course_reports_table(rows: list[ReportRow]) -> Table:
    return Table(
        ("model", "setting", "course report", "reported", "ours", "difference", "ours from"),
        tuple(rows),
        numeric=(False, False, False, True, True, True, False),
        caption="Every number the course reports give (../shared/seeds/README.md) beside ours (test accuracy "
        "unless said otherwise); difference = ours - theirs.",
    )


def section(inputs: Inputs) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Our numbers beside the course reports'")]
    weights = weights_notes(inputs)
    if weights:
        blocks.append(
            Paragraph(
                "Not like for like: the course reports' ResNet-18 numbers use ImageNet weights; in this run "
                + "; ".join(weights)
                + ".",
                css="warning",
            )
        )
    return blocks + [course_reports_table(report_rows(inputs))]
