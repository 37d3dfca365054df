"""Scoring speed (images per second, eval mode, no test-time augmentation) of each small net at several batch
sizes on this machine's CPU: what chose fmnist.cnn.loop.EVAL_BATCH (about a minute; run it alone).

    python -m bench.eval_batch
    python -m bench.eval_batch --archs resnet9,convnet_bn --batches 1000,100

Untrained nets of params.yaml's settings score 4,000 random images; the weights do not change the speed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import yaml

from bench.gpu import cpu_model
from fmnist.cnn.loop import predict_logits
from fmnist.cnn.nets import build_net
from fmnist.cnn.recipes import effective_recipe, input_pipeline
from fmnist.device import use_cpu_threads

REPO = Path(__file__).resolve().parents[1]
CPU = torch.device("cpu")


def images_per_second(net: torch.nn.Module, images: torch.Tensor, pipeline, recipe, batch: int) -> float:
    start = time.perf_counter()
    predict_logits(net, images, pipeline, CPU, recipe, batch_size=batch)
    return len(images) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archs", default="resnet9,convnet_bn,lenet5_bn,cnn1,mlp")
    parser.add_argument("--batches", default="1000,500,200,100,50")
    args = parser.parse_args()
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    use_cpu_threads(params["model"]["cpu_threads"])
    images = torch.randint(0, 256, (4000, 28, 28), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    batches = [int(b) for b in args.batches.split(",")]
    print(f"CPU {cpu_model()}, {torch.get_num_threads()} threads; images/s when scoring, by batch size")
    print("| arch | " + " | ".join(str(b) for b in batches) + " |")
    print("| --- |" + " ---: |" * len(batches))
    for arch in args.archs.split(","):
        settings = params["cnn"][arch]
        recipe = effective_recipe(arch, params["model"], settings)
        net = build_net(arch, settings)
        if recipe.channels_last:
            net = net.to(memory_format=torch.channels_last)
        pipeline = input_pipeline(arch, settings, recipe)
        rates = [images_per_second(net, images, pipeline, recipe, b) for b in batches]
        print(f"| {arch} | " + " | ".join(f"{r:,.0f}" for r in rates) + " |")


if __name__ == "__main__":
    main()
