"""Scoring speed (images per second, eval mode, no test-time augmentation) of each small net at several batch
sizes on this machine's CPU: what chose fmnist.cnn.loop.EVAL_BATCH (about a minute; run it alone).

    python -m bench.eval_batch
    python -m bench.eval_batch --archs resnet9,convnet_bn --batches 1000,100
    python -m bench.eval_batch --smoke              # 64 images at batches of 32 and 16: does the bench run?

Untrained nets of the settings in the current folder's params.yaml score 4,000 random images; the weights do not
change the speed.
"""

from __future__ import annotations

import argparse
import time

import torch

from bench._training import recipe_for
from fmnist.cnn.inference import predict_logits
from fmnist.cnn.nets import build_net
from fmnist.cnn.recipes import input_pipeline
from fmnist.cores import cpu_model
from fmnist.device import use_cpu_threads
from fmnist.params import load_params

CPU = torch.device("cpu")


def images_per_second(net: torch.nn.Module, images: torch.Tensor, pipeline, recipe, batch: int) -> float:
    start = time.perf_counter()
    predict_logits(net, images, pipeline, CPU, recipe, batch_size=batch)
    return len(images) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archs", default="resnet9,convnet_bn,lenet5_bn,cnn1,mlp")
    parser.add_argument("--batches", default="1000,500,200,100,50")
    parser.add_argument("--smoke", action="store_true", help="64 images at batches of 32 and 16")
    args = parser.parse_args(argv)
    count, batches = (64, [32, 16]) if args.smoke else (4000, [int(b) for b in args.batches.split(",")])
    params = load_params()
    use_cpu_threads(params["model"]["cpu_threads"])
    images = torch.randint(0, 256, (count, 28, 28), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    print(f"CPU {cpu_model()}, {torch.get_num_threads()} threads; images/s when scoring, by batch size")
    print("| arch | " + " | ".join(str(b) for b in batches) + " |")
    print("| --- |" + " ---: |" * len(batches))
    for arch in args.archs.split(","):
        settings = params["cnn"][arch]
        recipe = recipe_for(arch, params, settings)
        net = build_net(arch, settings)
        if recipe.channels_last:
            net = net.to(memory_format=torch.channels_last)
        pipeline = input_pipeline(arch, settings, recipe)
        rates = [images_per_second(net, images, pipeline, recipe, b) for b in batches]
        print(f"| {arch} | " + " | ".join(f"{r:,.0f}" for r in rates) + " |")


if __name__ == "__main__":
    main()
