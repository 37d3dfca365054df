"""DVC stage sweep@<name>: one of report 003's sweeps (hidden_units, filters, kernel_size): its net trained once
per value of `sweeps.<name>.values`; validation curves and final accuracies under plots/sweeps/<name>/,
metrics/sweeps/<name>.json."""

import argparse

from fmnist.catalog import SWEEPS
from fmnist.cli import Axis, matrix_args, run_stage
from fmnist.cnn.sweep import run_sweep
from fmnist.layout import Layout
from fmnist.params_read import stage_params

PARAMS_READ = ("model", "sweeps.{name}", "cnn.{arch}")


def parse_args(argv=None) -> argparse.Namespace:
    """`--name`, and the architecture that sweep trains (for the params it reads)."""
    args = matrix_args(__doc__, argv, name=Axis("the keys of `sweep` in dvc.yaml", SWEEPS))
    args.arch = SWEEPS[args.name].arch
    return args


def main() -> None:
    args = parse_args()
    params = stage_params(PARAMS_READ, **vars(args))
    layout = Layout()
    run_sweep(
        args.name,
        params["model"],
        params["sweeps"][args.name],
        params["cnn"][args.arch],
        layout.prepared,
        layout.sweep(args.name),
    )


if __name__ == "__main__":
    run_stage(main)
