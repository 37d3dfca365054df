"""Writing outputs so that a failed or killed stage never leaves a half-written file behind.

A stage killed outright (SIGKILL, the OOM killer) cannot clean up: its temporaries (`.<name>.<random>.tmp`
beside each destination) stay. They are ignored by git and DVC (.gitignore, .dvcignore), and the next
run that stages the same destination removes them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from fmnist.errors import PipelineError, write_error
from fmnist.params_read import check_params_unchanged

TEMPORARY_SUFFIX = ".tmp"


def _current_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _temporary_prefix(destination: Path) -> str:
    return f".{destination.name}."


def _is_temporary_of(path: Path, destination: Path) -> bool:
    """Whether `path` is named as `StagedOutputs.path` names a temporary of `destination` (mkstemp's random
    part has no dot, so `.a.npy.x.<random>.tmp`, a temporary of `a.npy.x`, is not one of `a.npy`'s)."""
    prefix = _temporary_prefix(destination)
    name = path.name
    if not (name.startswith(prefix) and name.endswith(TEMPORARY_SUFFIX)):
        return False
    random_part = name[len(prefix) : -len(TEMPORARY_SUFFIX)]
    return bool(random_part) and "." not in random_part


def _lock_or_none(path: Path) -> int | None:
    """An open descriptor of `path` holding its exclusive lock, or None if another process holds the lock
    (or the file is gone). The kernel drops a writer's lock when it exits, however it is killed."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def remove_stale_temporaries(destination: Path) -> None:
    """Delete temporaries of `destination` left by a killed run: those no live process holds open for writing.

    Every writer holds an exclusive lock on its temporary from creation to commit or discard, so a temporary
    whose lock can be taken belongs to a process that is gone.
    """
    if not destination.parent.is_dir():
        return
    for path in destination.parent.iterdir():
        if not _is_temporary_of(path, destination):
            continue
        fd = _lock_or_none(path)
        if fd is not None:
            try:
                path.unlink(missing_ok=True)
            finally:
                os.close(fd)


class StagedOutputs:
    """Collects files written under temporary names; `commit` renames them all into place.

    Each temporary file lives beside its destination (same filesystem, so the rename is atomic).
    Until commit, destinations are untouched; on failure the temporaries are removed.
    While pending, each temporary stays open with an exclusive lock, telling `remove_stale_temporaries`
    in other processes that it is being written.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path, int]] = []

    @property
    def last_destination(self) -> Path | None:
        """The destination staged last (the one being written when a write fails), if any."""
        return self._pending[-1][1] if self._pending else None

    def destination_of(self, path: Path) -> Path | None:
        """The destination whose temporary `path` is, if it is one of ours."""
        return next((destination for tmp, destination, _ in self._pending if tmp == path), None)

    def path(self, destination: str | os.PathLike) -> Path:
        """A temporary path to write instead of `destination`."""
        destination = Path(destination)
        try:
            destination.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_temporaries(destination)
            fd, tmp = tempfile.mkstemp(
                prefix=_temporary_prefix(destination), suffix=TEMPORARY_SUFFIX, dir=destination.parent
            )
        except OSError as exc:
            error = write_error(exc, destination)
            if error is None:
                raise
            raise error from None
        fcntl.flock(fd, fcntl.LOCK_EX)  # a fresh file nobody else has open: granted at once
        self._pending.append((Path(tmp), destination, fd))
        return Path(tmp)

    def save_npy(self, destination: str | os.PathLike, array: np.ndarray) -> None:
        with open(self.path(destination), "wb") as f:
            np.save(f, array, allow_pickle=False)

    def save_json(self, destination: str | os.PathLike, data: object) -> None:
        self.path(destination).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")

    def commit(self) -> None:
        check_params_unchanged()
        mode = 0o666 & ~_current_umask()  # mkstemp creates 0600; give outputs the usual permissions
        while self._pending:
            tmp, destination, fd = self._pending[0]
            os.chmod(tmp, mode)
            os.replace(tmp, destination)
            self._pending.pop(0)
            os.close(fd)

    def discard(self) -> None:
        for tmp, _, fd in self._pending:
            try:
                tmp.unlink(missing_ok=True)
            finally:
                os.close(fd)
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
    except OSError as exc:
        # A write to an open temporary names no file (the last one staged is being written); an error
        # naming one of ours is about its destination; any other file is not an output: left as it is.
        failed = staged.destination_of(Path(exc.filename)) if exc.filename else staged.last_destination
        staged.discard()
        error = write_error(exc, failed) if failed is not None else None
        if error is None:
            raise
        raise error from None
    except BaseException:
        staged.discard()
        raise


def load_npy(path: str | os.PathLike, remedy: str, mmap_mode: str | None = None) -> np.ndarray:
    """An .npy array a stage wrote, never unpickled; a damaged file (truncated, cut short by a killed copy, not
    an array at all) is one PipelineError naming it, followed by `remedy` (how to restore or re-create it).
    A missing file raises FileNotFoundError, for the caller to say which stage makes it."""
    try:
        return np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    except (ValueError, EOFError):
        raise PipelineError(
            f"{path}: not a complete numeric .npy array (damaged, truncated, or not written by this pipeline); {remedy}"
        ) from None


def remove_outputs(*paths: str | os.PathLike) -> None:
    """Delete stale outputs (files or folders) so a failed stage cannot leave an old result looking new."""
    for path in map(Path, paths):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
