"""fmnist/layout.py and dvc.yaml name the same paths: what each stage writes, and the data it reads."""

from pathlib import Path

import pytest
from dvc.dependency.param import ParamsDependency

from fmnist.layout import Layout
from tests.test_dvc_graph import STAGES, stage_module_and_fields

LAYOUT = Layout()


def written(stage: str, fields: dict) -> set[Path]:
    """The outputs (outs, metrics, plots) a stage instance writes, by the layout."""
    if stage == "download":
        return {LAYOUT.raw_data}
    if stage == "prepare":
        return {LAYOUT.prepared}
    if stage == "extract_features":
        name = fields["name"]
        return {LAYOUT.feature_array(name, "train"), LAYOUT.feature_array(name, "test"), LAYOUT.feature_info(name)}
    if stage == "classify":
        run = f"{fields['feature']}-{fields['model']}"
        record = LAYOUT.record("classify", run)
        return {record.metrics, record.details, LAYOUT.classify_predictions(run)}
    if stage == "ensemble":
        ensemble = LAYOUT.ensemble()
        return {ensemble.record.metrics, ensemble.record.details, ensemble.predictions}
    if stage in ("train_cnn", "finetune"):
        cnn = LAYOUT.cnn(fields.get("arch") or fields["run"])
        # dvclive writes its step series under <curves>/plots/metrics, the folder DVC plots
        return {
            cnn.checkpoint,
            cnn.record.metrics,
            cnn.record.details,
            cnn.predictions,
            cnn.curves / "plots" / "metrics",
        }
    if stage == "sweep":
        sweep = LAYOUT.sweep(fields["name"])
        return {sweep.curves, sweep.final, sweep.record.metrics, sweep.record.details}
    if stage == "visualize":
        embedding = LAYOUT.embedding(fields["feature"], fields["method"])
        return {embedding.png, embedding.csv, embedding.record.metrics, embedding.record.details}
    if stage == "samples":
        return {LAYOUT.samples_dir}
    if stage == "gallery":
        return {LAYOUT.gallery_dir}
    if stage == "report":
        return {LAYOUT.reports_dir}
    return set()  # check_params and check_grids write nothing


def read(stage: str, fields: dict) -> set[Path]:
    """The data (not code) a stage instance depends on, by the layout."""
    features = fields.get("feature")
    arrays = {LAYOUT.feature_array(features, "train"), LAYOUT.feature_array(features, "test")} if features else set()
    return {
        "download": set(),
        "check_params": set(),
        "check_grids": set(),
        "prepare": {LAYOUT.raw_data},
        "extract_features": {LAYOUT.prepared},
        "classify": {LAYOUT.prepared, *arrays},
        "train_cnn": {LAYOUT.prepared},
        "finetune": {LAYOUT.prepared},
        "ensemble": {LAYOUT.prepared, LAYOUT.models_dir},
        "sweep": {LAYOUT.prepared},
        "visualize": {LAYOUT.prepared, *arrays},
        "samples": {LAYOUT.prepared},
        "gallery": {LAYOUT.prepared, LAYOUT.metrics_dir, LAYOUT.details_dir, LAYOUT.plots_dir},
        "report": {
            LAYOUT.metrics_dir,
            LAYOUT.details_dir,
            LAYOUT.plots_dir,
            LAYOUT.figures_dir,
        },  # and features/<set>/info.json, read without a dependency (dvc.yaml says why)
    }[stage]


def script_and_fields(stage) -> tuple[str, dict]:
    """The stage script a stage instance runs (`classify` for both classify matrices), and its arguments."""
    module, fields = stage_module_and_fields(stage)
    return module.__name__.rpartition(".")[2], fields


@pytest.mark.parametrize("stage", STAGES, ids=[s.addressing for s in STAGES])
def test_stage_outputs_are_the_layouts(stage):
    assert {Path(out.def_path) for out in stage.outs} == written(*script_and_fields(stage))


@pytest.mark.parametrize("stage", STAGES, ids=[s.addressing for s in STAGES])
def test_stage_data_dependencies_are_the_layouts(stage):
    data = {
        Path(dep.def_path)
        for dep in stage.deps
        if not isinstance(dep, ParamsDependency) and not dep.def_path.endswith(".py")
    }
    assert data == read(*script_and_fields(stage))


def test_a_layout_is_rooted_where_it_is_told(tmp_path):
    layout = Layout(tmp_path)
    assert layout.cnn("mlp").checkpoint == tmp_path / "models/cnn/mlp.pt"
    assert layout.embedding("raw", "pca").record.metrics == tmp_path / "metrics/visualize/raw-pca.json"
    assert layout.record("cnn", "mlp").details == tmp_path / "details/cnn/mlp.json"
    assert layout.run_predictions("classify", "raw-lda") == tmp_path / "plots/classify/raw-lda.csv"
    assert layout.run_predictions("cnn", "mlp") == tmp_path / "plots/cnn/mlp/predictions.csv"
    assert layout.ensemble().predictions == tmp_path / "plots/cnn/ensemble/predictions.csv"
    assert layout.ensemble().record.metrics == tmp_path / "metrics/cnn/ensemble.json"
