"""The one exception type a stage turns into a single clear message."""


class PipelineError(Exception):
    """A problem the user can fix: the message names the file or param, what is wrong, and the fix."""
