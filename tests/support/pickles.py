"""A pickle that runs code when loaded: what `torch.load(..., weights_only=True)` must refuse."""

import torch

RAN = "ran code"


class RunsCode:
    """Unpickling it calls print(RAN)."""

    def __reduce__(self):
        return print, (RAN,)


def save_code_running_checkpoint(path) -> None:
    torch.save({"weight": RunsCode()}, path)


def allow_unsafe_loads_by_default(monkeypatch) -> None:
    """torch's environment switch that makes weights_only=False its default: only an explicit True still refuses."""
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
