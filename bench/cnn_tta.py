"""Test-time augmentation on the default run's checkpoints: each train_cnn stage's saved network (models/cnn/)
scored on the test and validation sets with flips as the stage does, then with `model.tta_shift` 1 and 2 as well.
Nothing trains, so it shows what the shifts alone do to the very nets the default run made (about a minute alone).

    python -m bench.cnn_tta                       # every arch in train_cnn.archs
    python -m bench.cnn_tta --archs convnet_bn

The validation columns are the ones to choose `model.tta_shift` by; the test columns say what it gave.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import torch
import yaml

from bench.gpu import cpu_model
from fmnist.cnn.loop import predict_logits
from fmnist.cnn.nets import uses_imagenet_input
from fmnist.cnn.recipes import effective_recipe, input_pipeline
from fmnist.cnn.train import skeleton
from fmnist.data.dataset import load_dataset
from fmnist.device import use_cpu_threads
from fmnist.layout import Layout

SHIFTS = (0, 1, 2)
CPU = torch.device("cpu")


def accuracy(logits: torch.Tensor, labels) -> float:
    return float((logits.argmax(1).numpy() == labels).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    params = yaml.safe_load(Path("params.yaml").read_text())
    parser.add_argument("--archs", default=",".join(params["train_cnn"]["archs"]))
    args = parser.parse_args()
    layout = Layout()
    dataset = load_dataset(layout.prepared)
    use_cpu_threads(params["model"]["cpu_threads"])
    test_images = torch.from_numpy(dataset.test_images)
    val_images = torch.from_numpy(dataset.train_images[dataset.val_indices])
    val_labels = dataset.train_labels[dataset.val_indices]
    print(f"CPU {cpu_model()}; validation / test accuracy with test-time shifts of {', '.join(map(str, SHIFTS))} px")
    for arch in args.archs.split(","):
        if uses_imagenet_input(arch):
            raise SystemExit(f"bench.cnn_tta: {arch} is an ImageNet backbone; this bench scores the small nets only")
        settings = params["cnn"][arch]
        recipe = effective_recipe(arch, params["model"], settings)
        net = skeleton(arch, settings)
        net.load_state_dict(torch.load(layout.cnn(arch).checkpoint, map_location="cpu", weights_only=True))
        pipeline = input_pipeline(arch, settings, recipe)
        cells = []
        for shift in SHIFTS:
            shifted = dataclasses.replace(recipe, tta_shift=shift)
            val = accuracy(predict_logits(net, val_images, pipeline, CPU, shifted, tta=True), val_labels)
            test = accuracy(predict_logits(net, test_images, pipeline, CPU, shifted, tta=True), dataset.test_labels)
            cells.append(f"{val:.4f} / {test:.4f}")
        print(f"{arch:15s} " + "   ".join(cells), flush=True)


if __name__ == "__main__":
    main()
