"""Stand-in logits for scoring tests: the first `right` rows peak at their label, the others at the next class."""

import numpy as np
import torch


def right_for_the_first(labels: np.ndarray, right: int) -> torch.Tensor:
    wrong = (torch.arange(len(labels)) >= right).long()
    out = torch.zeros(len(labels), 10)
    out[torch.arange(len(labels)), (torch.from_numpy(np.asarray(labels)).long() + wrong) % 10] = 1
    return out
