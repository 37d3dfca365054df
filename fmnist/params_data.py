"""The params.yaml schema of the data family (`download`, `data`), and the training set's size that other sections
are checked against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fmnist.classes import NUM_CLASSES
from fmnist.errors import PipelineError
from fmnist.schema import Float, Int, ListOf, Section, Spec, Str

# Fashion-MNIST's training set holds 6,000 images of every class, and prepare holds out
# round(val_fraction x 6,000) of each (fmnist.data.dataset.stratified_val_indices; Python rounds half to even,
# so 0.5 / 6,000 = 8.33e-05 holds out none). MIN_VAL_FRACTION: the smallest three-digit value holding out one.
TRAIN_IMAGES_PER_CLASS = 6000
MIN_VAL_FRACTION = 8.34e-05
TRAIN_ROWS = TRAIN_IMAGES_PER_CLASS * NUM_CLASSES


@dataclass(frozen=True)
class ValFraction(Spec):
    """`data.val_fraction`: in (0, 0.5], and large enough to hold out at least one image of every class (an
    empty validation split would pass prepare and crash train_cnn later, far from its cause)."""

    bounds: Spec = Float(0.0, 0.5, lo_open=True)

    def validate(self, key: str, value: Any) -> None:
        self.bounds.validate(key, value)
        if round(value * TRAIN_IMAGES_PER_CLASS) < 1:
            raise PipelineError(
                f"params.yaml: `{key}` = {value!r} holds out no validation image: {value!r} x "
                f"{TRAIN_IMAGES_PER_CLASS:,} training images per class rounds to 0, so the validation split would "
                f"be empty. Use at least {MIN_VAL_FRACTION:g}, the smallest value that holds out one image of every "
                "class. Fix it in params.yaml (or in your `dvc exp run -S` override)."
            )


DOWNLOAD_SECTION = Section(
    {
        "mirrors": ListOf(Str()),
        "urls": ListOf(Str()),
        "retries": Int(0, 10),
        "timeout_s": Int(1, 3600),
    }
)
DATA_SECTION = Section(
    {
        "val_fraction": ValFraction(),
        "seed": Int(0, 2**32 - 1),
    }
)
