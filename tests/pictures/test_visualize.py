"""Embeddings, the class palette and the pictures, on tiny synthetic features."""

import json
import math

import numpy as np
import pytest

from fmnist.catalog import EMBEDDINGS
from fmnist.classes import CLASS_NAMES
from fmnist.data.dataset import Dataset
from fmnist.errors import PipelineError
from fmnist.layout import Layout
from fmnist.pictures.embedding import check_settings, draw_subset, embed, knn_accuracy_2d
from fmnist.pictures.palette import CLASS_COLORS, class_color_hex
from fmnist.pictures.plot_templates import TEMPLATES, TEMPLATES_DIR, template_text
from fmnist.pictures.visualize import write_embedding
from tests.support.dvc_project import REPO

SETTINGS = {
    "pca": {"n_points": 120},
    "tsne": {"n_points": 120, "pca_dims": 8, "perplexity": 10, "n_iter": 100, "n_jobs": 1},
    "umap": {"n_points": 120, "pca_dims": 8, "n_neighbors": 8, "min_dist": 0.1, "n_epochs": 100},
    "lle": {"n_points": 120, "pca_dims": 8, "n_neighbors": 8},
}


@pytest.fixture(scope="module")
def feature_dir(tmp_path_factory):
    """Well-separated class clusters in 20 dimensions: 150 train and 50 test rows."""
    layout = Layout(tmp_path_factory.mktemp("repo"))
    folder = layout.features("toy")
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=6, size=(len(CLASS_NAMES), 20))
    labels = {"train": np.arange(150) % 10, "test": np.arange(50) % 10}
    for split, y in labels.items():
        np.save(folder / f"{split}.npy", (centres[y] + rng.normal(size=(len(y), 20))).astype(np.float32))
    return layout, labels["train"], labels["test"]


def test_palette_is_report_000s_table_for_exactly_our_classes():
    assert set(CLASS_COLORS) == set(CLASS_NAMES)
    assert CLASS_COLORS["Ankle boot"] == "green" and CLASS_COLORS["T-shirt/top"] == "orange"
    assert len(set(class_color_hex().values())) == len(CLASS_NAMES)


def test_dvc_plot_templates_are_generated_and_the_embeddings_use_the_palette():
    for name in TEMPLATES:
        assert (REPO / TEMPLATES_DIR / f"{name}.json").read_text() == template_text(name)
    scale = json.loads(template_text("embedding"))["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"], strict=True)) == class_color_hex()


def test_subset_is_stratified_and_remembers_where_rows_came_from(feature_dir):
    layout, train_labels, test_labels = feature_dir
    subset = draw_subset(layout, "toy", train_labels, test_labels, 100, seed=3)
    assert subset.features.shape == (100, 20) and subset.features.dtype == np.float32
    assert np.bincount(subset.labels).tolist() == [10] * 10
    train, test = np.load(layout.feature_array("toy", "train")), np.load(layout.feature_array("toy", "test"))
    for row, split, index, label in zip(subset.features, subset.split, subset.index, subset.labels, strict=True):
        source_labels = train_labels if split == "train" else test_labels
        assert np.array_equal(row, (train if split == "train" else test)[index]) and source_labels[index] == label
    assert set(subset.split) == {"train", "test"}
    again = draw_subset(layout, "toy", train_labels, test_labels, 100, seed=3)
    assert np.array_equal(again.index, subset.index) and np.array_equal(again.split, subset.split)


def test_subset_larger_than_the_pool_takes_everything(feature_dir):
    layout, train_labels, test_labels = feature_dir
    assert len(draw_subset(layout, "toy", train_labels, test_labels, 70_000, seed=0).labels) == 200


def test_subset_rejects_features_that_do_not_match_the_labels(feature_dir):
    layout, train_labels, test_labels = feature_dir
    with pytest.raises(PipelineError, match="re-run its extract_features stage"):
        draw_subset(layout, "toy", train_labels[:-1], test_labels, 50, seed=0)
    with pytest.raises(PipelineError, match="not found"):
        draw_subset(layout, "absent", train_labels, test_labels, 50, seed=0)


@pytest.mark.parametrize("method", list(EMBEDDINGS))
def test_every_method_embeds_deterministically_and_keeps_clusters_apart(feature_dir, method):
    layout, train_labels, test_labels = feature_dir
    subset = draw_subset(layout, "toy", train_labels, test_labels, 120, seed=0)
    coords = embed(subset.features, method, SETTINGS[method], seed=0)
    assert coords.shape == (120, 2) and np.isfinite(coords).all()
    assert np.array_equal(coords, embed(subset.features, method, SETTINGS[method], seed=0))
    assert knn_accuracy_2d(coords, subset.labels, seed=0) > 0.8  # well separated clusters stay separated


def test_neighbourhood_settings_too_large_for_the_subset_fail_before_work():
    with pytest.raises(PipelineError, match="visualize.tsne.perplexity"):
        check_settings("tsne", SETTINGS["tsne"], 30)
    with pytest.raises(PipelineError, match="visualize.lle.n_neighbors"):
        check_settings("lle", SETTINGS["lle"], 8)
    check_settings("umap", SETTINGS["umap"], 9)


def test_write_embedding_writes_png_csv_and_info(feature_dir):
    layout, train_labels, test_labels = feature_dir
    empty = np.zeros((0, 28, 28), np.uint8)
    dataset = Dataset(empty, train_labels, empty, test_labels, train_labels[:0])
    info = write_embedding(dataset, layout, "toy", "pca", {"n_points": 60}, 0)
    assert (info["feature"], info["method"], info["n_points"], info["input_dims"]) == ("toy", "pca", 60, 20)
    metrics = json.loads((layout.root / "metrics/visualize/toy-pca.json").read_text())
    details = json.loads((layout.root / "details/visualize/toy-pca.json").read_text())
    assert metrics == {"knn5_accuracy_2d": info["knn5_accuracy_2d"]} and {**details, **metrics} == info
    assert (layout.root / info["png"]).read_bytes().startswith(b"\x89PNG")
    lines = (layout.root / "plots/visualize/toy-pca.csv").read_text().splitlines()
    assert lines[0] == "split,index,class,x,y" and len(lines) == 61
    split, index, name, x, y = lines[1].split(",")
    assert split in ("train", "test") and name in CLASS_NAMES and math.isfinite(float(x)) and math.isfinite(float(y))
