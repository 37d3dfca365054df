import copy
from pathlib import Path

import pytest
import yaml

from fmnist.errors import PipelineError
from fmnist.params import load_params, select

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def params():
    return yaml.safe_load((REPO / "params.yaml").read_text())


def check(tmp_path, params):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return load_params(path)


def test_shipped_params_are_valid(tmp_path, params):
    assert check(tmp_path, params) == params


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda p: p["data"].update(val_fractoin=0.2),
            r"unknown key `data.val_fractoin` under `data`; known keys there: seed, val_fraction",
        ),
        (lambda p: p.update(dataa={}), r"unknown key `dataa` under the top level"),
        (
            lambda p: p["data"].update(val_fraction="0.1"),
            r"`data.val_fraction` = '0.1' is invalid: expected a number in \(0.0, 0.5\]",
        ),
        (lambda p: p["data"].update(val_fraction=0.9), r"`data.val_fraction` = 0.9 is invalid"),
        (lambda p: p["data"].update(seed=1.5), r"`data.seed` = 1.5 is invalid: expected an integer"),
        (lambda p: p["download"].update(retries=True), r"`download.retries` = True is invalid: expected an integer"),
        (
            lambda p: p["download"].update(mirrors="/one/folder"),
            r"`download.mirrors` = '/one/folder' is invalid: expected a list",
        ),
        (lambda p: p["data"].pop("seed"), r"missing key `data.seed`"),
        (
            lambda p: p["classify"].update(models=["lda", "svn"]),
            r"`classify.models\[1\]` = 'svn' is invalid: expected one of 'lda'",
        ),
        (
            lambda p: p["visualize"].update(features=["raw", "raw"]),
            r"`visualize.features` = \['raw', 'raw'\] is invalid",
        ),
        (
            lambda p: p["classify"]["svm"].update(max_train={"scatnet_rihc": 100}),
            r"`classify.svm.max_train` = \{'scatnet_rihc': 100\} is invalid: expected null, "
            r"a number of rows \(at least 2\), or a mapping from feature sets \(raw, scatnet",
        ),
    ],
    ids=[
        "unknown-leaf",
        "unknown-section",
        "wrong-type",
        "out-of-range",
        "float-for-int",
        "bool-for-int",
        "str-for-list",
        "missing",
        "unknown-model",
        "repeated-feature-set",
        "max-train-unknown-feature-set",
    ],
)
def test_invalid_params_stop_with_one_message_naming_the_key(tmp_path, params, edit, message):
    bad = copy.deepcopy(params)
    edit(bad)
    with pytest.raises(PipelineError, match=message):
        check(tmp_path, bad)


def test_unparsable_yaml_names_the_file(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("data: [unclosed")
    with pytest.raises(PipelineError, match=rf"{path}: not valid YAML"):
        load_params(path)


def test_select_returns_only_the_declared_keys(params):
    view = select(params, ["data.seed", "download"])
    assert view == {"data": {"seed": params["data"]["seed"]}, "download": params["download"]}
    with pytest.raises(KeyError):
        view["data"]["val_fraction"]
