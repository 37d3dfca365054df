"""Learning curves with dvclive: per-batch training loss and per-epoch train/validation loss and
accuracy, as TSV files that `dvc plots show` draws (the plots are declared in dvc.yaml, not by dvclive).

Curves are written to a temporary folder beside the destination and moved into place by `publish`,
so a failed or killed run never leaves curves that look finished.
"""

from __future__ import annotations

import os
from pathlib import Path

from dvclive import Live

from fmnist.atomic import remove_outputs


class LiveCurves:
    """One dvclive run in `directory`; `scope(prefix)` gives the logger of one network (fmnist.cnn.loop.Logger).

    Metric names are `<prefix>train/loss`, `<prefix>val/acc`, ...; the step is the epoch (1-based)
    for per-epoch values and the global batch number for `<prefix>train/batch_loss`.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.partial = self.directory.with_name(f".{self.directory.name}.partial")
        remove_outputs(self.partial)
        self.live = Live(dir=str(self.partial), dvcyaml=False, save_dvc_exp=False, report=None)

    def scope(self, prefix: str = "") -> ScopedCurves:
        return ScopedCurves(self.live, prefix)

    def publish(self) -> None:
        """Replace `directory` with the finished curves."""
        remove_outputs(self.directory)
        os.replace(self.partial, self.directory)

    def discard(self) -> None:
        remove_outputs(self.partial)


class ScopedCurves:
    def __init__(self, live: Live, prefix: str) -> None:
        self.live, self.prefix = live, prefix

    def batch(self, step: int, loss: float) -> None:
        self.live.step = step
        self.live.log_metric(f"{self.prefix}train/batch_loss", loss)

    def epoch(self, epoch: int, values: dict[str, float]) -> None:
        self.live.step = epoch
        for name, value in values.items():
            self.live.log_metric(f"{self.prefix}{name}", value)
