"""The report's section on the 2-D embeddings the visualize stages drew: their numbers, then a grid of pictures
(one row per feature set, one column per method)."""

from __future__ import annotations

from fmnist.catalog import EMBEDDINGS
from fmnist.report.document import Block, Figure, FigureGrid, Heading, Paragraph, Table
from fmnist.report.formatting import fmt, fmt_params, fmt_seconds
from fmnist.report.inputs import Inputs, ordered, stage_names


def embeddings_table(inputs: Inputs) -> Table:
    rows = []
    for name in ordered(list(inputs.embeddings), stage_names(inputs, "visualize")):
        info = inputs.embeddings[name]
        rows.append(
            (
                info["feature"],
                EMBEDDINGS[info["method"]].title if info["method"] in EMBEDDINGS else info["method"],
                f"{info['n_points']:,}",
                fmt(info.get("knn5_accuracy_2d"), 3),
                fmt_seconds(info.get("seconds")),
                fmt_params(info.get("settings")),
            )
        )
    return Table(
        ("feature set", "method", "points", "5-NN accuracy in 2-D", "seconds", "settings"),
        tuple(rows),
        numeric=(False, False, True, True, True, False),
        caption="Each picture embeds a seeded, class-stratified subset of the 70,000 images; the 5-NN "
        "accuracy (5-fold CV) in the 2-D picture measures how well it keeps the classes apart.",
    )


def embeddings_grid(inputs: Inputs) -> FigureGrid:
    names = ordered(list(inputs.embeddings), stage_names(inputs, "visualize"))
    features = list(dict.fromkeys(inputs.embeddings[n]["feature"] for n in names))
    methods = [m for m in EMBEDDINGS if any(i["method"] == m for i in inputs.embeddings.values())]
    by_key = {(i["feature"], i["method"]): i for i in inputs.embeddings.values()}
    cells = tuple(
        tuple(
            Figure(by_key[(f, m)]["png"], f"{EMBEDDINGS[m].title} of {f}") if (f, m) in by_key else None
            for m in methods
        )
        for f in features
    )
    return FigureGrid(tuple(features), tuple(EMBEDDINGS[m].title for m in methods), cells)


def section(inputs: Inputs) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Embeddings")]
    if not inputs.embeddings:
        return blocks + [Paragraph("No embeddings (metrics/visualize/*.json): not run.", css="warning")]
    return blocks + [embeddings_table(inputs), embeddings_grid(inputs)]
