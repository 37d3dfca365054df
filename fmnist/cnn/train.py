"""Training one architecture of the train_cnn stage end to end: network(s), curves, best checkpoint,
test scores of that checkpoint loaded back from disk, metrics and predictions."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from fmnist.atomic import staged_outputs
from fmnist.catalog import CNN_ARCHS
from fmnist.cnn.boosting import MEMBERS, Ensemble, second_net_indices, third_net_indices
from fmnist.cnn.curves import LiveCurves
from fmnist.cnn.inference import predict_logits
from fmnist.cnn.loop import FitResult, TrainingData, fit, seed_everything
from fmnist.cnn.nets import build_net, count_parameters
from fmnist.cnn.recipes import arch_learning_rate, effective_recipe, input_pipeline, training_indices
from fmnist.data import Dataset, load_dataset
from fmnist.device import describe, resolve_device, use_cpu_threads
from fmnist.evaluation import classification_metrics, write_predictions
from fmnist.kernels import use_cpu_kernels
from fmnist.layout import CnnOutputs
from fmnist.recipe import Recipe
from fmnist.records import save_record

log = logging.getLogger(__name__)

# The numbers of a CNN run that `dvc metrics` shows; the rest of its record goes to its details.
HEADLINE = ("test_accuracy", "macro_f1", "val_accuracy", "epochs_run")
# What an ImageNet backbone's record says of its setting (the report matches the course reports' rows on them).
IMAGENET_SETTINGS = ("weights", "freeze", "train_fraction", "input_size")


def skeleton(arch: str, settings: dict) -> nn.Module:
    """An untrained network of the checkpoint's shape, to load the checkpoint into (no ImageNet download)."""
    plain = {**settings, "weights": "random"} if CNN_ARCHS[arch].imagenet_input else settings
    if CNN_ARCHS[arch].trains_boosted(settings):
        return Ensemble([build_net(arch, plain) for _ in range(MEMBERS)])
    return build_net(arch, plain)


def train_boosted(
    arch: str,
    settings: dict,
    data: TrainingData,
    recipe: Recipe,
    device: torch.device,
    curves: LiveCurves,
    lr_sources: dict[str, float],
) -> tuple[nn.Module, list[FitResult]]:
    """Course report 001's three boosted networks (fmnist.cnn.boosting), each with its own early stopping; one that
    diverges names `lr_sources`, the params keys of the learning rate (fmnist.cnn.loop.fit).

    With `boost_from: net1`, nets 2 and 3 start from net 1's trained weights and fine-tune on their
    (small, hard) sets for `boost_epochs`; from scratch they learn only those sets and end weak.
    """
    selection = torch.Generator().manual_seed(recipe.seed)
    train_idx = data.train_idx
    train_images, train_labels = data.images[train_idx], data.labels.numpy()[train_idx]
    later_recipe = dataclasses.replace(recipe, epochs=settings["boost_epochs"] or recipe.epochs)
    nets, fits = [], []
    idx = train_idx
    for member in range(1, MEMBERS + 1):
        if member == 2:
            pred1 = predict_logits(nets[0], train_images, data.pipeline, device, recipe).argmax(1).numpy()
            idx = second_net_indices(train_idx, pred1 == train_labels, selection, arch)
        elif member == 3:
            pred2 = predict_logits(nets[1], train_images, data.pipeline, device, recipe).argmax(1).numpy()
            idx = third_net_indices(train_idx, pred1, pred2, arch)
        net = build_net(arch, settings)
        if member > 1 and settings["boost_from"] == "net1":
            net.load_state_dict(nets[0].state_dict())
        log.info("%s net %d: training on %d images", arch, member, len(idx))
        member_data = dataclasses.replace(data, train_idx=idx)
        member_recipe = recipe if member == 1 else later_recipe
        scope, name = curves.scope(f"net{member}/"), f"{arch} net {member}"
        fits.append(fit(net, member_data, member_recipe, device, scope, name, lr_sources=lr_sources))
        nets.append(net)
    return Ensemble(nets), fits


