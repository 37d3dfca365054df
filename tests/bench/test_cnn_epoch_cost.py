"""bench/cnn_epoch_cost.py --smoke on the tiny dataset: one epoch of two archs, one with its channels overridden."""

import re

from bench import cnn_epoch_cost

ROW = re.compile(r"^(\w+) .* batch (\d+) .*: +(\d+) images/s, +([\d.]+) s per 54k-image epoch, ([\d,]+) parameters$")


def test_the_smoke_run_prints_each_archs_rate_and_epoch_cost(tiny_workdir, capsys):
    cnn_epoch_cost.main(["--smoke", "--archs", "mlp,resnet9", "--resnet9-channels", "4,8,8,8"])
    rows = [ROW.match(line) for line in capsys.readouterr().out.splitlines()]
    assert all(rows) and [row[1] for row in rows] == ["mlp", "resnet9"]
    for row in rows:
        rate, epoch_s = int(row[3]), float(row[4])
        assert rate > 0 and abs(epoch_s - 54000 / rate) <= 0.02 * epoch_s
    assert "[4, 8, 8, 8]" in rows[1][0] and "stage 1 stride 1" in rows[1][0]  # the command line's channels
