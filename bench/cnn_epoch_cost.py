"""Seconds per training epoch of each architecture on this machine, from one epoch on a subset.

    python -m bench.cnn_epoch_cost --images 4000 --archs mlp,dense2,cnn1,lenet5,lenet5_bn,convnet_bn
    python -m bench.cnn_epoch_cost --images 4000 --archs convnet_bn --convnet-channels 32,64 --convnet-convs 2
    python -m bench.cnn_epoch_cost --images 2000 --archs convnet_bn,resnet9 --resnet9-channels 16,32,64,128 --ema 0.999
    python -m bench.cnn_epoch_cost --images 3000 --archs resnet9 --resnet9-stage1-stride 1
    python -m bench.cnn_epoch_cost --smoke          # 64 images, 16 to validate: does the bench run?

Run it in the project's folder. Trains each net (settings from params.yaml, the recipe from `model:` with the batch
size given) for one epoch on the first `--images` training images and prints its training throughput and the seconds
an epoch of the 54,000-image training split would take at that rate. `--convnet-channels 64,512` overrides
convnet_bn's channels (course report 001's width) and `--convnet-convs 2` its convolutions per block;
`--resnet9-channels` sets resnet9's and `--resnet9-stage1-stride` its stage 1's stride, and `--ema` trains with a
moving average of the weights (model.ema). Used to choose the epochs that fit the budget. Run it alone on the machine.
"""

from __future__ import annotations

import argparse

import torch

from bench._training import recipe_for, train_subset
from fmnist.cnn.nets import count_parameters
from fmnist.data.dataset import load_dataset
from fmnist.layout import Layout
from fmnist.params import load_params

FULL_EPOCH = 54000
VALIDATION_IMAGES = 1000


def arch_settings(arch: str, params: dict, args: argparse.Namespace) -> dict:
    """params.yaml's `cnn.<arch>` with the command line's overrides."""
    settings = dict(params["cnn"][arch])
    if arch == "convnet_bn" and args.convnet_channels:
        settings["channels"] = [int(c) for c in args.convnet_channels.split(",")]
    if arch == "convnet_bn" and args.convnet_convs:
        settings["convs_per_block"] = args.convnet_convs
    if arch == "resnet9" and args.resnet9_channels:
        settings["channels"] = [int(c) for c in args.resnet9_channels.split(",")]
    if arch == "resnet9" and args.resnet9_stage1_stride:
        settings["stage1_stride"] = args.resnet9_stage1_stride
    return settings


def recipe_changes(args: argparse.Namespace) -> dict:
    """One epoch, and the command line's overrides of the recipe."""
    changes = {"epochs": 1}
    if args.ema is not None:
        changes["ema"] = args.ema
    if args.batch_size:
        changes["batch_size"] = args.batch_size
    if args.channels_last is not None:
        changes["channels_last"] = bool(args.channels_last)
    return changes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--archs", default="mlp,dense2,cnn1,lenet5,lenet5_bn,convnet_bn")
    parser.add_argument("--channels-last", type=int, choices=(0, 1), default=None)
    parser.add_argument("--convnet-channels", default=None)
    parser.add_argument("--convnet-convs", type=int, default=None, help="override convnet_bn's convs_per_block")
    parser.add_argument("--resnet9-channels", default=None, help="override resnet9's channels (four numbers)")
    parser.add_argument("--resnet9-stage1-stride", type=int, choices=(1, 2), default=None, help="override resnet9's")
    parser.add_argument("--ema", type=float, default=None, help="override model.ema (the weights' moving average)")
    parser.add_argument("--smoke", action="store_true", help="64 training images and 16 to validate")
    args = parser.parse_args(argv)
    images, validation = (64, 16) if args.smoke else (args.images, VALIDATION_IMAGES)
    params = load_params()
    dataset = load_dataset(Layout().prepared)
    train_idx, val_idx = dataset.fit_indices()[:images], dataset.val_indices[:validation]
    for arch in args.archs.split(","):
        settings = arch_settings(arch, params, args)
        recipe = recipe_for(arch, params, settings, **recipe_changes(args))
        net, result = train_subset(arch, settings, recipe, dataset, train_idx, val_idx, torch.device("cpu"))
        rate = result.images_seen / result.busy_seconds
        shape = f"{arch:12s} {str(settings.get('channels', '')):10s} x{settings.get('convs_per_block', '')}"
        if arch == "resnet9":
            shape += f" stage 1 stride {settings['stage1_stride']}"
        print(
            f"{shape} batch {recipe.batch_size} channels_last {int(recipe.channels_last)} ema {recipe.ema}: "
            f"{rate:7.0f} images/s, "
            f"{FULL_EPOCH / rate:6.1f} s per 54k-image epoch, {count_parameters(net):,} parameters",
            flush=True,
        )


if __name__ == "__main__":
    main()
