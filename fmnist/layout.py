"""Every path a stage writes or reads, in one place.

Stage scripts and library readers (the summary, the gallery, the report) take their paths from a `Layout`,
whose root is the repository (tests root it in a temporary folder). dvc.yaml declares the same paths;
tests/test_layout.py fails when the two disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CnnOutputs:
    """What train_cnn@<arch> writes."""

    checkpoint: Path
    metrics: Path
    predictions: Path
    curves: Path  # a dvclive directory


@dataclass(frozen=True)
class EmbeddingOutputs:
    """What visualize@<feature>-<method> writes."""

    png: Path
    csv: Path
    info: Path


@dataclass(frozen=True)
class Layout:
    root: Path = Path(".")

    # ---- data
    @property
    def raw_data(self) -> Path:
        return self.root / "data" / "raw"

    @property
    def prepared(self) -> Path:
        return self.root / "data" / "prepared"

    # ---- features
    @property
    def features_dir(self) -> Path:
        return self.root / "features"

    def features(self, name: str) -> Path:
        """The folder of one feature set: train.npy, test.npy and info.json."""
        return self.features_dir / name

    def feature_array(self, name: str, split: str) -> Path:
        """features/<name>/<split>.npy, split "train" or "test"."""
        return self.features(name) / f"{split}.npy"

    def feature_info(self, name: str) -> Path:
        return self.features(name) / "info.json"

    # ---- metrics, plots, models (one folder per family under each)
    @property
    def metrics_dir(self) -> Path:
        return self.root / "metrics"

    @property
    def plots_dir(self) -> Path:
        return self.root / "plots"

    def runs_metrics_dir(self, kind: str) -> Path:
        """metrics/classify or metrics/cnn: one JSON per run."""
        return self.metrics_dir / kind

    def classify_metrics(self, run: str) -> Path:
        return self.runs_metrics_dir("classify") / f"{run}.json"

    def classify_predictions(self, run: str) -> Path:
        return self.plots_dir / "classify" / f"{run}.csv"

    @property
    def classify_summary_dir(self) -> Path:
        return self.metrics_dir / "classify_summary"

    def cnn(self, arch: str) -> CnnOutputs:
        plots = self.plots_dir / "cnn" / arch
        return CnnOutputs(
            checkpoint=self.root / "models" / "cnn" / f"{arch}.pt",
            metrics=self.runs_metrics_dir("cnn") / f"{arch}.json",
            predictions=plots / "predictions.csv",
            curves=plots / "live",
        )

    def run_predictions(self, kind: str, run: str) -> Path:
        return self.classify_predictions(run) if kind == "classify" else self.cnn(run).predictions

    # ---- pictures
    @property
    def figures_dir(self) -> Path:
        return self.root / "figures"

    @property
    def embedding_metrics_dir(self) -> Path:
        return self.metrics_dir / "visualize"

    def embedding(self, feature: str, method: str) -> EmbeddingOutputs:
        name = f"{feature}-{method}"
        return EmbeddingOutputs(
            png=self.figures_dir / "visualize" / f"{name}.png",
            csv=self.plots_dir / "visualize" / f"{name}.csv",
            info=self.embedding_metrics_dir / f"{name}.json",
        )

    @property
    def samples_dir(self) -> Path:
        return self.figures_dir / "samples"

    @property
    def samples_png(self) -> Path:
        return self.samples_dir / "classes.png"

    @property
    def gallery_dir(self) -> Path:
        return self.figures_dir / "gallery"

    @property
    def gallery_index(self) -> Path:
        return self.gallery_dir / "gallery.json"

    # ---- report
    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def dvc_yaml(self) -> Path:
        return self.root / "dvc.yaml"

    @property
    def params_file(self) -> Path:
        return self.root / "params.yaml"
