"""DVC stage classify_summary: the feature x model test-accuracy table of every classify stage.

metrics/classify_summary/<feature>.json holds one row ({model: accuracy}), so
`dvc metrics show metrics/classify_summary` prints the whole table, one feature set per line.
"""

import logging
from pathlib import Path

from fmnist.atomic import remove_outputs, staged_outputs
from fmnist.cli import run_stage
from fmnist.summary import accuracy_table, markdown_table

PARAMS_READ = ()
METRICS_DIR = Path("metrics/classify")
SUMMARY_DIR = Path("metrics/classify_summary")


def main() -> None:
    table = accuracy_table(METRICS_DIR)
    remove_outputs(SUMMARY_DIR)
    with staged_outputs() as staged:
        for feature, row in table.items():
            staged.save_json(SUMMARY_DIR / f"{feature}.json", row)
    logging.getLogger("classify_summary").info("test accuracy:\n%s", markdown_table(table))


if __name__ == "__main__":
    run_stage(main)
