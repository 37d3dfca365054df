"""Report 003's sweeps (its section 4): one setting of one small net (dense2's hidden units, cnn1's filter count
or filter size) trained once per value with the shared recipe, for a fixed number of epochs (a step budget, as
report 003 had: no early stopping), scoring the validation split every `eval_every` training steps (report 003:
every 50 steps), then the trained net's test accuracy.

Outputs: the validation curves of every value and the final accuracies against the value (DVC plot data), every
value's numbers in the details, and the value with the best validation accuracy as the headline.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch
from torch import nn

from fmnist.atomic import staged_outputs
from fmnist.catalog import SWEEPS
from fmnist.cnn.inference import predict_logits
from fmnist.cnn.loop import TrainingData, evaluate, fit, seed_everything
from fmnist.cnn.nets import build_net, count_parameters
from fmnist.cnn.recipes import arch_learning_rate, effective_recipe, input_pipeline
from fmnist.data import Dataset, load_dataset
from fmnist.device import resolve_device, use_cpu_threads
from fmnist.kernels import use_cpu_kernels
from fmnist.layout import SweepOutputs
from fmnist.recipe import Recipe
from fmnist.records import save_record

log = logging.getLogger(__name__)

# The numbers of a sweep that `dvc metrics` shows; each value's numbers go to its details.
HEADLINE = ("best_value", "val_accuracy", "test_accuracy")


class ValidationCurve:
    """A training logger (fmnist.cnn.loop.Logger) that scores the validation split every `every` steps.

    Scoring puts the net in eval mode; it is put back in train mode before the next step. It draws nothing at
    random, so the training run is the same with or without it."""

    def __init__(self, model: nn.Module, data: TrainingData, recipe: Recipe, device: torch.device, every: int):
        self.model, self.data, self.recipe, self.device, self.every = model, data, recipe, device, every
        self.points: list[dict] = []

    def batch(self, step: int, loss: float) -> None:
        if step % self.every == 0:
            val_loss, val_acc = evaluate(self.model, self.data, self.recipe, self.device)
            self.model.train()
            self.points.append({"step": step, "val_acc": val_acc, "val_loss": val_loss})

    def epoch(self, epoch: int, values: dict[str, float]) -> None:
        pass


def train_value(
    arch: str,
    settings: dict,
    recipe: Recipe,
    dataset: Dataset,
    device: torch.device,
    every: int,
    name: str,
    lr_sources: dict[str, float],
) -> dict:
    """One net of the sweep, trained and scored: its curve, best validation and test accuracy, size and time (a
    diverged net names `lr_sources`, the params keys of the learning rate: fmnist.cnn.loop.fit)."""
    seed_everything(recipe.seed)
    net = build_net(arch, settings)
    pipeline = input_pipeline(arch, settings, recipe)
    images, labels = torch.from_numpy(dataset.train_images), torch.from_numpy(dataset.train_labels)
    data = TrainingData(images, labels, dataset.fit_indices(), dataset.val_indices, pipeline)
    curve = ValidationCurve(net, data, recipe, device, every)
    start = time.perf_counter()
    result = fit(net, data, recipe, device, curve, name, lr_sources=lr_sources)
    predicted = predict_logits(net, torch.from_numpy(dataset.test_images), pipeline, device, recipe, tta=True)
    return {
        "curve": curve.points,
        "val_accuracy": result.best_val_accuracy,
        "test_accuracy": float((predicted.argmax(1).numpy() == dataset.test_labels).mean()),
        "best_epoch": result.best_epoch,
        "params_count": count_parameters(net),
        "train_seconds": round(time.perf_counter() - start, 1),
    }


def run_sweep(
    name: str, recipe_params: dict, sweep: dict, arch_settings: dict, prepared_dir: Path, paths: SweepOutputs
) -> dict:
    """Train sweep `name`'s net for each of `sweep["values"]`; write curves, final accuracies and the record."""
    arch, setting = SWEEPS[name].arch, SWEEPS[name].setting
    # A fixed budget: the sweep's epochs, and patience enough never to stop early.
    recipe_params = {**recipe_params, "patience": sweep["epochs"]}
    recipe = effective_recipe(arch, recipe_params, {**arch_settings, "epochs": sweep["epochs"]})
    lr_sources = arch_learning_rate(arch, recipe_params, arch_settings).sources
    device = resolve_device(recipe.device, "model.device")
    use_cpu_kernels(recipe.cpu_kernels, "model.cpu_kernels")
    use_cpu_threads(recipe.cpu_threads)  # a fixed number: the weights' bits follow it (fmnist/cores.py)
    dataset = load_dataset(prepared_dir)
    runs = {}
    for value in sweep["values"]:
        label = f"{name} {setting}={value}"
        runs[value] = train_value(
            arch, {**arch_settings, setting: value}, recipe, dataset, device, sweep["eval_every"], label, lr_sources
        )
        log.info("%s: validation %.4f, test %.4f", label, runs[value]["val_accuracy"], runs[value]["test_accuracy"])
    best = max(sweep["values"], key=lambda v: runs[v]["val_accuracy"])  # the first of equals
    record = {
        "best_value": best,
        "val_accuracy": runs[best]["val_accuracy"],
        "test_accuracy": runs[best]["test_accuracy"],
        "arch": arch,
        "setting": setting,
        "epochs": sweep["epochs"],
        "eval_every": sweep["eval_every"],
        "values": {str(v): {k: x for k, x in run.items() if k != "curve"} for v, run in runs.items()},
    }
    with staged_outputs() as staged:
        with open(staged.path(paths.curves), "w") as f:
            f.write("step,value,val_acc,val_loss\n")
            for value, run in runs.items():
                for point in run["curve"]:
                    f.write(f"{point['step']},{value},{point['val_acc']:.6g},{point['val_loss']:.6g}\n")
        with open(staged.path(paths.final), "w") as f:
            f.write("value,val_acc,test_acc\n")
            for value, run in runs.items():
                f.write(f"{value},{run['val_accuracy']:.6g},{run['test_accuracy']:.6g}\n")
        save_record(staged, paths.record, record, HEADLINE)
    return record
