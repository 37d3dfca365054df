"""Matplotlib pictures written as PNG: embeddings, image grids, confusion heatmaps, per-class F1, learning curves,
sweeps.

Every picture colours a class with fmnist.pictures.palette.CLASS_COLORS and names classes with fmnist.classes.
PNGs carry no timestamp, so the same data gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from fmnist.classes import CLASS_NAMES
from fmnist.pictures.palette import CLASS_COLORS

DPI = 110


def save(fig: plt.Figure, path: Path) -> None:
    """Write `fig` as PNG without run-dependent metadata, then close it."""
    fig.savefig(path, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)


def class_legend(ax: plt.Axes, **kwargs) -> None:
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=7,
            markerfacecolor=CLASS_COLORS[name],
            markeredgecolor="#444444",
            markeredgewidth=0.4,
            label=name,
        )
        for name in CLASS_NAMES
    ]
    ax.legend(handles=handles, title="class", frameon=False, **kwargs)


def embedding_scatter(coords: np.ndarray, labels: np.ndarray, title: str, axis_name: str, path: Path) -> None:
    """2-D scatter, one fixed colour per class, a legend with the class names."""
    fig, ax = plt.subplots(figsize=(7.5, 6))
    size = float(np.clip(6000 / max(len(labels), 1), 1.5, 25))
    order = np.random.default_rng(0).permutation(len(labels))  # no class systematically drawn on top
    colors = np.array([CLASS_COLORS[CLASS_NAMES[c]] for c in labels], dtype=object)
    ax.scatter(coords[order, 0], coords[order, 1], c=list(colors[order]), s=size, alpha=0.75, linewidths=0)
    ax.set_title(title)
    ax.set_xlabel(f"{axis_name} 1")
    ax.set_ylabel(f"{axis_name} 2")
    class_legend(ax, loc="center left", bbox_to_anchor=(1.01, 0.5))
    save(fig, path)


def image_grid(images: np.ndarray, captions: list[str], title: str, columns: int, path: Path) -> None:
    """Images in a grid, each with a caption underneath (grayscale, 0 = black)."""
    rows = max(1, -(-len(images) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.25, rows * 1.45 + 0.4), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=255)
            ax.set_title(captions[i], fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    save(fig, path)


def class_samples_grid(images: np.ndarray, labels: np.ndarray, per_class: int, seed: int, path: Path) -> None:
    """`per_class` seeded random images of every class, one class per row (the course reports' figure 1)."""
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(
        len(CLASS_NAMES), per_class, figsize=(per_class * 0.9 + 1.6, len(CLASS_NAMES) * 0.95), squeeze=False
    )
    for c, name in enumerate(CLASS_NAMES):
        members = np.flatnonzero(labels == c)
        picked = rng.choice(members, size=min(per_class, len(members)), replace=False) if len(members) else []
        for j, ax in enumerate(axes[c]):
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if j < len(picked):
                ax.imshow(images[picked[j]], cmap="gray_r", vmin=0, vmax=255)
        axes[c, 0].set_ylabel(
            name,
            rotation=0,
            ha="right",
            va="center",
            fontsize=9,
            color="black",
            bbox={"boxstyle": "round", "facecolor": CLASS_COLORS[name], "alpha": 0.35, "linewidth": 0},
        )
    fig.suptitle(f"{per_class} random training images of each class")
    fig.tight_layout()
    save(fig, path)


def confusion_heatmap(matrix: np.ndarray, title: str, path: Path) -> None:
    """Confusion matrix (rows: true class, columns: predicted), counts annotated, colour by row share."""
    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(7.2, 6.2))
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(CLASS_NAMES)), CLASS_NAMES, rotation=45, ha="right")
    ax.set_yticks(range(len(CLASS_NAMES)), CLASS_NAMES)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    for (i, j), count in np.ndenumerate(matrix):
        if count:
            ax.text(
                j, i, str(count), ha="center", va="center", fontsize=7, color="white" if share[i, j] > 0.5 else "black"
            )
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    ax.set_title(title)
    save(fig, path)


def per_class_f1_bars(f1_by_model: dict[str, list[float]], title: str, path: Path) -> None:
    """Grouped horizontal bars: per-class F1 of each model, classes in label order."""
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(CLASS_NAMES) * max(1, len(f1_by_model)) ** 0.5 + 1.2))
    height = 0.8 / max(1, len(f1_by_model))
    positions = np.arange(len(CLASS_NAMES))
    for k, (model, scores) in enumerate(f1_by_model.items()):
        bars = ax.barh(positions + k * height, scores, height=height, label=model)
        ax.bar_label(bars, fmt="%.3f", fontsize=7, padding=2)
    ax.set_yticks(positions + height * (len(f1_by_model) - 1) / 2, CLASS_NAMES)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.08)
    ax.set_xlabel("F1 on the test set")
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=len(f1_by_model), fontsize=8, frameon=False)
    save(fig, path)


def learning_curves(curves: dict[str, tuple[np.ndarray, np.ndarray]], title: str, path: Path) -> None:
    """Per-batch loss (against the batch number), per-epoch losses, and the other per-epoch series (accuracies)."""
    panels = (
        ("training loss per batch", "batch", lambda k: "batch" in k),
        ("loss per epoch", "epoch", lambda k: "batch" not in k and "loss" in k),
        ("accuracy (and other series) per epoch", "epoch", lambda k: "batch" not in k and "loss" not in k),
    )
    groups = [(name, x, {k: v for k, v in curves.items() if wanted(k)}) for name, x, wanted in panels]
    groups = [g for g in groups if g[2]]
    fig, axes = plt.subplots(1, len(groups), figsize=(4.6 * len(groups), 3.6), squeeze=False)
    for ax, (name, x_label, series) in zip(axes[0], groups, strict=True):
        for label, (steps, values) in sorted(series.items()):
            ax.plot(steps, values, marker="o" if len(steps) <= 40 else None, markersize=3, linewidth=1.2, label=label)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(x_label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    save(fig, path)


def sweep_panels(
    curves: dict[int, tuple[np.ndarray, np.ndarray]],
    final: tuple[list[int], list[float], list[float]],
    setting: str,
    log_x: bool,
    title: str,
    path: Path,
) -> None:
    """A sweep in two panels: each value's validation accuracy against the training step (one colour per value,
    report 003's figures 6, 9 and 10), and the final validation and test accuracy against the value (its figure 8)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    colors = plt.get_cmap("viridis")(np.linspace(0, 0.95, max(len(curves), 1)))
    for color, (value, (steps, accuracy)) in zip(colors, sorted(curves.items()), strict=True):
        left.plot(steps, accuracy, color=color, linewidth=1.2, label=f"{value}")
    left.set_xlabel("training step")
    left.set_ylabel("validation accuracy")
    left.legend(title=setting, fontsize=7, ncol=2)
    values, val_acc, test_acc = final
    right.plot(values, val_acc, marker="o", label="validation")
    right.plot(values, test_acc, marker="s", label="test")
    if log_x:
        right.set_xscale("log")
    right.set_xlabel(setting)
    right.set_ylabel("accuracy of the trained net")
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    save(fig, path)
