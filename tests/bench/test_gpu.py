"""bench/gpu.py --smoke on the CPU and the tiny dataset: the feature part, the default convnet_bn and a candidate with
its own recipe, and the ensemble of the nets trained. The lite0 part is left out for the suite's time (a Lite0
fine-tune on the CPU costs about 10 s even at 32 px); its fine-tune trains on tiny data in tests/cnn/."""

import json
import math

from bench import gpu


def test_the_smoke_run_writes_a_row_per_net_and_the_ensemble(tiny_workdir, tmp_path):
    out = tmp_path / "gpu.json"
    gpu.main(["--smoke", "--parts", "features,convnet_bn,convnet_bn_ema,ensemble", "--out", str(out)])
    results = json.loads(out.read_text())
    assert results["header"]["smoke"] and results["skipped"] == []
    rows = {(row["part"], row.get("net"), row.get("amp")): row for row in results["rows"]}
    assert set(rows) == {
        ("features", "resnet18", False),
        ("features", "resnet18", True),
        ("features", "efficientnet_lite0", False),
        ("features", "efficientnet_lite0", True),
        ("convnet_bn", None, None),
        ("convnet_bn_ema", None, None),
        ("ensemble", None, None),
    }
    scores = [row[key] for row in results["rows"] for key in row if "accuracy" in key]
    assert len(scores) == 4 + 2 * 3 + 2 and all(0 <= score <= 1 for score in scores)
    assert all(math.isfinite(row["images_per_second"]) for row in results["rows"] if "images_per_second" in row)
    assert rows["ensemble", None, None]["members"] == ["convnet_bn (seed 0)", "convnet_bn_ema (seed 0)"]
    assert rows["convnet_bn_ema", None, None]["recipe"]["tta_shift"] == 1  # the candidate's own recipe
    assert rows["convnet_bn", None, None]["recipe"]["tta_shift"] == 0
