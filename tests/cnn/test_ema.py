"""The moving average of the weights (model.ema): its update rule, and that fit validates and saves it, not the
raw weights it averages."""

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from torch import nn

from fmnist.cnn import loop
from fmnist.cnn.ema import WeightAverage
from fmnist.cnn.loop import TrainingData, fit, seed_everything
from fmnist.cnn.nets import build_net
from fmnist.cnn.recipes import input_pipeline
from fmnist.recipe import Recipe
from tests.support.loggers import Quiet
from tests.support.tiny_params import tiny_cnn

REPO = Path(__file__).resolve().parents[2]


def test_each_update_moves_the_average_by_one_minus_the_warmed_up_decay():
    net = nn.Linear(3, 2)
    average = WeightAverage(net, decay=0.9)
    start = net.weight.detach().clone()
    with torch.no_grad():
        net.weight.add_(1.0)
    average.update()  # first update: decay min(0.9, 2 / 11), so the average moves 9/11 of the way
    assert torch.allclose(average.model.weight, start + 9 / 11)
    for _ in range(100):
        average.update()
    assert average.current_decay() == 0.9
    assert torch.allclose(average.model.weight, net.weight, atol=1e-4)  # converges to constant weights
    assert not average.model.weight.requires_grad and not average.model.training


def test_batch_norm_statistics_are_averaged_and_step_counts_copied():
    net = nn.BatchNorm1d(4)
    average = WeightAverage(net, decay=0.5)
    net.train()
    net(torch.randn(16, 4) * 3 + 5)  # moves running_mean and counts one batch
    average.update()
    assert torch.allclose(average.model.running_mean, net.running_mean * (1 - 2 / 11))
    assert int(average.model.num_batches_tracked) == 1


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.5])
def test_a_decay_outside_zero_one_is_refused(decay):
    with pytest.raises(ValueError, match="decay"):
        WeightAverage(nn.Linear(2, 2), decay)


def test_fit_validates_and_saves_the_average_which_differs_from_the_raw_weights(monkeypatch):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    tiny_cnn(params)
    recipe = Recipe.from_params({**params["model"], "ema": 0.9, "epochs": 2, "patience": 5, "schedule": "constant"})
    averages, validated = [], []

    class Recorded(WeightAverage):
        def __init__(self, source, decay):
            super().__init__(source, decay)
            averages.append(self)

        def update(self):
            super().update()
            self.raw = {k: v.detach().clone() for k, v in self.source.state_dict().items()}

    def recording_evaluate(model, data, recipe, device):
        validated.append(model)
        return 1.0, 0.5 + 0.1 * len(validated)  # each epoch better: the last one's state is kept

    monkeypatch.setattr(loop, "WeightAverage", Recorded)
    monkeypatch.setattr(loop, "evaluate", recording_evaluate)
    images = torch.randint(0, 256, (60, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    pipeline = input_pipeline("mlp", {}, recipe)
    data = TrainingData(images, torch.arange(60) % 10, np.arange(40), np.arange(40, 60), pipeline)
    seed_everything(0)
    net = build_net("mlp", params["cnn"]["mlp"])
    result = fit(net, data, recipe, torch.device("cpu"), Quiet(), "mlp")
    (average,) = averages
    assert validated == [average.model, average.model]
    saved, raw = result.best_state, average.raw
    assert all(torch.equal(saved[k], v) for k, v in average.model.state_dict().items())
    assert any(not torch.equal(saved[k], raw[k]) for k in raw)  # the average is not the last raw weights
    assert all(torch.equal(v, saved[k]) for k, v in net.state_dict().items())  # and fit leaves it in the net
