"""The params.yaml schema of the CNN family: the shared recipe (`model`, declared by fmnist.recipe.Recipe), every
arch's settings (`cnn`), the fine-tune runs (`finetune`), report 003's sweeps (`sweeps`) and the ensemble's nets
(`ensemble`, checked against the nets the pipeline trains)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fmnist.catalog import CNN_ARCHS, ENSEMBLE, FINE_TUNE_BACKBONES, SWEEPS
from fmnist.errors import PipelineError
from fmnist.params_parts import RECIPE_BUT_EPOCHS
from fmnist.recipe import RECIPE_SPECS
from fmnist.schema import WEIGHTS, Bool, Choice, Float, Int, ListOf, MatrixList, Overrides, Section, Spec, Str

# The archs stage train_cnn trains (its matrix).
TRAIN_CNN_SECTION = Section({"archs": MatrixList(Choice(*CNN_ARCHS))})

# The shared training recipe (`model:`) of every train_cnn stage: a key for every field of Recipe.
MODEL_SECTION = Section(RECIPE_SPECS)
# Every arch's settings, each its catalog record's fragment.
CNN_SECTION = Section({name: arch.schema for name, arch in CNN_ARCHS.items()})

# A fine-tune stage's recipe (`finetune.recipe`): the `model` keys but `epochs`, which each run sets. Complete in
# itself, so that an experiment on the small nets' `model` re-runs no fine-tune.
FINE_TUNE_RECIPE = Section(RECIPE_BUT_EPOCHS)
# One fine-tune run (`finetune.<run>`, stage finetune@<run>): a backbone, how much of it trains, on how much data, and
# its new head: `linear` (one layer, the course reports' new last layer) or `mlp` (report 001's new classifier).
FINE_TUNE_RUN = Section(
    {
        "arch": Choice(*FINE_TUNE_BACKBONES),
        **WEIGHTS,
        "input_size": Int(32, 512),
        "crop_scale_min": Float(0.0, 1.0, lo_open=True),
        "augment": Bool(),
        "freeze": Choice("none", "backbone"),
        "train_fraction": Float(0.0, 1.0, lo_open=True),
        "head": Choice("linear", "mlp"),
        "head_hidden": Int(1, 65536),
        "head_dropout": Float(0.0, 1.0, hi_open=True),
        "pooled_stages": Int(0, 7),
        "pool_grid": Int(1, 8),
        "standardize": Bool(),
        "epochs": Int(1, 1000),
        "recipe": Overrides(RECIPE_BUT_EPOCHS, replaces="finetune.recipe"),
    }
)
# The runs' names: a stage matrix in dvc.yaml, which may be empty (no fine-tune stage).
RUNS = MatrixList(Str(), min_len=0)


@dataclass(frozen=True)
class FineTuneSection(Spec):
    """`finetune`: the runs `dvc repro` trains (`runs`, the matrix of stage finetune), their shared `recipe`, and one
    FINE_TUNE_RUN section per run, named as every matrix value (schema.MATRIX_NAME)."""

    def validate(self, key: str, value: Any) -> None:
        runs = (
            {name: FINE_TUNE_RUN for name in value if name not in ("runs", "recipe")} if isinstance(value, dict) else {}
        )
        # `runs` first: its names, checked before the sections named after them.
        Section({"runs": RUNS, "recipe": FINE_TUNE_RECIPE, **runs}).validate(key, value)
        for name in value["runs"]:
            if name not in value:
                raise PipelineError(
                    f"params.yaml: `{key}.runs` lists {name!r}, but `{key}` has no section {name!r}; add "
                    f"`{key}.{name}` (copy a run's section) or remove the name from `{key}.runs`."
                )
            if name in CNN_ARCHS or name == ENSEMBLE:
                raise PipelineError(
                    f"params.yaml: `{key}.runs` lists {name!r}, the name of a train_cnn arch or of the ensemble, "
                    f"whose outputs (models/cnn/{name}.pt, metrics/cnn/{name}.json) a fine-tune would overwrite. "
                    "Rename the run (and its section)."
                )


def sweep_of(value: Spec) -> Section:
    """One of report 003's sweeps (fmnist.cnn.sweep): the values its net trains with, for `epochs` epochs each,
    scored on the validation split every `eval_every` training steps."""
    return Section(
        {"values": ListOf(value, min_len=1, unique=True), "epochs": Int(1, 1000), "eval_every": Int(1, 1_000_000)}
    )


FINETUNE_SECTION = FineTuneSection()


# Each sweep's values are checked as its arch's setting is.
SWEEPS_SECTION = Section(
    {name: sweep_of(CNN_ARCHS[sweep.arch].schema.fields[sweep.setting]) for name, sweep in SWEEPS.items()}
)
# Stage ensemble: the mean of the softmax outputs of up to `max_members` of these nets, chosen on the validation split
# (fmnist/cnn/ensemble.py).
ENSEMBLE_SECTION = Section({"candidates": ListOf(Str(), min_len=1, unique=True), "max_members": Int(1, 50)})


def check_ensemble(params: dict[str, Any]) -> None:
    """`ensemble.candidates` names nets that `dvc repro` trains: train_cnn archs or fine-tune runs."""
    trained = [*params["train_cnn"]["archs"], *params["finetune"]["runs"]]
    for name in params["ensemble"]["candidates"]:
        if name not in trained:
            raise PipelineError(
                f"params.yaml: `ensemble.candidates` lists {name!r}, which this pipeline does not train: it is in "
                f"neither `train_cnn.archs` nor `finetune.runs` ({', '.join(trained)}). Add it to one of those, or "
                "remove it from `ensemble.candidates`."
            )
