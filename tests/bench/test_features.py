"""bench/features.py: each bench with --smoke on the tiny dataset (250 images, the backbones at 32 px)."""

import math
import re

import pytest

from bench import features

FIGURE = r"([\d,]+(?:\.\d+)?)"
# A line each bench must print, its figures captured.
EXPECTED = {
    "scatnet": rf"^our extraction, batch \d+, all 250 images: {FIGURE} s, {FIGURE} images/s = {FIGURE}x the default",
    "resnet18": rf"^  32 px: +{FIGURE} images/s on 64 images -> +{FIGURE} min for all 250$",
    "profile": rf"^ComplexBackend: {FIGURE} images/s; \w+ (\d+)%",
    "resize": rf"^scatnet, resize=bilinear: logistic regression on 100 training images, test accuracy {FIGURE}$",
    "lite0": rf"^imagenet +pooled_stages 0 +32 px: probe accuracy {FIGURE}, +{FIGURE} images/s",
}


@pytest.mark.parametrize("bench", EXPECTED)
def test_each_bench_runs_small_and_prints_finite_figures(bench, tiny_workdir, capsys):
    features.main([bench, "--smoke"])
    out = capsys.readouterr().out
    found = re.search(EXPECTED[bench], out, re.MULTILINE)
    assert found, out
    figures = [float(value.replace(",", "")) for value in found.groups()]
    assert all(math.isfinite(value) and value >= 0 for value in figures), figures
