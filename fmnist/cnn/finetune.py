"""The course reports' fine-tunes (reports 001 and 002) as runs of stage finetune@<run>: an ImageNet backbone whose
last layer is replaced by a new head, trained whole (`freeze: none`) or head only (`freeze: backbone`), on a seeded,
stratified share of the training split (`train_fraction`).

A frozen backbone in eval mode maps every image to the same features at every epoch, so its head trains on those
features computed once (each image's and its mirror image's, for flips): the same training as through the whole
network, at the cost of one forward pass per image instead of one per image and epoch.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from fmnist.backbones import BACKBONES, PooledStages, build_backbone, pooled_width, set_head
from fmnist.classes import NUM_CLASSES
from fmnist.cnn.augment import ImageNetInput
from fmnist.cnn.curves import LiveCurves
from fmnist.cnn.inference import EVAL_BATCH, to_device
from fmnist.cnn.loop import FitResult, Logger, TrainingData, fit, seed_everything
from fmnist.cnn.nets import TrainOnly
from fmnist.cnn.recipes import LearningRate, input_pipeline, learning_rate, training_indices
from fmnist.cnn.train import train_and_record, training_data
from fmnist.data import load_dataset
from fmnist.device import resolve_device, use_cpu_threads
from fmnist.errors import PipelineError
from fmnist.kernels import use_cpu_kernels
from fmnist.layout import CnnOutputs
from fmnist.recipe import Recipe
from fmnist.side_by_side import map_batches

log = logging.getLogger(__name__)


class BackboneWithHead(nn.Module):
    """`features` (a backbone up to its global pool) followed by a new `head`."""

    def __init__(self, features: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.features, self.head = features, head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def new_head(kind: str, width: int, hidden: int, dropout: float, standardize: bool = False) -> nn.Module:
    """`linear`: one layer (a new last layer); `mlp`: dropout, a hidden ReLU layer, dropout, the output layer (a new
    classifier, as report 001's on VGG-16-BN's frozen convolutions). With `standardize`, a batch norm first: the pooled
    maps of a frozen backbone's stages differ in scale by orders of magnitude, and SGD on them unscaled trains a linear
    head to 0.82 where scaled it reaches 0.91 (docs/BENCHMARKS.md); at inference it is a fixed affine map, so a linear
    head stays linear."""
    if kind == "linear":
        head = nn.Linear(width, NUM_CLASSES)
    else:
        layers = [nn.Dropout(dropout), nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
        head = nn.Sequential(*layers, nn.Linear(hidden, NUM_CLASSES))
    return nn.Sequential(nn.BatchNorm1d(width), head) if standardize else head


def build_finetune_net(settings: dict, param_prefix: str) -> nn.Module:
    """The run's backbone with its ImageNet head removed (and, with `pooled_stages`, its last block stages' pooled
    maps in front of its pooled features; with `pool_grid` > 1, each map pooled on a grid of cells), a new head on
    top; wrapped so that only the head trains when `freeze: backbone`. Stops with a message naming `param_prefix`
    when the backbone cannot give those maps or its weights cannot be had."""
    arch = settings["arch"]
    backbone = BACKBONES[arch]
    stages, grid = settings["pooled_stages"], settings["pool_grid"]
    exposed = len(backbone.stage_channels)
    if (stages or grid > 1) and exposed < stages + (not exposed):
        key, value = ("pooled_stages", stages) if stages else ("pool_grid", grid)
        raise PipelineError(
            f"params.yaml: `{param_prefix}.{key}` = {value}, but {backbone.title} exposes {exposed} block stages to "
            f"pool; set `pooled_stages` to at most that and `pool_grid` to 1 where it exposes none."
        )
    network = build_backbone(
        arch, settings["weights"], settings["weights_file"], settings["weights_sha256"], param_prefix
    )
    set_head(network, backbone, nn.Identity())
    features = PooledStages(network, backbone, stages, grid) if stages or grid > 1 else network
    width = pooled_width(backbone, stages, grid)
    head = new_head(settings["head"], width, settings["head_hidden"], settings["head_dropout"], settings["standardize"])
    net = BackboneWithHead(features, head)
    return TrainOnly(net, "head") if settings["freeze"] == "backbone" else net


def finetune_learning_rate(run: str, recipe_params: dict, settings: dict) -> LearningRate:
    """learning_rate of fine-tune run `run`: the shared recipe is `finetune.recipe`, its settings `finetune.<run>`."""
    return learning_rate("finetune.recipe", recipe_params, f"finetune.{run}", settings)


def finetune_recipe(run: str, recipe_params: dict, settings: dict) -> Recipe:
    """`finetune.recipe` with run `run`'s own `recipe` values, learning rate and `epochs`."""
    lr = finetune_learning_rate(run, recipe_params, settings).value
    return Recipe.from_params({**recipe_params, **settings["recipe"], "lr": lr, "epochs": settings["epochs"]})