def train_architecture(arch: str, recipe_params: dict, settings: dict, prepared_dir: Path, paths: CnnOutputs) -> dict:
    """Train `arch`, write its checkpoint, metrics, predictions and curves; return the metrics."""
    recipe = effective_recipe(arch, recipe_params, settings)
    lr_sources = arch_learning_rate(arch, recipe_params, settings).sources
    device = resolve_device(recipe.device, "model.device")
    use_cpu_kernels(recipe.cpu_kernels, "model.cpu_kernels")
    use_cpu_threads(recipe.cpu_threads)  # a fixed number: the weights' bits follow it (fmnist/cores.py)
    seed_everything(recipe.seed)
    first_net = build_net(arch, settings)  # stops here, before any work, when ImageNet weights are missing
    dataset = load_dataset(prepared_dir)
    train_idx = training_indices(dataset, settings, recipe.seed)
    data = training_data(dataset, train_idx, input_pipeline(arch, settings, recipe))
    log.info("%s on %s: %d training, %d validation images", arch, device, len(train_idx), len(dataset.val_indices))

    def train(curves: LiveCurves) -> tuple[nn.Module, list[FitResult]]:
        if CNN_ARCHS[arch].trains_boosted(settings):
            return train_boosted(arch, settings, data, recipe, device, curves, lr_sources)
        return first_net, [fit(first_net, data, recipe, device, curves.scope(), arch, lr_sources=lr_sources)]

    setting = {k: settings[k] for k in IMAGENET_SETTINGS if k in settings} if CNN_ARCHS[arch].imagenet_input else {}
    return train_and_record(
        arch, train, lambda: skeleton(arch, settings), dataset, data, recipe, device, paths, {"arch": arch, **setting}
    )


def training_data(dataset: Dataset, train_idx, pipeline) -> TrainingData:
    """The whole training split as tensors, trained on at `train_idx`, validated on the held-out images."""
    images, labels = torch.from_numpy(dataset.train_images), torch.from_numpy(dataset.train_labels)
    return TrainingData(images, labels, train_idx, dataset.val_indices, pipeline)


def train_and_record(
    name: str,
    train: Callable[[LiveCurves], tuple[nn.Module, list[FitResult]]],
    skeleton: Callable[[], nn.Module],
    dataset: Dataset,
    data: TrainingData,
    recipe: Recipe,
    device: torch.device,
    paths: CnnOutputs,
    setting: dict,
) -> dict:
    """Train (`train` gets the curves to log to), save the checkpoint, load it back into `skeleton()` and score it
    on the test and validation images; write the record (`setting` first) and test predictions; return the metrics.
    Nothing is written when anything fails."""
    curves = LiveCurves(paths.curves)
    try:
        model, fits = train(curves)
        with staged_outputs() as staged:
            checkpoint = staged.path(paths.checkpoint)
            with checkpoint.open("wb") as file:  # a file object: torch.save(path) records the temporary name
                torch.save(model.state_dict(), file)
            scored = skeleton()
            scored.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=True))
            scored.to(device)
            test_images = torch.from_numpy(dataset.test_images)
            logits = predict_logits(scored, test_images, data.pipeline, device, recipe, tta=True)
            val_logits = predict_logits(scored, data.images[data.val_idx], data.pipeline, device, recipe, tta=True)
            predicted = logits.argmax(1).numpy()
            metrics = {
                **setting,
                **classification_metrics(dataset.test_labels, predicted),
                "val_accuracy": float((val_logits.argmax(1) == data.labels[data.val_idx]).float().mean()),
                "best_epoch": fits[0].best_epoch,
                "epochs_run": sum(f.epochs_run for f in fits),
                "params_count": count_parameters(scored),
                "train_seconds": round(sum(f.seconds for f in fits), 1),
                "images_per_second": round(sum(f.images_seen for f in fits) / sum(f.busy_seconds for f in fits), 1),
                "train_size": len(data.train_idx),
                "device": describe(device),
                "torch_threads": torch.get_num_threads(),
            }
            if isinstance(scored, Ensemble):
                metrics["members"] = member_summaries(
                    scored, fits, test_images, dataset.test_labels, data.pipeline, device, recipe
                )
            save_record(staged, paths.record, metrics, HEADLINE)
            write_predictions(staged.path(paths.predictions), dataset.test_labels, predicted)
        curves.publish()
    except BaseException:
        curves.discard()
        raise
    log.info("%s: test accuracy %.4f, macro F1 %.4f", name, metrics["test_accuracy"], metrics["macro_f1"])
    return metrics


def member_summaries(
    ensemble: Ensemble, fits: list[FitResult], test_images, test_labels, pipeline, device, recipe
) -> list[dict]:
    summaries = []
    for number, (net, result) in enumerate(zip(ensemble.members, fits, strict=True), start=1):
        predicted = predict_logits(net, test_images, pipeline, device, recipe, tta=True).argmax(1).numpy()
        summaries.append(
            {
                "net": number,
                "train_size": result.train_size,
                "best_epoch": result.best_epoch,
                "epochs_run": result.epochs_run,
                "val_accuracy": result.best_val_accuracy,
                "test_accuracy": float((predicted == test_labels).mean()),
                "train_seconds": round(result.seconds, 1),
            }
        )
    return summaries
