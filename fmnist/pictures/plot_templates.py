"""The Vega-Lite templates `dvc plots` uses beyond its own: the embeddings, coloured with the fixed class palette,
and the sweeps' validation curves, one line per swept value.

.dvc/plots/<name>.json is generated from here (a test checks each is up to date); to regenerate them:
`python -m fmnist.pictures.plot_templates`.
"""

from __future__ import annotations

import json
from pathlib import Path

from fmnist.pictures.palette import class_color_hex

TEMPLATES_DIR = Path(".dvc/plots")


def axis(channel: str, zero: bool = True) -> dict:
    """The x or y encoding DVC fills in from a plot's `x:` / `y:` (field and label)."""
    scale = {} if zero else {"scale": {"zero": False}}
    return {
        "field": f"<DVC_METRIC_{channel}>",
        "type": "quantitative",
        "title": f"<DVC_METRIC_{channel}_LABEL>",
        **scale,
    }


def chart(mark: dict, color: dict, **encoding: dict) -> dict:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": "<DVC_METRIC_DATA>"},
        "title": "<DVC_METRIC_TITLE>",
        "width": 500,
        "height": 420,
        "mark": {**mark, "tooltip": {"content": "data"}},
        "encoding": {"x": axis("X"), "y": axis("Y", zero=False), "color": color, **encoding},
    }


def embedding_template() -> dict:
    colors = class_color_hex()
    color = {
        "field": "class",
        "type": "nominal",
        "scale": {"domain": list(colors), "range": list(colors.values())},
        "legend": {"title": "class"},
    }
    return chart({"type": "circle", "size": 12, "opacity": 0.75}, color)


def sweep_template() -> dict:
    """A line per swept value (the CSV's `value` column); `dvc plots diff` dashes each revision differently."""
    color = {"field": "value", "type": "ordinal", "scale": {"scheme": "viridis"}, "legend": {"title": "value"}}
    return chart({"type": "line"}, color, strokeDash={"field": "rev", "type": "nominal"})


TEMPLATES = {"embedding": embedding_template, "sweep": sweep_template}


def template_text(name: str) -> str:
    return json.dumps(TEMPLATES[name](), indent=2) + "\n"


if __name__ == "__main__":
    TEMPLATES_DIR.mkdir(parents=True, exist_ok=True)
    for name in TEMPLATES:
        (TEMPLATES_DIR / f"{name}.json").write_text(template_text(name))
        print(f"wrote {TEMPLATES_DIR / name}.json")
