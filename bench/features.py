"""Speed and memory of the feature extractions on the prepared dataset of the project in the current folder (run it
under the CPU lock).

    python -m bench.features scatnet            # kymatio plainly (batch 128; NumPy and torch frontends) vs our
                                                # extraction of all 70,000 images
    python -m bench.features resnet18           # images/s at 32, 64, 112, 224 px, batch 128, channels-last
    python -m bench.features resnet18 --full    # ... and the default 112 px extraction of all 70,000 images
    python -m bench.features profile            # where kymatio's time goes, per backend call, and the primitives
    python -m bench.features resize             # ScatNet-176 on zero-padded vs bilinear-resized 64 x 64 input
    python -m bench.features lite0              # EfficientNet-Lite0 (ImageNet): linear-probe accuracy and
                                                # extraction time against input size, with and without the
                                                # pooled block stages
    python -m bench.features <bench> --smoke    # its smallest sizes: does it run? (seconds on the tests' data)

Each figure is printed; peak memory is this process's maximum resident set size (getrusage).
"""

from __future__ import annotations

import argparse
import collections
import copy
import resource
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from kymatio import Scattering2D
from kymatio.scattering2d.backend.torch_backend import TorchBackend2D

from fmnist.backbones import BACKBONES
from fmnist.backbones.weights import build_backbone
from fmnist.data.dataset import load_dataset
from fmnist.features.backbone import GrayToBackboneInput, feature_extractor
from fmnist.features.extract import build_extractor, extract_into, use_all_cores
from fmnist.features.scattering import ComplexBackend, build_scattering, to_input_size
from fmnist.layout import Layout
from fmnist.params import load_params


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def all_images() -> np.ndarray:
    dataset = load_dataset(Layout().prepared)
    return np.concatenate([dataset.train_images, dataset.test_images])


def time_extraction(params: dict, prefix: str, images: np.ndarray) -> float:
    """Seconds for the stage's own extraction (build_extractor + extract_into) of `images`."""
    extractor = build_extractor(params, prefix)
    out = np.empty((len(images), extractor.dim), dtype=np.float32)
    start = time.perf_counter()
    extract_into(extractor, images, out, params["batch_size"], prefix)
    return time.perf_counter() - start


def plain_kymatio_rate(params: dict, images: np.ndarray, batch_size: int, frontend: str) -> float:
    """Images/s of kymatio's Scattering2D called batch by batch: `numpy`, its default frontend (what a
    plain `Scattering2D(J, shape, L, max_order)(x)` runs), or `torch` with kymatio's own torch backend."""
    size = params["input_size"]
    if frontend == "numpy":
        scattering = Scattering2D(J=params["J"], shape=(size, size), L=params["L"], max_order=params["max_order"])
    else:
        scattering = build_scattering(params["J"], params["L"], params["max_order"], size, fast=False)
    start = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(images), batch_size):
            x = to_input_size(torch.from_numpy(images[i : i + batch_size]), size, params["resize"]).contiguous()
            scattering(x.numpy() if frontend == "numpy" else x)
    return len(images) / (time.perf_counter() - start)


def bench_scatnet(args: argparse.Namespace) -> None:
    images = all_images()
    threads = torch.get_num_threads()
    for name in args.sets:
        params = {**load_params()["features"][name], "device": "cpu"}
        config = ", ".join(f"{k}={params[k]}" for k in ("J", "L", "max_order", "input_size", "resize"))
        print(
            f"== {name} ({config}) on {threads} CPU threads; "
            f"kymatio on the first {args.plain_images:,} images, batch 128"
        )
        plain = {}
        for label, frontend, torch_threads in (
            ("default (NumPy) frontend", "numpy", threads),
            (f"torch frontend, {threads} threads", "torch", threads),
            ("torch frontend, 1 thread", "torch", 1),
        ):
            torch.set_num_threads(torch_threads)
            plain[label] = plain_kymatio_rate(params, images[: args.plain_images], 128, frontend)
            print(f"kymatio Scattering2D plainly, {label}: {plain[label]:,.0f} images/s")
        torch.set_num_threads(threads)
        seconds = time_extraction(params, f"features.{name}", images)
        rate = len(images) / seconds
        versus = ", ".join(f"{rate / value:.1f}x the {label}" for label, value in plain.items())
        print(
            f"our extraction, batch {params['batch_size']}, all {len(images):,} images: "
            f"{seconds:.1f} s, {rate:,.0f} images/s = {versus}"
        )
        print(f"peak RSS so far: {peak_rss_mib():,.0f} MiB")