class CachedViews:
    """The input pipeline of a head trained on cached features, N x V x D: view 0 is each image's features, view 1
    (when flips are on) its mirror image's. Training draws one view per image; evaluation takes view 0.

    `hflip` is False: the flips are in the cache, and predict_logits must not mirror a feature vector."""

    hflip = False

    def train(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if x.shape[1] == 1:
            return x[:, 0]
        view = (torch.rand(len(x), generator=generator) < 0.5).long().to(x.device)
        return x[torch.arange(len(x), device=x.device), view]

    def eval(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, 0]


def cache_features(
    features: nn.Module, data: TrainingData, device: torch.device, recipe: Recipe, name: str
) -> torch.Tensor:
    """The frozen `features` of every training and validation image (N x V x D on the CPU, zeros for the images of
    neither), V = 2 with each image's mirror image when the pipeline flips, else 1. On the CPU the batches run side by
    side (fmnist.side_by_side: 1.3x the images/s of two threads on each batch, the same bits)."""
    features.eval()
    if recipe.channels_last:
        features.to(memory_format=torch.channels_last)
    pipeline: ImageNetInput = data.pipeline
    views = 2 if pipeline.hflip else 1
    wanted = torch.as_tensor(sorted(set(data.train_idx.tolist()) | set(data.val_idx.tolist())))
    size = EVAL_BATCH[device.type]
    batches = [wanted[start : start + size] for start in range(0, len(wanted), size)]

    def featurize(index: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():  # per thread, as autograd's state is
            x = pipeline.eval(data.images[index].to(device))
            outputs = [features(to_device(x, device, recipe.channels_last)).float()]
            if views == 2:
                outputs.append(features(to_device(x.flip(-1), device, recipe.channels_last)).float())
            return torch.stack(outputs, dim=1).cpu()

    cache = None
    with tqdm(
        total=len(wanted), desc=f"{name}: frozen features", unit="img", unit_scale=True, mininterval=2, leave=False
    ) as bar:
        for index, batch in zip(batches, map_batches(featurize, batches, device.type == "cpu"), strict=True):
            if cache is None:
                cache = torch.zeros(len(data.images), views, batch.shape[-1])
            cache[index] = batch
            bar.update(len(index))
    return cache


def fit_frozen(
    net: TrainOnly,
    data: TrainingData,
    recipe: Recipe,
    device: torch.device,
    logger: Logger,
    name: str,
    lr_sources: dict[str, float] | None = None,
) -> FitResult:
    """Train only the head of `net` (a TrainOnly-wrapped BackboneWithHead), on its frozen backbone's features
    computed once; `net` ends with the head of the best validation accuracy. The result's seconds include the
    features' computation. As fit, for the rest (`lr_sources` included)."""
    inner: BackboneWithHead = net.net
    start = time.perf_counter()
    inner.features.to(device)
    cache = cache_features(inner.features, data, device, recipe, name)
    seconds = time.perf_counter() - start
    log.info("%s: frozen features of %d images in %.0f s", name, len(data.train_idx) + len(data.val_idx), seconds)
    head_data = dataclasses.replace(data, images=cache, pipeline=CachedViews())
    result = fit(inner.head, head_data, recipe, device, logger, name, lr_sources)
    return dataclasses.replace(result, seconds=result.seconds + seconds, busy_seconds=result.busy_seconds + seconds)


# What a fine-tune's record says of its setting, beside its scores (the report matches the course reports' rows).
SETTING_KEYS = ("arch", "weights", "freeze", "train_fraction", "input_size", "head", "pooled_stages", "standardize")


def train_finetune(name: str, recipe_params: dict, settings: dict, prepared_dir: Path, paths: CnnOutputs) -> dict:
    """Run `finetune.<name>`: build the network (stopping before any work when its weights cannot be had), train it
    whole or head only, write its checkpoint, record, predictions and curves; return the metrics."""
    prefix = f"finetune.{name}"
    recipe = finetune_recipe(name, recipe_params, settings)
    lr_sources = finetune_learning_rate(name, recipe_params, settings).sources
    device = resolve_device(recipe.device, "finetune.recipe.device")
    use_cpu_kernels(recipe.cpu_kernels, "finetune.recipe.cpu_kernels")
    use_cpu_threads(recipe.cpu_threads)
    seed_everything(recipe.seed)
    net = build_finetune_net(settings, prefix)
    dataset = load_dataset(prepared_dir)
    train_idx = training_indices(dataset, settings, recipe.seed)
    data = training_data(dataset, train_idx, input_pipeline(settings["arch"], settings, recipe))
    log.info("%s on %s: %d training, %d validation images", name, device, len(train_idx), len(data.val_idx))

    def train(curves: LiveCurves) -> tuple[nn.Module, list[FitResult]]:
        fitter = fit_frozen if settings["freeze"] == "backbone" else fit
        return net, [fitter(net, data, recipe, device, curves.scope(), name, lr_sources=lr_sources)]

    def skeleton() -> nn.Module:
        return build_finetune_net({**settings, "weights": "random"}, prefix)

    setting = {key: settings[key] for key in SETTING_KEYS}
    return train_and_record(name, train, skeleton, dataset, data, recipe, device, paths, setting)
