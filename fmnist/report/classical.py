"""The report's section on the classical classifiers: accuracy by model and feature set, then every run's details."""

from __future__ import annotations

from fmnist.report.document import Block, Heading, Paragraph, Table
from fmnist.report.formatting import fmt, fmt_params, fmt_seconds
from fmnist.report.inputs import Inputs, ordered, runs_and_best, stage_names


def classify_table(inputs: Inputs) -> Table:
    runs, best = runs_and_best(inputs.classify, inputs, "classify")
    rows = []
    for run in runs:
        m = run.metrics
        cv = m.get("cv_accuracy_mean")
        rows.append(
            (
                run.feature,
                m["model"],
                fmt(m["test_accuracy"]),
                fmt(m.get("macro_f1")),
                f"{fmt(cv)} ± {fmt(m.get('cv_accuracy_std'))}" if cv is not None else "n/a",
                fmt_seconds(m.get("fit_seconds")),
                fmt_seconds(m.get("predict_seconds")),
                f"{m['train_size']:,}" if "train_size" in m else "n/a",
                fmt_params(m.get("best_params")),
            )
        )
    return Table(
        (
            "feature set",
            "model",
            "test accuracy",
            "macro F1",
            "CV accuracy",
            "fit s",
            "predict s",
            "train size",
            "best params",
        ),
        tuple(rows),
        numeric=(False, False, True, True, True, True, True, True, False),
        highlight=frozenset({(best, 2)} if best is not None else set()),
        caption="Classical classifiers: tuned by grid-search CV on the training set, refit, "
        "scored once on the test set.",
    )


def accuracy_pivot(inputs: Inputs) -> Table:
    """Test accuracy, one row per model and one column per feature set (the best of each column in bold)."""
    features, models = [], []
    for name in ordered(list(inputs.classify), stage_names(inputs, "classify")):
        run = inputs.classify[name]
        features += [run.feature] if run.feature not in features else []
        models += [run.metrics["model"]] if run.metrics["model"] not in models else []
    acc = {(r.feature, r.metrics["model"]): r.accuracy for r in inputs.classify.values()}
    rows, highlight = [], set()
    for model in models:
        rows.append((model, *(fmt(acc.get((f, model))) if (f, model) in acc else "not run" for f in features)))
    for j, feature in enumerate(features):
        column = [(acc[(feature, model)], i) for i, model in enumerate(models) if (feature, model) in acc]
        if column:
            highlight.add((max(column)[1], j + 1))
    weights = inputs.feature_weights
    return Table(
        ("model", *(f"{f} ({weights[f]} weights)" if f in weights else f for f in features)),
        tuple(rows),
        numeric=(False, *[True] * len(features)),
        highlight=frozenset(highlight),
        caption="Test accuracy, model x feature set (best per feature set in bold; a pretrained network's column "
        "says which weights its features were really extracted with).",
    )


def section(inputs: Inputs) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Classical classifiers")]
    if not inputs.classify:
        return blocks + [Paragraph("No classify metrics (metrics/classify/*.json): not run.", css="warning")]
    return blocks + [accuracy_pivot(inputs), classify_table(inputs)]
