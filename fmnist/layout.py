"""Every path a stage writes or reads, in one place.

Stage scripts and library readers (the summary, the gallery, the report) take their paths from a `Layout`,
whose root is the repository (tests root it in a temporary folder). dvc.yaml declares the same paths;
tests/test_layout.py fails when the two disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fmnist.catalog import ENSEMBLE


@dataclass(frozen=True)
class RecordPaths:
    """A run's record in two files: the headline metrics (in git) and the details (a cached output)."""

    metrics: Path
    details: Path


@dataclass(frozen=True)
class CnnOutputs:
    """What train_cnn@<arch> writes."""

    checkpoint: Path
    record: RecordPaths
    predictions: Path
    curves: Path  # a dvclive directory


@dataclass(frozen=True)
class EnsembleOutputs:
    """What the ensemble stage writes: a CNN run's record and test predictions (no checkpoint of its own)."""

    record: RecordPaths
    predictions: Path


@dataclass(frozen=True)
class SweepOutputs:
    """What sweep@<name> writes."""

    curves: Path  # CSV: step, value, val_acc, val_loss
    final: Path  # CSV: value, val_acc, test_acc
    record: RecordPaths


@dataclass(frozen=True)
class EmbeddingOutputs:
    """What visualize@<feature>-<method> writes."""

    png: Path
    csv: Path
    record: RecordPaths


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

    # ---- records (headline metrics + details), plots, models; one folder per family under each
    @property
    def metrics_dir(self) -> Path:
        return self.root / "metrics"

    @property
    def details_dir(self) -> Path:
        return self.root / "details"

    @property
    def plots_dir(self) -> Path:
        return self.root / "plots"

    def records_dir(self, kind: str) -> Path:
        """metrics/<kind>: one headline-metrics JSON per run of kind classify, cnn, visualize or sweeps."""
        return self.metrics_dir / kind

    def record(self, kind: str, run: str) -> RecordPaths:
        return RecordPaths(self.records_dir(kind) / f"{run}.json", self.details_dir / kind / f"{run}.json")

    def classify_predictions(self, run: str) -> Path:
        return self.plots_dir / "classify" / f"{run}.csv"

    def cnn(self, arch: str) -> CnnOutputs:
        plots = self.plots_dir / "cnn" / arch
        return CnnOutputs(
            checkpoint=self.models_dir / f"{arch}.pt",
            record=self.record("cnn", arch),
            predictions=plots / "predictions.csv",
            curves=plots / "live",
        )

    @property
    def models_dir(self) -> Path:
        """models/cnn: every train_cnn and finetune checkpoint (the ensemble's candidates)."""
        return self.root / "models" / "cnn"

    def ensemble(self) -> EnsembleOutputs:
        return EnsembleOutputs(record=self.record("cnn", ENSEMBLE), predictions=self.cnn(ENSEMBLE).predictions)

    def sweep(self, name: str) -> SweepOutputs:
        plots = self.plots_dir / "sweeps" / name
        return SweepOutputs(curves=plots / "curves.csv", final=plots / "final.csv", record=self.record("sweeps", name))

    def run_predictions(self, kind: str, run: str) -> Path:
        return self.classify_predictions(run) if kind == "classify" else self.cnn(run).predictions

    # ---- pictures
    @property
    def figures_dir(self) -> Path:
        return self.root / "figures"

    def embedding(self, feature: str, method: str) -> EmbeddingOutputs:
        name = f"{feature}-{method}"
        return EmbeddingOutputs(
            png=self.figures_dir / "visualize" / f"{name}.png",
            csv=self.plots_dir / "visualize" / f"{name}.csv",
            record=self.record("visualize", name),
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
