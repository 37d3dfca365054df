"""The Vega-Lite template `dvc plots` uses for the embeddings, coloured with the fixed class palette.

.dvc/plots/embedding.json is generated from fmnist.pictures.palette (a test checks it is up to date); to
regenerate it: `python -m fmnist.pictures.plot_templates`.
"""

from __future__ import annotations

import json
from pathlib import Path

from fmnist.pictures.palette import class_color_hex

TEMPLATE_PATH = Path(".dvc/plots/embedding.json")


def embedding_template() -> dict:
    colors = class_color_hex()
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": "<DVC_METRIC_DATA>"},
        "title": "<DVC_METRIC_TITLE>",
        "width": 500,
        "height": 420,
        "mark": {"type": "circle", "size": 12, "opacity": 0.75, "tooltip": {"content": "data"}},
        "encoding": {
            "x": {"field": "<DVC_METRIC_X>", "type": "quantitative", "title": "<DVC_METRIC_X_LABEL>"},
            "y": {"field": "<DVC_METRIC_Y>", "type": "quantitative", "title": "<DVC_METRIC_Y_LABEL>"},
            "color": {
                "field": "class",
                "type": "nominal",
                "scale": {"domain": list(colors), "range": list(colors.values())},
                "legend": {"title": "class"},
            },
        },
    }


def template_text() -> str:
    return json.dumps(embedding_template(), indent=2) + "\n"


if __name__ == "__main__":
    TEMPLATE_PATH.parent.mkdir(parents=True, exist_ok=True)
    TEMPLATE_PATH.write_text(template_text())
    print(f"wrote {TEMPLATE_PATH}")
