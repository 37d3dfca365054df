"""A tiny finished 'run' on disk for the report and gallery tests: metrics, predictions, curves, pictures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from fmnist.atomic import staged_outputs
from fmnist.classes import CLASS_NAMES
from fmnist.classical.classify import HEADLINE as CLASSIFY_HEADLINE
from fmnist.cnn.sweep import HEADLINE as SWEEP_HEADLINE
from fmnist.cnn.train import HEADLINE as CNN_HEADLINE
from fmnist.layout import Layout
from fmnist.pictures import figures
from fmnist.pictures.visualize import HEADLINE as EMBEDDING_HEADLINE
from fmnist.records import save_record

DVC_YAML = """
stages:
  extract_features:
    matrix:
      name: [raw]
    cmd: python -m stages.extract_features --name ${item.name}
    outs:
      - features/${item.name}
  classify:
    matrix:
      feature: [raw]
      model: [lda, logreg]
    cmd: python -m stages.classify --feature ${item.feature} --model ${item.model}
    outs:
      - details/classify/${item.feature}-${item.model}.json
    metrics:
      - metrics/classify/${item.feature}-${item.model}.json:
          cache: false
    plots:
      - plots/classify/${item.feature}-${item.model}.csv
  train_cnn:
    matrix:
      arch: [lenet5, mlp]
    cmd: python -m stages.train_cnn --arch ${item.arch}
    metrics:
      - metrics/cnn/${item.arch}.json:
          cache: false
  sweep:
    foreach: [hidden_units]
    do:
      cmd: python -m stages.sweep --name ${item}
      metrics:
        - metrics/sweeps/${item}.json:
            cache: false
  visualize:
    matrix:
      feature: [raw]
      method: [pca]
    cmd: python -m stages.visualize --feature ${item.feature} --method ${item.method}
    outs:
      - figures/visualize/${item.feature}-${item.method}.png
  report:
    cmd: python -m stages.report
    outs:
      - reports
"""

N_TEST = 50


def predictions_csv(path: Path, accuracy: float, seed: int) -> None:
    """index,actual,predicted for N_TEST test images, the first round(accuracy * N_TEST) right."""
    rng = np.random.default_rng(seed)
    actual = np.arange(N_TEST) % len(CLASS_NAMES)
    predicted = actual.copy()
    wrong = np.arange(round(accuracy * N_TEST), N_TEST)
    predicted[wrong] = (actual[wrong] + rng.integers(1, len(CLASS_NAMES), len(wrong))) % len(CLASS_NAMES)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["index,actual,predicted"] + [
        f"{i},{CLASS_NAMES[a]},{CLASS_NAMES[p]}" for i, (a, p) in enumerate(zip(actual, predicted, strict=True))
    ]
    path.write_text("\n".join(lines) + "\n")


def markdown_tables(text: str) -> dict[str, list[list[str]]]:
    """Each table of report.md, keyed by its header line, as rows of cells (header first); `\\|` stays in its cell."""
    tables, current = {}, None
    for line in text.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if current is None:
                current = tables.setdefault(" | ".join(cells), [cells])
            elif not set("".join(cells)) <= set("-: "):
                current.append(cells)
        else:
            current = None
    return tables


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def write_record(root: Path, kind: str, run: str, record: dict, headline: tuple[str, ...]) -> None:
    """A run's record as its stage writes it: headline metrics and details."""
    with staged_outputs() as staged:
        save_record(staged, Layout(root).record(kind, run), record, headline)


