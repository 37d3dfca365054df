"""Sample grid and misclassified galleries; dvc.yaml expansion used by the report's missing list."""

import json
from pathlib import Path

import numpy as np
from matplotlib.image import imread

from fmnist.data.dataset import Dataset
from fmnist.layout import Layout
from fmnist.pictures.gallery import misclassified, write_galleries
from fmnist.pictures.samples import write_class_samples
from fmnist.report.pipeline_outputs import declared_outputs
from tests.support.report_fixtures import N_TEST, write_fixture_run


def test_misclassified_picks_only_errors_ordered_by_true_class():
    actual = np.array([0, 1, 2, 3, 4, 5, 1, 0])
    predicted = np.array([0, 2, 2, 1, 4, 6, 0, 3])
    index = np.arange(8) + 100
    shown = misclassified(index, actual, predicted, 10, seed=0)
    assert sorted(shown.tolist()) == [1, 3, 5, 6, 7]
    assert actual[shown].tolist() == sorted(actual[shown].tolist())
    assert len(misclassified(index, actual, predicted, 2, seed=0)) == 2


def test_galleries_for_the_best_classifier_and_cnn(tmp_path):
    root = write_fixture_run(tmp_path)
    images = np.random.default_rng(0).integers(0, 255, size=(N_TEST, 28, 28), dtype=np.uint8)
    manifest = write_galleries(Layout(root), images, 6, 3, seed=0)
    assert [(g["kind"], g["name"], g["shown"]) for g in manifest["galleries"]] == [
        ("classify", "raw-lda", 6),
        ("cnn", "lenet5", 5),
    ]
    assert manifest["galleries"][1]["errors"] == 5  # lenet5: 45 of 50 right
    for g in manifest["galleries"]:
        assert (root / g["png"]).read_bytes().startswith(b"\x89PNG")
    assert json.loads((root / "figures/gallery/gallery.json").read_text()) == manifest


def test_no_predictions_gives_an_empty_gallery_list(tmp_path):
    manifest = write_galleries(Layout(tmp_path), np.zeros((5, 28, 28), np.uint8), 6, 3, seed=0)
    assert manifest == {"galleries": []} and (tmp_path / "figures/gallery/gallery.json").is_file()


def solid_dark_blocks(png: Path) -> tuple[list[int], int]:
    """The tenths of the picture (0 = top) holding solid dark areas (drawn images: no glyph is that thick), and how
    many of them stand side by side."""
    picture = imread(png)
    dark = picture[..., :3].mean(axis=2) < 0.25
    counts = np.pad(dark, ((1, 0), (1, 0))).cumsum(axis=0).cumsum(axis=1)  # summed-area table
    solid = counts[20:, 20:] - counts[:-20, 20:] - counts[20:, :-20] + counts[:-20, :-20] == 400  # 20 x 20 all dark
    rows = np.nonzero(solid)[0]
    tenths = sorted(set((rows * 10 // dark.shape[0]).tolist()))
    edges = np.diff(np.concatenate([[0], solid.any(axis=0).astype(int), [0]]))
    return tenths, int((edges == 1).sum())


def test_class_samples_grid_has_one_row_per_class_in_label_order(tmp_path):
    # Only the images of Trouser (1) and Ankle boot (9) are dark (gray_r: 255 is black, 0 the white background):
    # they must fill the second and the last of the ten rows, three images side by side.
    labels = np.arange(40) % 10
    images = np.zeros((40, 28, 28), np.uint8)
    images[np.isin(labels, [1, 9])] = 255
    empty = np.zeros((0, 28, 28), np.uint8)
    dataset = Dataset(images, labels, empty, labels[:0], labels[:0])
    path = write_class_samples(dataset, 3, seed=0, layout=Layout(tmp_path))
    assert solid_dark_blocks(path) == ([1, 9], 3)


def test_declared_outputs_expand_matrix_and_foreach(tmp_path):
    (tmp_path / "params.yaml").write_text("lists:\n  f: [x, y]\n")
    (tmp_path / "dvc.yaml").write_text(
        "stages:\n"
        "  a:\n    matrix:\n      f: ${lists.f}\n      m: [p]\n    cmd: c\n"
        "    outs:\n      - out/${item.f}-${item.m}.png\n"
        "    metrics:\n      - metrics/${item.f}.json:\n          cache: false\n"
        "  b:\n    foreach: [u, v]\n    do:\n      cmd: c\n      plots:\n        - plots/${item}.csv\n"
        "  c:\n    cmd: c\n    outs:\n      - reports\n"
    )
    assert declared_outputs(tmp_path / "dvc.yaml") == {
        "a@x-p": ["out/x-p.png", "metrics/x.json"],
        "a@y-p": ["out/y-p.png", "metrics/y.json"],
        "b@u": ["plots/u.csv"],
        "b@v": ["plots/v.csv"],
        "c": ["reports"],
    }
