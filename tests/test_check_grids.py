"""Stage check_grids and `make repro` check every classify grid against scikit-learn before any stage runs."""

import pytest

from fmnist.classical.models import check_grids
from fmnist.errors import PipelineError
from fmnist.params import load_params
from scripts.repro_args import repro_args
from tests.support.stage_workdir import REPO, run_module, write_params


def mistype(params):
    params["classify"]["svm"]["grid"]["Cc"] = params["classify"]["svm"]["grid"].pop("C")


def test_the_shipped_grids_pass():
    check_grids(load_params(REPO / "params.yaml")["classify"])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (mistype, "`classify.svm.grid.Cc` is not a parameter of SVC"),
        # a model in no matrix is checked too: it is one `-S classify.models=[...]` away
        (lambda p: p["classify"]["hgb"]["grid"].update(max_iter=[-5]), "`classify.hgb.grid` gives an invalid setting"),
    ],
)
def test_check_grids_stops_on_a_grid_scikit_learn_refuses_with_one_line(tmp_path, edit, message):
    write_params(tmp_path, edit)
    result = run_module(tmp_path, "stages.check_grids")
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "params.yaml"]  # nothing written


def test_make_repro_refuses_it_before_dvc_starts(tmp_path, monkeypatch):
    write_params(tmp_path, mistype)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PipelineError, match="classify.svm.grid.Cc"):
        repro_args(None)
