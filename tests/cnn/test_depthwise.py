"""Depthwise convolutions' weight gradients summed tap by tap: the same output and input gradient as oneDNN's, the
same weight gradient to rounding, for exactly the calls oneDNN is slow at, and the training loop uses them."""

import dataclasses

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from fmnist.cnn import depthwise
from fmnist.cnn.depthwise import TapWeightGrad, takes_taps, tap_weight_grads, touches_input
from fmnist.cnn.loop import make_trainer, train_one_epoch
from fmnist.recipe import Recipe
from tests.cnn.test_loop import CPU, Recorder, ThreeChannels, params, tiny_data  # noqa: F401 (params: a fixture)

# (channels, input height and width, kernel, stride, padding): Lite0's slow cases at 64 px (5 x 5 on 4 x 4 and 2 x 2
# maps, 3 x 3 on 2 x 2, a stride-2 5 x 5 on a map padded the TensorFlow way), and an oblong one that tells rows from
# columns.
CASES = [
    (6, (2, 2), (5, 5), (1, 1), (2, 2)),
    (5, (4, 4), (5, 5), (1, 1), (2, 2)),
    (4, (2, 2), (3, 3), (1, 1), (1, 1)),
    (3, (7, 7), (5, 5), (2, 2), (0, 0)),
    (3, (2, 3), (3, 5), (1, 1), (1, 2)),
]


def conv_gradients(case, channels_last, taps):
    """A depthwise convolution's output and its input and weight gradients for a fixed output gradient."""
    channels, size, kernel, stride, padding = case
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(8, channels, *size, generator=generator)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    x.requires_grad_(True)
    weight = torch.randn(channels, 1, *kernel, generator=generator).requires_grad_(True)
    if taps:
        with tap_weight_grads():
            out = F.conv2d(x, weight, None, stride, padding, 1, channels)
    else:
        out = F.conv2d(x, weight, None, stride, padding, 1, channels)
    out.backward(torch.randn(out.shape, generator=generator))
    return out.detach(), x.grad, weight.grad


@pytest.mark.parametrize("channels_last", [True, False])
@pytest.mark.parametrize("case", CASES)
def test_tap_sums_give_onednns_output_and_input_gradient_bit_for_bit_and_its_weight_gradient(case, channels_last):
    out, grad_x, grad_w = conv_gradients(case, channels_last, taps=False)
    tap_out, tap_grad_x, tap_grad_w = conv_gradients(case, channels_last, taps=True)
    assert torch.equal(tap_out, out)
    assert torch.equal(tap_grad_x, grad_x)
    torch.testing.assert_close(tap_grad_w, grad_w, rtol=1e-5, atol=1e-5)
    assert not torch.equal(grad_w, torch.zeros_like(grad_w))


def test_the_slow_calls_run_through_the_tap_sums_and_no_others(monkeypatch):
    calls = []

    def apply(x, weight, stride, padding):
        calls.append(weight.shape)
        return F.conv2d(x, weight, None, stride, padding, 1, len(weight))

    monkeypatch.setattr(TapWeightGrad, "apply", apply)
    net = nn.Sequential(
        nn.Conv2d(4, 4, 5, padding=2, groups=4, bias=False),  # 5 x 5 on 2 x 2: taps
        nn.Conv2d(4, 4, 1, bias=False),  # pointwise: oneDNN
    )
    with tap_weight_grads():
        net(torch.randn(2, 4, 2, 2))
    assert calls == [torch.Size([4, 1, 5, 5])]


def test_a_call_by_keywords_with_defaults_left_out_takes_the_taps_as_a_positional_one(monkeypatch):
    taken = []
    original = TapWeightGrad.apply
    monkeypatch.setattr(TapWeightGrad, "apply", lambda *args: taken.append(args[2:]) or original(*args))
    x = torch.randn(2, 4, 2, 2)
    w = torch.randn(4, 1, 5, 5, requires_grad=True)
    one_channel = torch.randn(2, 1, 3, 3)
    w1 = torch.randn(1, 1, 3, 3, requires_grad=True)
    with tap_weight_grads():
        out = torch.conv2d(x, w, padding=2, groups=4)
        out1 = torch.conv2d(one_channel, w1)  # groups 1 = 1 channel: depthwise; no padding: a 1 x 1 output
    assert taken == [(1, 2), (1, 0)]  # stride 1, padding 0 and groups 1 by default
    assert torch.equal(out, F.conv2d(x, w, None, 1, 2, 1, 4)) and torch.equal(out1, F.conv2d(one_channel, w1))


def test_other_calls_keep_their_keyword_arguments():
    x = torch.randn(2, 3, 6, 6)
    w = torch.randn(5, 3, 3, 3, requires_grad=True)
    with tap_weight_grads():
        out = torch.conv2d(x, w, padding=1, stride=2)
        flat = out.flatten(start_dim=1)
    assert torch.equal(out, F.conv2d(x, w, None, 2, 1)) and flat.shape == (2, 5 * 3 * 3)


