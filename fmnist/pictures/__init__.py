"""The pictures family: 2-D embeddings, class samples, misclassified galleries, and the PNG drawing they share.

The report draws its confusion heatmaps, per-class F1 bars, learning curves and sweeps through this package's API.
"""

from fmnist.pictures.figures import confusion_heatmap, learning_curves, per_class_f1_bars, sweep_panels

__all__ = ["confusion_heatmap", "learning_curves", "per_class_f1_bars", "sweep_panels"]