def rate_of(model, images: torch.Tensor, batch_size: int, workers: int) -> float:
    """Images/s of `model` on uint8 `images`: one batch at a time on all threads, or `workers` batches side by side."""
    threads = torch.get_num_threads()

    def run(start: int) -> torch.Tensor:
        with torch.inference_mode():
            return model(images[start : start + batch_size])

    if workers > 1:
        torch.set_num_threads(1)
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, [0] * workers))  # warm-up
        start = time.perf_counter()
        list(pool.map(run, range(0, len(images), batch_size)))
        seconds = time.perf_counter() - start
    torch.set_num_threads(threads)
    return len(images) / seconds


class GrayToNCHW(GrayToBackboneInput):
    """The same preprocessing, left in torch's default (NCHW) layout."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return super().forward(images).contiguous()


def compare_resnet18_cpu_options(images: np.ndarray, size: int) -> None:
    """Layout, batch-norm folding and threading of ResNet-18 at one size, batch 128, on `images`."""
    x = torch.from_numpy(images)
    fused = feature_extractor("resnet18", "random", None, None, "features.resnet18", size, 0)
    torch.manual_seed(0)
    plain = build_backbone("resnet18", "random", None, None, "features.resnet18")
    plain.fc = torch.nn.Identity()
    nchw = torch.nn.Sequential(GrayToNCHW(BACKBONES["resnet18"], size), plain.eval())
    channels_last = torch.nn.Sequential(
        GrayToBackboneInput(BACKBONES["resnet18"], size), copy.deepcopy(plain).to(memory_format=torch.channels_last)
    )
    threads = torch.get_num_threads()
    print(f"== resnet18 CPU options at {size} px, batch 128, {len(x)} images, {threads} cores")
    for label, model, workers in (
        ("NCHW, eager, one batch on all cores", nchw, 1),
        ("channels-last, eager, one batch on all cores", channels_last, 1),
        ("channels-last, batch norms folded, one batch on all cores", fused, 1),
        (f"channels-last, batch norms folded, {threads} batches side by side (ours)", fused, threads),
    ):
        print(f"{label}: {rate_of(model, x, 128, workers):,.1f} images/s")


def bench_resnet18(args: argparse.Namespace) -> None:
    images = all_images()
    base = {**load_params()["features"]["resnet18"], "weights": "random", "device": "cpu", "batch_size": 128}
    compare_resnet18_cpu_options(images[: args.images // 2], base["input_size"])
    print(
        f"== resnet18 (random weights: speed does not depend on them), {torch.get_num_threads()} CPU threads, batch 128"
    )
    for size in args.sizes:
        count = max(args.images // 4, min(args.images, int(args.images * (112 / size) ** 2)))
        seconds = time_extraction({**base, "input_size": size}, "features.resnet18", images[:count])
        rate = count / seconds
        print(
            f"{size:4d} px: {rate:8,.1f} images/s on {count} images -> "
            f"{len(images) / rate / 60:6.1f} min for all {len(images):,}"
        )
    if args.full:
        params = {**load_params()["features"]["resnet18"], "weights": "random", "device": "cpu"}
        seconds = time_extraction(params, "features.resnet18", images)
        print(
            f"default extraction ({params['input_size']} px, batch {params['batch_size']}), "
            f"all {len(images):,} images: "
            f"{seconds / 60:.1f} min, {len(images) / seconds:,.1f} images/s"
        )
    print(f"peak RSS: {peak_rss_mib():,.0f} MiB")


BACKEND_CALLS = ("cdgmm", "rfft", "ifft", "irfft", "subsample_fourier", "modulus", "concatenate")


def time_calls(scattering, batches: list) -> tuple[float, collections.Counter]:
    """Wall seconds of the scattering of `batches` (each as the frontend takes it), and the time spent
    in each backend call."""
    backend, spent = scattering.backend, collections.Counter()
    originals = {name: getattr(backend, name) for name in BACKEND_CALLS}

    def timed(name, call):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            result = call(*args, **kwargs)
            spent[name] += time.perf_counter() - start
            return result

        return wrapper

    scattering.backend = type(
        "Timed", (backend,), {name: staticmethod(timed(name, call)) for name, call in originals.items()}
    )
    start = time.perf_counter()
    with torch.inference_mode():
        for batch in batches:
            scattering(batch)
    total = time.perf_counter() - start
    scattering.backend = backend
    return total, spent


def time_op(op, *args, repeat: int) -> float:
    op(*args)
    start = time.perf_counter()
    for _ in range(repeat):
        op(*args)
    return (time.perf_counter() - start) / repeat * 1e3


def bench_profile(args: argparse.Namespace) -> None:
    torch.set_num_threads(1)
    params = load_params()["features"]["scatnet"]
    size, J, L, order = params["input_size"], params["J"], params["L"], params["max_order"]
    images = torch.from_numpy(all_images()[: args.images])
    batches = [
        to_input_size(images[i : i + 128], size, params["resize"]).contiguous() for i in range(0, len(images), 128)
    ]
    print(f"== scatnet defaults, batch 128, {len(images)} images, 1 thread: share of time per backend call")
    for label, scattering, inputs in (
        (
            "kymatio default (NumPy) frontend",
            Scattering2D(J=J, shape=(size, size), L=L, max_order=order),
            [b.numpy() for b in batches],
        ),
        ("kymatio torch backend", build_scattering(J, L, order, size, fast=False), batches),
        ("ComplexBackend", build_scattering(J, L, order, size), batches),
    ):
        time_calls(scattering, inputs[:1])  # warm-up
        total, spent = time_calls(scattering, inputs)
        shares = ", ".join(f"{name} {seconds / total:.0%}" for name, seconds in spent.most_common())
        print(f"{label}: {len(images) / total:,.0f} images/s; {shares}")
    side = scattering._M_padded  # the padded size the first FFTs and products run at
    x = torch.randn(128, side, side, dtype=torch.complex64)
    real = torch.randn(128, side, side, 1)
    print(f"== primitives on 128 x {side} x {side}, ms (kymatio's / ours)")
    for label, theirs, ours, arg in (
        ("FFT of a real signal", TorchBackend2D.rfft, ComplexBackend.rfft, real),
        ("modulus", lambda z: TorchBackend2D.modulus(torch.view_as_real(z)), ComplexBackend.modulus, x),
        (
            "subsample_fourier k=2",
            lambda z: TorchBackend2D.subsample_fourier(torch.view_as_real(z), 2),
            lambda z: ComplexBackend.subsample_fourier(z, 2),
            x,
        ),
        (
            "torch.fft.fft2 of the real tensor vs of it made complex",
            lambda r: torch.fft.fft2(r[..., 0]),
            ComplexBackend.rfft,
            real,
        ),
        ("torch.abs vs sqrt(re^2 + im^2)", torch.abs, lambda z: (z.real.square() + z.imag.square()).sqrt_(), x),
    ):
        a, b = time_op(theirs, arg, repeat=args.repeat), time_op(ours, arg, repeat=args.repeat)
        print(f"{label}: {a:.2f} / {b:.2f} ({a / b:.1f}x)")


def probe(params: dict, prefix: str, train: int, test: int) -> tuple[float, float]:
    """Test accuracy of logistic regression (standardised features) on the first `train` training images,
    scored on the first `test` test images, and the extraction's images/s."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    dataset = load_dataset(Layout().prepared)
    extractor = build_extractor(params, prefix)
    splits = {"train": dataset.train_images[:train], "test": dataset.test_images[:test]}
    features = {}
    start = time.perf_counter()
    for split, images in splits.items():
        features[split] = np.empty((len(images), extractor.dim), dtype=np.float32)
        extract_into(extractor, images, features[split], params["batch_size"], f"{prefix} {split}")
    rate = (train + test) / (time.perf_counter() - start)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(features["train"], dataset.train_labels[:train])
    return model.score(features["test"], dataset.test_labels[:test]), rate


