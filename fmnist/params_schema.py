"""The whole of params.yaml's schema (SCHEMA): every section, in the file's order, from each family's sections
(fmnist.params_data, fmnist.params_classify, fmnist.params_cnn), the feature sets' and embeddings' from their
catalog records (fmnist.catalog), and the pictures' own, small enough to read here."""

from __future__ import annotations

from fmnist.catalog import EMBEDDINGS, FEATURE_KINDS, FEATURE_SETS
from fmnist.params_classify import CLASSIFY_SECTION
from fmnist.params_cnn import (
    CNN_SECTION,
    ENSEMBLE_SECTION,
    FINETUNE_SECTION,
    MODEL_SECTION,
    SWEEPS_SECTION,
    TRAIN_CNN_SECTION,
)
from fmnist.params_data import DATA_SECTION, DOWNLOAD_SECTION
from fmnist.schema import Choice, Int, MatrixList, Section

# Every feature set's settings: its kind's catalog fragment.
FEATURES_SECTION = Section({name: FEATURE_KINDS[feature.kind].schema for name, feature in FEATURE_SETS.items()})
VISUALIZE_SECTION = Section(
    {
        "features": MatrixList(Choice(*FEATURE_SETS)),
        "methods": MatrixList(Choice(*EMBEDDINGS)),
        "seed": Int(0, 2**32 - 1),
        **{name: method.schema for name, method in EMBEDDINGS.items()},
    }
)
PICTURES_SECTION = Section(
    {
        "seed": Int(0, 2**32 - 1),
        "samples_per_class": Int(1, 50),
        "gallery_images": Int(1, 200),
        "gallery_columns": Int(1, 20),
    }
)

SCHEMA = Section(
    {
        "download": DOWNLOAD_SECTION,
        "data": DATA_SECTION,
        "visualize": VISUALIZE_SECTION,
        "pictures": PICTURES_SECTION,
        "features": FEATURES_SECTION,
        "classify": CLASSIFY_SECTION,
        "train_cnn": TRAIN_CNN_SECTION,
        "sweeps": SWEEPS_SECTION,
        "model": MODEL_SECTION,
        "finetune": FINETUNE_SECTION,
        "ensemble": ENSEMBLE_SECTION,
        "cnn": CNN_SECTION,
    }
)
