"""bench/eval_batch.py --smoke: each default small net scores random images at two batch sizes."""

from bench import eval_batch


def test_the_smoke_run_prints_a_rate_per_arch_and_batch_size(tiny_workdir, capsys):
    eval_batch.main(["--smoke"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "| arch | 32 | 16 |"
    rows = [line.strip("| ").split(" | ") for line in lines[3:]]
    assert [row[0] for row in rows] == ["resnet9", "convnet_bn", "lenet5_bn", "cnn1", "mlp"]
    assert all(float(rate.replace(",", "")) > 0 for row in rows for rate in row[1:])