def bench_resize(args: argparse.Namespace) -> None:
    for resize in ("pad", "bilinear"):
        params = {**load_params()["features"]["scatnet"], "resize": resize, "device": "cpu"}
        accuracy, _ = probe(params, "features.scatnet", args.train, args.test)
        print(
            f"scatnet, resize={resize}: logistic regression on {args.train:,} training images, "
            f"test accuracy {accuracy:.4f}"
        )


def bench_lite0(args: argparse.Namespace) -> None:
    print(
        f"== efficientnet_lite0, ImageNet weights, {torch.get_num_threads()} CPU threads: logistic regression on "
        f"{args.train:,} training images, test accuracy on {args.test:,}; minutes for all 70,000 at that rate"
    )
    for weights in args.weights:
        for stages in args.pooled_stages:
            for size in args.sizes:
                params = {**load_params()["features"]["efficientnet_lite0"], "weights": weights, "device": "cpu"}
                params |= {"input_size": size, "pooled_stages": stages}
                accuracy, rate = probe(params, "features.efficientnet_lite0", args.train, args.test)
                print(
                    f"{weights:8s} pooled_stages {stages} {size:4d} px: probe accuracy {accuracy:.4f}, "
                    f"{rate:7,.0f} images/s -> {70000 / rate / 60:5.1f} min",
                    flush=True,
                )