def write_fixture_run(root: Path) -> Path:
    """raw-lda (0.84), lenet5 (0.90), mlp (0.86, with curves) and resnet18 (0.80, random weights) ran, and the
    hidden-units sweep (best 5 units, 800 crashed); raw-logreg is declared but absent."""
    (root / "dvc.yaml").write_text(DVC_YAML)
    (root / "params.yaml").write_text("data:\n  seed: 42\n")
    write_record(
        root,
        "classify",
        "raw-lda",
        {
            "feature": "raw",
            "model": "lda",
            "test_accuracy": 0.84,
            "macro_f1": 0.8312,
            "per_class": {},
            "best_params": {"lda__solver": "svd"},
            "cv_accuracy_mean": 0.8211,
            "cv_accuracy_std": 0.004,
            "fit_seconds": 3.25,
            "predict_seconds": 0.1,
            "train_size": 60000,
            "notes": "",
        },
        CLASSIFY_HEADLINE,
    )
    predictions_csv(root / "plots/classify/raw-lda.csv", 0.84, 0)
    for arch, accuracy, extra in (("lenet5", 0.90, {}), ("mlp", 0.86, {}), ("resnet18", 0.80, {"weights": "random"})):
        write_record(
            root,
            "cnn",
            arch,
            {
                "arch": arch,
                "test_accuracy": accuracy,
                "macro_f1": accuracy - 0.01,
                "best_epoch": 4,
                "epochs_run": 6,
                "params_count": 61706,
                "train_seconds": 95.5,
                "images_per_second": 3400.0,
                "val_accuracy": accuracy + 0.01,
                "device": "cpu",
                **extra,
            },
            CNN_HEADLINE,
        )
        predictions_csv(root / f"plots/cnn/{arch}/predictions.csv", accuracy, 1)
    # The extraction records the weights it used: random for the ResNet-18 set, none for scattering.
    write_json(root / "features/resnet18/info.json", {"weights": {"source": "random"}})
    write_json(root / "features/scatnet/info.json", {"weights": None})
    metrics_dir = root / "plots/cnn/mlp/live/plots/metrics"
    curves = {
        "train/loss": [1.0, 0.6, 0.5],
        "val/loss": [0.9, 0.7, 0.65],
        "val/acc": [0.7, 0.8, 0.86],
        "train/batch_loss": [2.3, 1.5, 1.1, 0.9, 0.8, 0.7],
    }
    for name, values in curves.items():  # dvclive's layout: one TSV per series
        path = metrics_dir / f"{name}.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        leaf = name.split("/")[-1]
        path.write_text("timestamp\tstep\t" + leaf + "\n" + "".join(f"0\t{i}\t{v}\n" for i, v in enumerate(values)))
    png = root / "figures/visualize/raw-pca.png"
    png.parent.mkdir(parents=True, exist_ok=True)
    labels = np.arange(40) % len(CLASS_NAMES)
    figures.embedding_scatter(np.random.default_rng(0).normal(size=(40, 2)), labels, "PCA of raw", "PC", png)
    write_record(
        root,
        "visualize",
        "raw-pca",
        {
            "feature": "raw",
            "method": "pca",
            "n_points": 40,
            "settings": {"n_points": 40},
            "knn5_accuracy_2d": 0.1,
            "seconds": 0.5,
            "png": "figures/visualize/raw-pca.png",
        },
        EMBEDDING_HEADLINE,
    )
    write_sweep(root)
    return root


def write_sweep(root: Path) -> None:
    """sweep@hidden_units over 3, 5 and 800 units: 5 is best on validation, 800 "crashed" to chance."""
    paths = Layout(root).sweep("hidden_units")
    finals = {3: (0.5, 0.49), 5: (0.7, 0.69), 800: (0.1, 0.1)}
    paths.curves.parent.mkdir(parents=True, exist_ok=True)
    paths.curves.write_text(
        "step,value,val_acc,val_loss\n"
        + "".join(
            f"{step},{v},{val * step / 20:.4f},{2 - step / 20}\n" for v, (val, _) in finals.items() for step in (10, 20)
        )
    )
    paths.final.write_text("value,val_acc,test_acc\n" + "".join(f"{v},{a},{t}\n" for v, (a, t) in finals.items()))
    record = {"best_value": 5, "val_accuracy": 0.7, "test_accuracy": 0.69, "arch": "dense2", "setting": "hidden"}
    write_record(
        root, "sweeps", "hidden_units", {**record, "epochs": 3, "eval_every": 10, "values": {}}, SWEEP_HEADLINE
    )


# The JSON outputs that name a picture, and the folder their stage draws pictures to (fmnist/layout.py).
PICTURE_SOURCES = {
    "visualize": ("details/visualize/raw-pca.json", "figures/visualize"),
    "gallery": ("figures/gallery/gallery.json", "figures/gallery"),
}


def write_gallery(root: Path, caption: str = "Misclassified test images of the best CNN, lenet5") -> None:
    """figures/gallery/gallery.json naming one gallery PNG (a copy of the embedding picture), as the gallery stage
    writes it."""
    layout = Layout(root)
    png = layout.gallery_dir / "cnn-lenet5.png"
    png.parent.mkdir(parents=True, exist_ok=True)
    png.write_bytes(layout.embedding("raw", "pca").png.read_bytes())
    gallery = {"kind": "cnn", "name": "lenet5", "png": png.relative_to(root).as_posix(), "caption": caption}
    write_json(layout.gallery_index, {"galleries": [{**gallery, "errors": 5, "shown": 2}]})


def name_picture(root: Path, source: str, value: str) -> Path:
    """Make the JSON of `source` (a key of PICTURE_SOURCES) name `value` as its picture; returns that JSON's path."""
    path = root / PICTURE_SOURCES[source][0]
    data = json.loads(path.read_text())
    entry = data["galleries"][0] if source == "gallery" else data
    entry["png"] = value
    path.write_text(json.dumps(data))
    return path


def write_samples(root: Path, content: bytes) -> Path:
    """figures/samples/classes.png as the samples stage writes it (`content`: a PNG's bytes); returns its path."""
    png = Layout(root).samples_png
    png.parent.mkdir(parents=True, exist_ok=True)
    png.write_bytes(content)
    return png
