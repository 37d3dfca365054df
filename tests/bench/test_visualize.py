"""bench/visualize.py --smoke on the tiny dataset: the first embedding in a process of its own, timed and scored."""

import re

import pytest

from bench import visualize


@pytest.mark.e2e  # an embedding in a fresh Python process: about 3 s
def test_the_smoke_run_times_the_first_embedding_and_prints_its_figures(tiny_workdir, capsys):
    visualize.main(["--smoke"])
    out = capsys.readouterr().out
    row = re.search(r"^visualize@raw-pca +(\d+) +([\d.]+) +([\d.]+) +([\d.]+)$", out, re.MULTILINE)
    assert row, out
    points, embed_s, stage_s, knn = int(row[1]), float(row[2]), float(row[3]), float(row[4])
    assert points == 200 and embed_s <= stage_s and 0 <= knn <= 1  # the tiny params' 200 PCA points
    assert "visualize@raw-tsne" not in out  # the first method only
    assert not (tiny_workdir / "plots").exists()  # its outputs went to a scratch folder
