"""DVC stage: validate the whole params.yaml, so that no params change can pass unchecked.

Every other stage validates the whole file too, but only runs when a key it declares changes. A key
that no stage declares (say `dvc exp run -S +modle.lr=0.03`, a mistyped section) would otherwise make
an experiment in which nothing runs and nothing complains. This stage depends on the whole file
(`params: - params.yaml:` in dvc.yaml), has no outputs and nothing depends on it, so it re-runs (in
well under a second) on any params change and stops the run with the validation message.
"""

import logging

from fmnist.cli import run_stage
from fmnist.params import load_params

PARAMS_READ = ()  # reads every key, declared in dvc.yaml as the whole file


def main() -> None:
    sections = load_params()
    logging.getLogger("check_params").info("params.yaml is valid (%d sections)", len(sections))


if __name__ == "__main__":
    run_stage(main)
