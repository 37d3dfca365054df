"""One fixed colour per class, everywhere (report 000's Table 1): the only place the colours live."""

from __future__ import annotations

from matplotlib.colors import to_hex

from fmnist.classes import CLASS_NAMES

# Report 000, Table 1 "Color map of the different classes" (matplotlib colour names).
CLASS_COLORS = {
    "Ankle boot": "green",
    "Bag": "orchid",
    "Coat": "cyan",
    "Dress": "magenta",
    "Pullover": "blue",
    "Sandal": "red",
    "Shirt": "lime",
    "Sneaker": "yellow",
    "Trouser": "gray",
    "T-shirt/top": "orange",
}


def class_color_hex() -> dict[str, str]:
    """Class name -> '#rrggbb', in label order (for Vega-Lite templates and HTML)."""
    return {name: to_hex(CLASS_COLORS[name]) for name in CLASS_NAMES}
