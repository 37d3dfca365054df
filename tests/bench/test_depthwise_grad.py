"""bench/depthwise_grad.py --smoke: a row per convolution the tap sums take, then the training rates."""

import re

from bench import depthwise_grad


def test_the_smoke_run_times_each_tapped_convolution_and_training_both_ways(tiny_workdir, capsys):
    depthwise_grad.main(["--smoke"])
    lines = capsys.readouterr().out.splitlines()
    assert "32 px, batches of 8" in lines[0]
    rows = [line.strip("| ").split(" | ") for line in lines[3:-1]]
    # At 32 px Lite0's convolutions map onto 11 x 11 (padded) down to 1 x 1 maps: 13 take the taps.
    assert len(rows) == 13
    assert all(float(ms) > 0 for row in rows for ms in row[1:])
    assert re.fullmatch(r"training images/s \(median of 1\): oneDNN [\d.]+, taps [\d.]+, [\d.]+x", lines[-1])
