"""Scoring test-set predictions: accuracy, macro F1, per-class precision/recall/F1 and the confusion matrix.

Everything is keyed by the class names of fmnist.classes, in label order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from fmnist.classes import CLASS_NAMES, NUM_CLASSES

LABELS = list(range(NUM_CLASSES))


def classification_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict:
    """Test accuracy, macro F1, per-class scores by class name, and the confusion matrix.

    `confusion_matrix[i][j]` counts images of class `class_order[i]` predicted as `class_order[j]`.
    """
    precision, recall, f1, support = precision_recall_fscore_support(actual, predicted, labels=LABELS, zero_division=0)
    return {
        "test_accuracy": float(accuracy_score(actual, predicted)),
        "macro_f1": float(f1_score(actual, predicted, labels=LABELS, average="macro", zero_division=0)),
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(CLASS_NAMES, precision, recall, f1, support)
        },
        "class_order": list(CLASS_NAMES),
        "confusion_matrix": confusion_matrix(actual, predicted, labels=LABELS).tolist(),
    }


def predictions_table(actual: np.ndarray, predicted: np.ndarray) -> pd.DataFrame:
    """One row per test image, in test-set order: index, actual and predicted class names.

    The plot data of DVC's `confusion` template (x: actual, y: predicted).
    """
    names = np.array(CLASS_NAMES, dtype=object)
    return pd.DataFrame({"index": np.arange(len(actual)), "actual": names[actual], "predicted": names[predicted]})