# Each bench's smallest sizes (--smoke): seconds on the tests' tiny dataset of 250 images.
SMOKE = {
    "scatnet": {"plain_images": 64},
    "resnet18": {"sizes": [32], "images": 64, "full": False},
    "profile": {"images": 64, "repeat": 2},
    "resize": {"train": 100, "test": 50},
    "lite0": {"sizes": [32], "pooled_stages": [0], "train": 100, "test": 50},
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    smoke = argparse.ArgumentParser(add_help=False)
    smoke.add_argument("--smoke", action="store_true", help="the smallest sizes: does the bench run?")
    sub = parser.add_subparsers(dest="which", required=True)
    scat = sub.add_parser("scatnet", parents=[smoke])
    scat.add_argument("--sets", nargs="+", default=["scatnet"], help="scattering sections of params.yaml")
    scat.add_argument("--plain-images", type=int, default=5000, help="images for the (slow) plain kymatio baseline")
    res = sub.add_parser("resnet18", parents=[smoke])
    res.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 112, 224])
    res.add_argument(
        "--images",
        type=int,
        default=1024,
        help="images timed at 112 px (scaled with the pixel count; half of them compare layouts at the stage's size)",
    )
    res.add_argument("--full", action="store_true", help="also time the default extraction of all 70,000 images")
    prof = sub.add_parser("profile", parents=[smoke])
    prof.add_argument("--images", type=int, default=1024)
    prof.add_argument("--repeat", type=int, default=20, help="timed calls of each primitive")
    size = sub.add_parser("resize", parents=[smoke])
    size.add_argument("--train", type=int, default=10000)
    size.add_argument("--test", type=int, default=10000)
    lite0 = sub.add_parser("lite0", parents=[smoke])
    lite0.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 96, 128])
    lite0.add_argument("--weights", nargs="+", default=["imagenet"], help="imagenet and/or random")
    lite0.add_argument("--pooled-stages", type=int, nargs="+", default=[0, 7], help="block stages pooled in front")
    lite0.add_argument("--train", type=int, default=6000)
    lite0.add_argument("--test", type=int, default=2000)
    args = parser.parse_args(argv)
    if args.smoke:
        vars(args).update(SMOKE[args.which])
    use_all_cores()
    benches = {
        "scatnet": bench_scatnet,
        "resnet18": bench_resnet18,
        "profile": bench_profile,
        "resize": bench_resize,
        "lite0": bench_lite0,
    }
    benches[args.which](args)


if __name__ == "__main__":
    main()
