"""The one exception type a stage turns into a single clear message, and the OSErrors a user can fix (a full disk,
an unwritable checkout) said as one."""

from __future__ import annotations

import errno
import os


class PipelineError(Exception):
    """A problem the user can fix: the message names the file or param, what is wrong, and the fix."""


# errno -> what went wrong and the fix, for the OSErrors a user can fix.
WRITE_PROBLEMS = {
    errno.ENOSPC: ("no space left on the device", "free some disk space"),
    errno.EDQUOT: ("disk quota exceeded", "free some disk space (or raise the quota)"),
    errno.EROFS: ("the file system is read-only", "make the checkout writable (or work in a writable clone)"),
    errno.EACCES: ("permission denied", "make the checkout writable (`chmod -R u+w` on it, or fix its owner)"),
    errno.EPERM: ("operation not permitted", "make the checkout writable (`chmod -R u+w` on it, or fix its owner)"),
}


def write_error(exc: OSError, path: str | os.PathLike | None, writing: bool = True) -> PipelineError | None:
    """One message for an OSError a user can fix (a full disk, a read-only or unwritable checkout), naming
    `path` (by default the exception's own file); None for any other OSError."""
    if exc.errno not in WRITE_PROBLEMS:
        return None
    what, fix = WRITE_PROBLEMS[exc.errno]
    where = path if path is not None else exc.filename
    subject = f"{where}: " if where is not None else ""
    action = "cannot write it: " if writing and where is not None else ""
    return PipelineError(f"{subject}{action}{what}; {fix}, then re-run `dvc repro`.")
