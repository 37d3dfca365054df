"""A stage lives no longer than the DVC that runs it, and its worker processes no longer than the stage.

`dvc exp run` stopped by SIGTERM (a scheduler, `kill`, a closed terminal) dies without stopping the stage it runs:
left alone, the stage would train on and later write outputs that no dvc.lock records; a classify stage killed
outright would leave its joblib workers fitting for minutes. So each watches the process that started it, once a
second, from a daemon thread: a stage whose DVC is gone ends as on SIGTERM (`staged_outputs` removes its temporary
files), a worker whose stage is gone exits at once.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

POLL_S = 1.0
# A stage asked to end is left this long to clean up (a long native call delays the SIGTERM handler), then exits.
GRACE_S = 30.0
# DVC runs a stage's `cmd` through $SHELL: bash replaces itself with the command, dash waits for it, so a stage
# whose parent is a shell watches the shell's parent (DVC) too.
SHELLS = frozenset({"sh", "dash", "bash", "zsh", "fish"})


def _proc_field(pid: int, name: str) -> str | None:
    try:
        return Path(f"/proc/{pid}/{name}").read_text()
    except OSError:  # no /proc (not Linux), or the process is gone
        return None


def _parent_of(pid: int) -> int | None:
    stat = _proc_field(pid, "stat")
    return None if stat is None else int(stat.rpartition(")")[2].split()[1])


def lineage() -> tuple[int | None, ...]:
    """This process's parent, and the parent's own parent when the parent is a shell: what must stay alive."""
    parent = os.getppid()
    if (_proc_field(parent, "comm") or "").strip() in SHELLS:
        return parent, _parent_of(parent)
    return (parent,)


def watch_lineage(on_orphaned: Callable[[], None], poll_s: float = POLL_S) -> threading.Thread:
    """Call `on_orphaned` (in a daemon thread) once `lineage()` changes: an ancestor died and this process, or its
    shell, was handed to another parent."""
    start = lineage()

    def watch() -> None:
        while lineage() == start:
            time.sleep(poll_s)
        on_orphaned()

    thread = threading.Thread(target=watch, name="watch-lineage", daemon=True)
    thread.start()
    return thread


def end_stage() -> None:
    """End this stage as SIGTERM would (the handler `fmnist.cli.run_stage` installs), outright after GRACE_S."""
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE_S)
    os._exit(128 + signal.SIGTERM)


def end_worker() -> None:
    os._exit(128 + signal.SIGTERM)


def stage_dies_with_dvc() -> None:
    watch_lineage(end_stage)


def worker_dies_with_stage() -> None:
    """A joblib worker's initializer (fmnist.classical.workers): its parent is the stage."""
    watch_lineage(end_worker)
