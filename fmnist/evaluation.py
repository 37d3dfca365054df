"""Scoring test-set predictions: accuracy, macro F1, per-class precision/recall/F1 and the confusion matrix.

Everything is keyed by the class names of fmnist.classes, in label order.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
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
            for name, p, r, f, s in zip(CLASS_NAMES, precision, recall, f1, support, strict=True)
        },
        "class_order": list(CLASS_NAMES),
        "confusion_matrix": confusion_matrix(actual, predicted, labels=LABELS).tolist(),
    }


def write_predictions(path: Path, actual: np.ndarray, predicted: np.ndarray) -> None:
    """One CSV row per test image, in test-set order: index, actual and predicted class names.

    The plot data of DVC's `confusion` template (x: actual, y: predicted).
    """
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["index", "actual", "predicted"])
        writer.writerows(
            (i, CLASS_NAMES[a], CLASS_NAMES[p]) for i, (a, p) in enumerate(zip(actual, predicted, strict=True))
        )
