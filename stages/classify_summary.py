"""DVC stage classify_summary: the feature x model test-accuracy table of every classify stage.

metrics/classify_summary/<feature>.json holds one row ({model: accuracy}), so
`dvc metrics show metrics/classify_summary` prints the whole table, one feature set per line.
"""

import logging

from fmnist.atomic import remove_outputs, staged_outputs
from fmnist.classical.summary import accuracy_table, markdown_table
from fmnist.cli import run_stage, stage_params
from fmnist.layout import Layout

PARAMS_READ = ()


def main() -> None:
    stage_params(PARAMS_READ)
    layout = Layout()
    table = accuracy_table(layout.runs_metrics_dir("classify"))
    remove_outputs(layout.classify_summary_dir)
    with staged_outputs() as staged:
        for feature, row in table.items():
            staged.save_json(layout.classify_summary_dir / f"{feature}.json", row)
    logging.getLogger("classify_summary").info("test accuracy:\n%s", markdown_table(table))


if __name__ == "__main__":
    run_stage(main)
