"""The training recipe, declared once: the `model:` section of params.yaml, and every recipe a net trains with.

Recipe is both what the training loop reads and the schema of those keys: each field names its type and the spec
that validates it in params.yaml. The schema's recipe sections (`model`, `finetune.recipe`, and the `recipe` values
of every arch and fine-tune run: fmnist.params_cnn) are built from RECIPE_SPECS, so a field added here is a params
key everywhere a recipe is read. Torch-free, as params validation (stage check_params) imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from fmnist.schema import DEVICE, JOBS, Bool, Choice, Float, Int, Spec


def validated_by(spec: Spec) -> Any:
    """A Recipe field that params.yaml sets, checked by `spec` (kept in the field's metadata)."""
    return field(metadata={"spec": spec})


@dataclass(frozen=True)
class Recipe:
    """The `model:` section of params.yaml (or `finetune.recipe`), with a net's own values over it
    (fmnist.cnn.recipes.effective_recipe, fmnist.cnn.finetune.finetune_recipe)."""

    optimizer: str = validated_by(Choice("sgd", "adam", "adamw"))
    lr: float = validated_by(Float(0.0, 10.0, lo_open=True))
    momentum: float = validated_by(Float(0.0, 1.0, hi_open=True))
    weight_decay: float = validated_by(Float(0.0, 1.0))
    epochs: int = validated_by(Int(1, 1000))
    # A batch of one image stops batch norm in training (one value per channel).
    batch_size: int = validated_by(Int(2, 65536))
    patience: int = validated_by(Int(1, 1000))
    schedule: str = validated_by(Choice("onecycle", "cosine", "constant"))
    warmup_fraction: float = validated_by(Float(0.0, 0.9))
    label_smoothing: float = validated_by(Float(0.0, 1.0, hi_open=True))
    crop_padding: int = validated_by(Int(0, 8))
    hflip: bool = validated_by(Bool())
    random_erasing: float = validated_by(Float(0.0, 1.0))
    # Decay of the weights' moving average that is validated and saved (0: off; fmnist.cnn.ema).
    ema: float = validated_by(Float(0.0, 1.0, hi_open=True))
    tta_hflip: bool = validated_by(Bool())
    # Test-time shifts of this many pixels, diagonally both ways (0: off; fmnist.cnn.inference.predict_logits).
    tta_shift: int = validated_by(Int(0, 4))
    channels_last: bool = validated_by(Bool())
    compile: bool = validated_by(Bool())
    amp: bool = validated_by(Bool())
    device: str = validated_by(DEVICE)
    cpu_threads: int | str = validated_by(JOBS)
    # The CPU code paths of torch's libraries: native, or those of another kind of CPU (the names of fmnist.kernels'
    # table, which only the stages that train or run nets import).
    cpu_kernels: str = validated_by(Choice("native", "avx2", "mkl_compatible"))
    seed: int = validated_by(Int(0, 2**32 - 1))

    @classmethod
    def from_params(cls, section: dict) -> Recipe:
        return cls(**section)


def recipe_specs(recipe: type = Recipe) -> dict[str, Spec]:
    """The spec of every field of `recipe` (Recipe, or a class derived from it), by key, in the fields' order."""
    return {item.name: item.metadata["spec"] for item in fields(recipe)}


# The keys of every recipe section in params.yaml, with their specs.
RECIPE_SPECS = recipe_specs()
