"""DVC stage ensemble: the mean softmax output of up to `ensemble.max_members` of the trained nets listed in
`ensemble.candidates`, chosen on the validation split (fmnist/cnn/ensemble.py); metrics/cnn/ensemble.json and test
predictions under plots/cnn/ensemble/."""

from fmnist.cli import run_stage
from fmnist.cnn.ensemble import build_ensemble
from fmnist.layout import Layout
from fmnist.params_read import stage_params

# The candidates' own sections: how each net is built and scored.
PARAMS_READ = ("ensemble", "model", "cnn", "finetune")


def main() -> None:
    layout = Layout()
    build_ensemble(stage_params(PARAMS_READ), layout, layout.ensemble())


if __name__ == "__main__":
    run_stage(main)
