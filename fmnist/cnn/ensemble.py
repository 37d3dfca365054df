"""Stage ensemble: the mean softmax output of some of the pipeline's trained nets (train_cnn archs and fine-tunes),
chosen on the validation split only.

Each candidate's checkpoint is loaded into a network built from its own params and scored as its stage scored it
(its input pipeline, test-time flips and shifts). Members are chosen by greedy forward selection (Caruana et al.,
"Ensemble selection from libraries of models", 2004, without replacement): the most accurate net on the validation
split first, then, one at a time, the net whose softmax added to the mean raises the validation accuracy most, while it
rises and at most `max_members`. The test set is scored once, for the chosen members.
"""

from __future__ import annotations

import logging
import pickle
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from fmnist.atomic import staged_outputs
from fmnist.cnn.finetune import build_finetune_net, finetune_recipe
from fmnist.cnn.inference import InputPipeline, predict_logits
from fmnist.cnn.recipes import effective_recipe, input_pipeline
from fmnist.cnn.train import skeleton
from fmnist.data import load_dataset
from fmnist.device import describe, resolve_device, use_cpu_threads
from fmnist.errors import PipelineError
from fmnist.evaluation import classification_metrics, write_predictions
from fmnist.kernels import use_cpu_kernels
from fmnist.layout import EnsembleOutputs, Layout
from fmnist.recipe import Recipe
from fmnist.records import save_record

log = logging.getLogger(__name__)

HEADLINE = ("test_accuracy", "macro_f1", "val_accuracy")


@dataclass(frozen=True)
class Candidate:
    """A trained net as its stage scores it: an untrained network of its shape, its input pipeline and recipe."""

    build: Callable[[], nn.Module]
    pipeline: InputPipeline
    recipe: Recipe


def candidate(name: str, params: dict) -> Candidate:
    """The candidate `name`: a fine-tune run (`finetune.<name>`) or a train_cnn arch (`cnn.<name>`)."""
    if name in params["finetune"]["runs"]:
        settings = params["finetune"][name]
        recipe = finetune_recipe(name, params["finetune"]["recipe"], settings)

        def build() -> nn.Module:
            return build_finetune_net({**settings, "weights": "random"}, f"finetune.{name}")

        return Candidate(build, input_pipeline(settings["arch"], settings, recipe), recipe)
    settings = params["cnn"][name]
    recipe = effective_recipe(name, params["model"], settings)
    return Candidate(lambda: skeleton(name, settings), input_pipeline(name, settings, recipe), recipe)


def load_checkpoint(net: nn.Module, path: Path, name: str) -> nn.Module:
    """`net` with the state_dict saved at `path` (read with weights_only=True), or one message on how to rebuild it."""
    remedy = f"re-create it with `dvc repro` (the stage that trains {name}) or restore it with `dvc checkout {path}`"
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        net.load_state_dict(state)
    except FileNotFoundError:
        raise PipelineError(f"{path}: not found; {remedy}") from None
    except (RuntimeError, pickle.UnpicklingError, zipfile.BadZipFile, EOFError, KeyError, TypeError) as exc:
        raise PipelineError(f"{path}: not a checkpoint of {name}'s network ({exc}); {remedy}") from None
    return net


def softmax_outputs(candidate: Candidate, net: nn.Module, images: torch.Tensor, device: torch.device) -> np.ndarray:
    """Class probabilities of `images`, scored as the candidate's stage scored them (test-time augmentation too)."""
    logits = predict_logits(net.to(device), images, candidate.pipeline, device, candidate.recipe, tta=True)
    return torch.softmax(logits, dim=1).numpy()


def accuracy(probabilities: list[np.ndarray], labels: np.ndarray) -> float:
    return float((np.mean(probabilities, axis=0).argmax(1) == labels).mean())


def choose_members(val_probabilities: dict[str, np.ndarray], val_labels: np.ndarray, max_members: int) -> list[str]:
    """Greedy forward selection on the validation split: the nets (in the order chosen) whose mean softmax is most
    accurate there, added one at a time while the accuracy rises strictly; ties go to the earlier candidate."""
    chosen: list[str] = []
    best = -1.0
    while len(chosen) < max_members:
        scores = {
            name: accuracy([val_probabilities[n] for n in [*chosen, name]], val_labels)
            for name in val_probabilities
            if name not in chosen
        }
        if not scores:
            break
        name = max(scores, key=scores.get)  # the first of equal scores: candidates' order
        if scores[name] <= best:
            break
        chosen.append(name)
        best = scores[name]
    return chosen


def build_ensemble(params: dict, layout: Layout, paths: EnsembleOutputs) -> dict:
    """Score every candidate on the validation split, choose the members, score them on the test set, and write
    the ensemble's record and test predictions; return the metrics."""
    settings = params["ensemble"]
    device = resolve_device(params["model"]["device"], "model.device")
    use_cpu_kernels(params["model"]["cpu_kernels"], "model.cpu_kernels")
    use_cpu_threads(params["model"]["cpu_threads"])
    candidates = {name: candidate(name, params) for name in settings["candidates"]}
    nets = {name: load_checkpoint(c.build(), layout.cnn(name).checkpoint, name) for name, c in candidates.items()}
    dataset = load_dataset(layout.prepared)
    val_images = torch.from_numpy(dataset.train_images[dataset.val_indices])
    val_labels = dataset.train_labels[dataset.val_indices]
    val = {name: softmax_outputs(candidates[name], nets[name], val_images, device) for name in nets}
    members = choose_members(val, val_labels, settings["max_members"])
    log.info(
        "ensemble: chose %s on the validation split (%.4f)",
        ", ".join(members),
        accuracy([val[n] for n in members], val_labels),
    )
    test_images = torch.from_numpy(dataset.test_images)
    test = {name: softmax_outputs(candidates[name], nets[name], test_images, device) for name in members}
    predicted = np.mean([test[name] for name in members], axis=0).argmax(1)
    metrics = {
        **classification_metrics(dataset.test_labels, predicted),
        "val_accuracy": accuracy([val[name] for name in members], val_labels),
        "nets": members,
        "candidates_val_accuracy": {name: accuracy([probs], val_labels) for name, probs in val.items()},
        "nets_test_accuracy": {name: accuracy([test[name]], dataset.test_labels) for name in members},
        "device": describe(device),
    }
    with staged_outputs() as staged:
        save_record(staged, paths.record, metrics, HEADLINE)
        write_predictions(staged.path(paths.predictions), dataset.test_labels, predicted)
    log.info("ensemble of %s: test accuracy %.4f", ", ".join(members), metrics["test_accuracy"])
    return metrics