def test_the_weight_gradient_is_summed_in_the_weights_dtype():
    channels, size, kernel, stride, padding = CASES[0]
    x = torch.randn(2, channels, *size, dtype=torch.float64)
    w = torch.randn(channels, 1, *kernel, dtype=torch.float64, requires_grad=True)
    with tap_weight_grads():
        F.conv2d(x, w, None, stride, padding, 1, channels).sum().backward()
    taps = w.grad.clone()
    w.grad = None
    F.conv2d(x, w, None, stride, padding, 1, channels).sum().backward()
    torch.testing.assert_close(taps, w.grad, rtol=1e-12, atol=1e-12)  # float32 sums would be 1e-7 apart


def weight(kernel=5, channels=4, trains=True):
    return torch.zeros(channels, 1, kernel, kernel, requires_grad=trains)


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "expected"),
    [
        (2, 5, 1, 2, True),  # output 2 x 2 under a 5 x 5 kernel
        (4, 5, 1, 2, True),
        (2, 3, 1, 1, True),
        (4, 3, 1, 1, False),  # output 4 x 4 under 3 x 3: oneDNN is fast (0.5 ms)
        (8, 5, 1, 2, False),  # output 8 x 8 under 5 x 5: oneDNN is faster (9 ms against 30)
        (5, 5, 1, 2, False),  # as wide as the output, not wider
        (7, 5, 2, 0, True),  # stride 2: output 2 x 2
        (16, 3, 2, 1, False),
    ],
)
def test_taps_are_taken_where_the_kernel_is_wider_than_the_output_map(size, kernel, stride, padding, expected):
    x = torch.zeros(2, 4, size, size)
    assert takes_taps(x, weight(kernel), None, stride, padding, 1, 4) is expected


def test_taps_need_a_kernel_wider_than_the_output_map_both_ways():
    assert takes_taps(torch.zeros(2, 4, 2, 3), weight(), None, 1, 2, 1, 4)
    assert not takes_taps(torch.zeros(2, 4, 2, 8), weight(), None, 1, 2, 1, 4)
    assert not takes_taps(torch.zeros(2, 4, 8, 2), weight(), None, 1, 2, 1, 4)


def test_taps_need_a_trained_bias_free_undilated_depthwise_convolution_with_numeric_padding():
    x = torch.zeros(2, 4, 2, 2)
    assert takes_taps(x, weight(), None, 1, 2, 1, 4)
    assert not takes_taps(x, weight(trains=False), None, 1, 2, 1, 4)
    assert not takes_taps(x, weight(), torch.zeros(4), 1, 2, 1, 4)
    assert not takes_taps(x, weight(), None, 1, 2, 2, 4)
    assert not takes_taps(x, weight(), None, 1, "same", 1, 4)
    assert not takes_taps(x, weight(channels=8), None, 1, 2, 1, 4)  # two filters a channel
    assert not takes_taps(x, torch.zeros(4, 4, 5, 5, requires_grad=True), None, 1, 2, 1, 1)  # a full convolution
    with torch.no_grad():
        assert not takes_taps(x, weight(), None, 1, 2, 1, 4)


def test_a_kernel_row_reads_the_input_where_some_output_position_puts_it_over_the_map():
    # 5 taps over a 2-pixel map padded by 2, 2 outputs: rows 1-3 reach the map, 0 and 4 only padding.
    assert [touches_input(tap, 1, 2, 2, 2) for tap in range(5)] == [False, True, True, True, False]
    # stride 2 over 7 padded pixels with padding 0 (padded beforehand): every tap reads the input.
    assert all(touches_input(tap, 2, 2, 0, 7) for tap in range(5))


class Depthwise(nn.Module):
    def __init__(self):
        super().__init__()
        self.dw = nn.Conv2d(3, 3, 5, padding=2, groups=3, bias=False)
        self.out = nn.Linear(3 * 2 * 2, 10)

    def forward(self, x):
        return self.out(self.dw(F.adaptive_avg_pool2d(x, 2)).flatten(1))


def test_an_epoch_trains_depthwise_weights_through_the_tap_sums(params, monkeypatch):  # noqa: F811
    used = []
    original = depthwise.tap_weight_grad
    monkeypatch.setattr(depthwise, "tap_weight_grad", lambda *args: used.append(1) or original(*args))
    recipe = Recipe.from_params({**params["model"], "epochs": 1, "batch_size": 20})
    data = dataclasses.replace(tiny_data(recipe), pipeline=ThreeChannels())
    trainer = make_trainer(Depthwise(), len(data.train_idx), recipe, CPU, Recorder(), "depthwise")
    train_one_epoch(trainer, data, torch.Generator().manual_seed(0), epoch=1)
    assert len(used) == 2  # 40 images in batches of 20
