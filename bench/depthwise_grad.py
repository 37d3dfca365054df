"""What the tap sums of fmnist/cnn/depthwise.py buy a fine-tune of EfficientNet-Lite0 on this machine's CPU: for each
depthwise convolution they take, its weight gradient in ms by oneDNN and by the taps; then training steps a second
with and without them, alternating (about two minutes; run it alone).

    python -m bench.depthwise_grad                        # finetune.lite0_whole_100's input size and batch
    python -m bench.depthwise_grad --run lite0_whole_10 --steps 20
    python -m bench.depthwise_grad --smoke                # 32 px, batches of 8: does the bench run?

The network is the run's with random weights (the weights do not change the speed), on random images.
"""

from __future__ import annotations

import argparse
import contextlib
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.utils import _pair
from torch.overrides import TorchFunctionMode

from fmnist.cnn.depthwise import onednn_backward, tap_weight_grad, tap_weight_grads, tapped_call
from fmnist.cnn.finetune import build_finetune_net, finetune_recipe
from fmnist.cores import cpu_model
from fmnist.device import use_cpu_threads
from fmnist.params import load_params


def milliseconds(work, repeats: int) -> float:
    work()
    start = time.perf_counter()
    for _ in range(repeats):
        work()
    return (time.perf_counter() - start) / repeats * 1000


class TappedCalls(TorchFunctionMode):
    """Records the arguments of each conv2d call the tap sums would take (a padded input where the network pads)."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        call = tapped_call(func, args, kwargs)
        if call is not None:
            self.calls.append(call)
        return func(*args, **kwargs)


def weight_gradient_times(call: tuple, repeats: int) -> tuple[float, float]:
    """ms of a conv2d call's weight gradient by oneDNN and by the tap sums."""
    x, weight, _, stride, padding, _, groups = call
    x, weight = x.detach(), weight.detach()
    grad_out = torch.randn_like(F.conv2d(x, weight, None, stride, padding, 1, groups))
    onednn = milliseconds(lambda: onednn_backward(grad_out, x, weight, stride, padding, [False, True, False]), repeats)
    taps = milliseconds(lambda: tap_weight_grad(x, grad_out, weight.shape, stride, padding), repeats)
    return onednn, taps


def images_per_second(net: nn.Module, x: torch.Tensor, taps: bool, steps: int) -> float:
    optimizer = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9)
    labels = torch.arange(len(x)) % 10

    def step():
        optimizer.zero_grad(set_to_none=True)
        with tap_weight_grads() if taps else contextlib.nullcontext():
            loss = F.cross_entropy(net(x), labels)
        loss.backward()
        optimizer.step()

    return len(x) * 1000 / milliseconds(step, steps)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", default="lite0_whole_100", help="a finetune run whose network, size and batch to use")
    parser.add_argument("--steps", type=int, default=10, help="training steps a measurement (after one to warm up)")
    parser.add_argument("--rounds", type=int, default=3, help="with and without the taps, alternating")
    parser.add_argument("--smoke", action="store_true", help="32 px, batches of 8, 1 step, 1 round")
    args = parser.parse_args(argv)
    params = load_params()
    settings = {**params["finetune"][args.run], "weights": "random"}
    recipe = finetune_recipe(args.run, params["finetune"]["recipe"], settings)
    size, batch = (32, 8) if args.smoke else (settings["input_size"], recipe.batch_size)
    steps, rounds = (1, 1) if args.smoke else (args.steps, args.rounds)
    use_cpu_threads(recipe.cpu_threads)
    torch.manual_seed(0)
    net = build_finetune_net(settings, f"finetune.{args.run}").to(memory_format=torch.channels_last).train()
    x = torch.randn(batch, 3, size, size).contiguous(memory_format=torch.channels_last)
    print(f"CPU {cpu_model()}, {torch.get_num_threads()} threads; {args.run}: {size} px, batches of {batch}")
    print("| depthwise convolution (channels, input as padded, kernel, stride) | oneDNN ms | taps ms |")
    print("| --- | ---: | ---: |")
    with TappedCalls() as recorder:
        net(x)
    for call in recorder.calls:
        onednn, taps = weight_gradient_times(call, steps)
        conv_input, weight, stride = call[0], call[1], _pair(call[3])[0]
        shape = f"{len(weight)}, {conv_input.shape[-2]} x {conv_input.shape[-1]}, {weight.shape[-1]}, {stride}"
        print(f"| {shape} | {onednn:.1f} | {taps:.1f} |")
    rates = {False: [], True: []}
    for _ in range(rounds):
        for taps in (False, True):
            rates[taps].append(images_per_second(net, x, taps, steps))
    median = {taps: sorted(r)[len(r) // 2] for taps, r in rates.items()}
    print(f"training images/s (median of {rounds}): oneDNN {median[False]:.1f}, taps {median[True]:.1f}, ", end="")
    print(f"{median[True] / median[False]:.2f}x")


if __name__ == "__main__":
    main()
