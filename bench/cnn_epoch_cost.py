"""Seconds per training epoch of each architecture on this machine, from one epoch on a subset.

    python -m bench.cnn_epoch_cost --images 4000 --archs mlp,dense2,cnn1,lenet5,lenet5_bn,convnet_bn
    python -m bench.cnn_epoch_cost --images 4000 --archs convnet_bn --convnet-channels 32,64 --convnet-convs 2
    python -m bench.cnn_epoch_cost --images 2000 --archs convnet_bn,resnet9 --resnet9-channels 16,32,64,128 --ema 0.999
    python -m bench.cnn_epoch_cost --images 3000 --archs resnet9 --resnet9-stage1-stride 1

Trains each net (settings from params.yaml, the recipe from `model:` with the batch size given) for one
epoch on the first `--images` training images and prints its training throughput and the seconds an
epoch of the 54,000-image training split would take at that rate. `--convnet-channels 64,512`
overrides convnet_bn's channels (course report 001's width) and `--convnet-convs 2` its convolutions per block;
`--resnet9-channels` sets resnet9's and `--resnet9-stage1-stride` its stage 1's stride, and `--ema` trains with
a moving average of the weights (model.ema).
Used to choose the epochs that fit the budget. Run it alone on the machine.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import yaml

from fmnist.cnn.loop import Recipe, TrainingData, fit, seed_everything
from fmnist.cnn.nets import build_net, count_parameters
from fmnist.cnn.recipes import effective_recipe, input_pipeline
from fmnist.data.dataset import load_dataset

REPO = Path(__file__).resolve().parents[1]
FULL_EPOCH = 54000


class Quiet:
    def batch(self, step, loss):
        pass

    def epoch(self, epoch, values):
        pass


def main() -> None:
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
    args = parser.parse_args()
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    dataset = load_dataset(REPO / "data" / "prepared")
    images, labels = torch.from_numpy(dataset.train_images), torch.from_numpy(dataset.train_labels)
    train_idx, val_idx = dataset.fit_indices()[: args.images], dataset.val_indices[:1000]
    cpu = torch.device("cpu")
    for arch in args.archs.split(","):
        settings = dict(params["cnn"][arch])
        if arch == "convnet_bn" and args.convnet_channels:
            settings["channels"] = [int(c) for c in args.convnet_channels.split(",")]
        if arch == "convnet_bn" and args.convnet_convs:
            settings["convs_per_block"] = args.convnet_convs
        if arch == "resnet9" and args.resnet9_channels:
            settings["channels"] = [int(c) for c in args.resnet9_channels.split(",")]
        if arch == "resnet9" and args.resnet9_stage1_stride:
            settings["stage1_stride"] = args.resnet9_stage1_stride
        recipe = effective_recipe(arch, params["model"], settings).__dict__ | {"epochs": 1}
        if args.ema is not None:
            recipe["ema"] = args.ema
        if args.batch_size:
            recipe["batch_size"] = args.batch_size
        if args.channels_last is not None:
            recipe["channels_last"] = bool(args.channels_last)
        recipe = Recipe.from_params(recipe)
        seed_everything(recipe.seed)
        net = build_net(arch, settings)
        data = TrainingData(images, labels, train_idx, val_idx, input_pipeline(arch, settings, recipe))
        result = fit(net, data, recipe, cpu, Quiet(), arch)
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
