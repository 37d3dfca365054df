"""The report's section on the CNNs: one row per network (or ensemble) trained, with the setting it ran in."""

from __future__ import annotations

from fmnist.report.document import Block, Heading, Paragraph, Table
from fmnist.report.formatting import fmt, fmt_seconds
from fmnist.report.inputs import Inputs, runs_and_best

CNN_SETTING_KEYS = ("weights", "freeze", "train_fraction", "input_size", "head", "pooled_stages")


def cnn_setting(metrics: dict) -> str:
    """The settings a CNN's metrics record; a boosted ensemble lists its `members`, a single net none."""
    parts = [f"{k}={metrics[k]}" for k in CNN_SETTING_KEYS if k in metrics]
    if "members" in metrics:
        parts.append(f"boosted, {len(metrics['members'])} nets")
    if "nets" in metrics:
        parts.append("mean softmax of " + " + ".join(metrics["nets"]))
    return ", ".join(parts)


def cnn_table(inputs: Inputs) -> Table:
    runs, best = runs_and_best(inputs.cnn, inputs, "train_cnn")
    rows = []
    for run in runs:
        m = run.metrics
        rows.append(
            (
                run.name,
                fmt(m["test_accuracy"]),
                fmt(m.get("macro_f1")),
                f"{m.get('best_epoch', 'n/a')} / {m.get('epochs_run', 'n/a')}",
                f"{m['params_count']:,}" if "params_count" in m else "n/a",
                fmt_seconds(m.get("train_seconds")),
                fmt_seconds(m.get("images_per_second")),
                str(m.get("device", "n/a")),
                cnn_setting(m),
            )
        )
    return Table(
        (
            "architecture",
            "test accuracy",
            "macro F1",
            "best epoch / run",
            "parameters",
            "train s",
            "images/s",
            "device",
            "setting",
        ),
        tuple(rows),
        numeric=(False, True, True, True, True, True, True, False, False),
        highlight=frozenset({(best, 1)} if best is not None else set()),
        caption="CNNs: best checkpoint by validation accuracy (early stopping), scored once on the test set.",
    )


def section(inputs: Inputs) -> list[Block]:
    return [
        Heading(2, "CNNs"),
        cnn_table(inputs) if inputs.cnn else Paragraph("No CNN metrics (metrics/cnn/*.json): not run.", css="warning"),
    ]
