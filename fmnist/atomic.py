"""Writing outputs so that a failed or killed stage never leaves a half-written file behind."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np


def _current_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


class StagedOutputs:
    """Collects files written under temporary names; `commit` renames them all into place.

    Each temporary file lives beside its destination (same filesystem, so the rename is atomic).
    Until commit, destinations are untouched; on failure the temporaries are removed.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []

    def path(self, destination: str | os.PathLike) -> Path:
        """A temporary path to write instead of `destination`."""
        destination = Path(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent)
        os.close(fd)
        self._pending.append((Path(tmp), destination))
        return Path(tmp)

    def save_npy(self, destination: str | os.PathLike, array: np.ndarray) -> None:
        with open(self.path(destination), "wb") as f:
            np.save(f, array, allow_pickle=False)

    def save_json(self, destination: str | os.PathLike, data: object) -> None:
        self.path(destination).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")

    def commit(self) -> None:
        mode = 0o666 & ~_current_umask()  # mkstemp creates 0600; give outputs the usual permissions
        for tmp, destination in self._pending:
            os.chmod(tmp, mode)
            os.replace(tmp, destination)
        self._pending.clear()

    def discard(self) -> None:
        for tmp, _ in self._pending:
            tmp.unlink(missing_ok=True)
        self._pending.clear()


@contextlib.contextmanager
def staged_outputs() -> Iterator[StagedOutputs]:
    """Yield a StagedOutputs; commit on success, discard every temporary on any exception.

    An exception during the commit itself (SIGTERM arriving between two renames, a full disk) also
    discards the temporaries not yet renamed.
    """
    staged = StagedOutputs()
    try:
        yield staged
        staged.commit()
    except BaseException:
        staged.discard()
        raise


def remove_outputs(*paths: str | os.PathLike) -> None:
    """Delete stale outputs (files or folders) so a failed stage cannot leave an old result looking new."""
    for path in map(Path, paths):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
