"""DVC stage: check every classify grid against scikit-learn, whenever params.yaml's `classify` section changes.

check_params checks the whole file's keys, types and ranges without importing scikit-learn (it re-runs on any params
change, so it stays light); this stage checks what only scikit-learn knows, a grid's parameter names and values
(`classify.svm.grid.Cc` is not a parameter of SVC), for the grids of models in no matrix as well. Like check_params it
has no outputs, and `make repro` runs the same check before DVC starts.
"""

import logging

from fmnist.classical.models import check_grids
from fmnist.cli import run_stage
from fmnist.params_read import stage_params

PARAMS_READ = ("classify",)


def main() -> None:
    classify = stage_params(PARAMS_READ)["classify"]
    check_grids(classify)
    logging.getLogger("check_grids").info("every classify grid is valid for scikit-learn")


if __name__ == "__main__":
    run_stage(main)
