"""Weight gradients of depthwise convolutions on small maps, summed tap by tap on the CPU.

oneDNN computes the weight gradient of a depthwise convolution whose kernel is wider than its output map in 35-102 ms
a batch of 128 on an AVX2 EPYC, where the forward pass takes under 1 ms (EfficientNet-Lite0 at 64 px: its 5 x 5 kernels
on 4 x 4 and 2 x 2 maps, its 3 x 3 ones on 2 x 2 maps; `python -m bench.depthwise_grad`). Summed tap by tap over the
batch, the same gradient takes 3-17 ms, and Lite0 trains 1.72x faster. Inside `tap_weight_grads()` such a convolution
runs through TapWeightGrad: its output and its input gradient are oneDNN's, bit for bit; its weight gradient is the
same sum in another order. Every other call passes through unchanged.
"""

from __future__ import annotations

import torch
from torch.nn.modules.utils import _pair
from torch.overrides import TorchFunctionMode


def conv2d_arguments(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """torch.conv2d's arguments, by name, whichever way the caller passed them."""
    return input, weight, bias, stride, padding, dilation, groups


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def takes_taps(input, weight, bias, stride, padding, dilation, groups) -> bool:  # noqa: A002
    """A CPU depthwise convolution (one filter per channel) that trains its weights, without bias or dilation, whose
    kernel is wider than its output map in both directions: the calls whose weight gradient oneDNN is slow at."""
    if not (torch.is_grad_enabled() and weight.requires_grad and input.device.type == "cpu"):
        return False
    if bias is not None or isinstance(padding, str) or _pair(dilation) != (1, 1) or input.dim() != 4:
        return False
    channels = input.shape[1]
    if not (groups == channels == weight.shape[0] and weight.shape[1] == 1):
        return False
    sizes = zip(input.shape[-2:], weight.shape[-2:], _pair(stride), _pair(padding), strict=True)
    return all(kernel > output_size(size, kernel, s, p) for size, kernel, s, p in sizes)


def tapped_call(func, args: tuple, kwargs: dict) -> tuple | None:
    """The arguments (conv2d_arguments) of a torch function call that takes_taps picks; None for any other call."""
    if func is torch.conv2d:
        call = conv2d_arguments(*args, **kwargs)
        if takes_taps(*call):
            return call
    return None


def onednn_backward(grad_out: torch.Tensor, x: torch.Tensor, weight: torch.Tensor, stride, padding, mask: list[bool]):
    """aten's (oneDNN's) gradients of a bias-free, undilated depthwise convolution: those `mask` asks for, of the
    input, the weight and the bias."""
    args = (list(_pair(stride)), list(_pair(padding)), [1, 1], False, [0, 0], weight.shape[0], mask)
    return torch.ops.aten.convolution_backward(grad_out, x, weight, None, *args)


def touches_input(tap: int, stride: int, outputs: int, padding: int, size: int) -> bool:
    """Whether kernel row (or column) `tap` reads an input pixel at any output position, not only padding."""
    return any(padding <= tap + stride * position < padding + size for position in range(outputs))


def tap_weight_grad(x: torch.Tensor, grad_out: torch.Tensor, weight_shape, stride, padding) -> torch.Tensor:
    """d loss / d weight of a depthwise convolution: for each kernel tap, the products of the output gradient and the
    input it read, summed over images and positions. Taps that read only padding stay zero."""
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    padded = torch.nn.functional.pad(x, (pw, pw, ph, ph))
    rows, cols = grad_out.shape[-2:]
    grad = torch.zeros(weight_shape, dtype=x.dtype, device=x.device)
    for i in range(weight_shape[-2]):
        if not touches_input(i, sh, rows, ph, x.shape[-2]):
            continue
        for j in range(weight_shape[-1]):
            if touches_input(j, sw, cols, pw, x.shape[-1]):
                window = padded[:, :, i : i + sh * (rows - 1) + 1 : sh, j : j + sw * (cols - 1) + 1 : sw]
                grad[:, 0, i, j] = (window * grad_out).sum((0, 2, 3))
    return grad


class TapWeightGrad(torch.autograd.Function):
    """A depthwise convolution: oneDNN's forward pass and input gradient, the weight gradient from tap_weight_grad."""

    @staticmethod
    def forward(ctx, x, weight, stride, padding):
        ctx.save_for_backward(x, weight)
        ctx.stride, ctx.padding = _pair(stride), _pair(padding)
        return torch.conv2d(x, weight, None, stride, padding, 1, weight.shape[0])

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        grad_x = grad_weight = None
        if ctx.needs_input_grad[0]:
            grad_x = onednn_backward(grad_out, x, weight, ctx.stride, ctx.padding, [True, False, False])[0]
        if ctx.needs_input_grad[1]:
            grad_weight = tap_weight_grad(x, grad_out, weight.shape, ctx.stride, ctx.padding)
        return grad_x, grad_weight, None, None


class tap_weight_grads(TorchFunctionMode):  # noqa: N801 (used as a context manager, like torch.no_grad)
    """Within it, the conv2d calls takes_taps picks run through TapWeightGrad."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        call = tapped_call(func, args, kwargs)
        if call is None:
            return func(*args, **kwargs)
        x, weight, _, stride, padding, _, _ = call
        return TapWeightGrad.apply(x, weight, stride, padding)
