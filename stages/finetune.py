"""DVC stage finetune@<run>: one of the course reports' fine-tunes of an ImageNet backbone (`finetune.<run>` in
params.yaml, with the shared `finetune.recipe`); checkpoint under models/cnn/, metrics/cnn/<run>.json, curves and
test predictions under plots/cnn/<run>/, as a train_cnn stage's."""

from fmnist.cli import Axis, matrix_args, run_stage
from fmnist.cnn.finetune import train_finetune
from fmnist.layout import Layout
from fmnist.params_read import stage_params

PARAMS_READ = ("finetune.recipe", "finetune.{run}")


def parse_args(argv=None):
    return matrix_args(__doc__, argv, run=Axis("params.yaml `finetune.runs`"))


def main() -> None:
    args = parse_args()
    params = stage_params(PARAMS_READ, **vars(args))["finetune"]
    layout = Layout()
    train_finetune(args.run, params["recipe"], params[args.run], layout.prepared, layout.cnn(args.run))


if __name__ == "__main__":
    run_stage(main)
