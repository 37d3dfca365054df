"""The small nets' training augmentation: padded crops, flips and random erasing, each drawn from the generator
(the same seed gives the same batch), and erasing off draws nothing (earlier runs' batches stay as they were)."""

import numpy as np
import pytest
import torch
from scipy.stats import ks_2samp

from fmnist.cnn.augment import (
    ERASE_RATIO,
    ERASE_SCALE,
    FMNIST_MEAN,
    FMNIST_STD,
    RRC_RATIO,
    ImageNetInput,
    SmallNetInput,
    random_crop,
    random_erase,
    random_flip,
    random_resized_boxes,
    translate,
)


def images(n: int = 64) -> torch.Tensor:
    return torch.randint(1, 256, (n, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("padding", [1, 2])
def test_crops_are_shifted_windows_of_the_zero_padded_image_at_every_offset(padding):
    x = images(300)
    cropped = random_crop(x, padding, torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(x, (padding,) * 4)
    offsets = set()
    for image, crop in zip(padded, cropped, strict=True):
        shifts = range(2 * padding + 1)
        found = [(dy, dx) for dy in shifts for dx in shifts if torch.equal(crop, image[dy : dy + 28, dx : dx + 28])]
        assert len(found) == 1
        offsets.add(found[0])
    assert offsets == {(dy, dx) for dy in shifts for dx in shifts}  # from 0 to 2 x padding, both ends drawn


def test_flips_mirror_about_half_of_the_images():
    x = images(200)
    flipped = random_flip(x, torch.Generator().manual_seed(0))
    mirrored = [torch.equal(f, i.flip(-1)) for f, i in zip(flipped, x, strict=True)]
    kept = [torch.equal(f, i) for f, i in zip(flipped, x, strict=True)]
    assert all(m or k for m, k in zip(mirrored, kept, strict=True)) and 70 < sum(mirrored) < 130


def test_erasing_zeroes_one_rectangle_of_the_drawn_share_of_the_area():
    x = torch.ones(400, 1, 28, 28)
    erased = random_erase(x, 1.0, torch.Generator().manual_seed(0))
    for image in erased[:, 0]:
        rows, cols = torch.nonzero(image == 0, as_tuple=True)
        height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert len(rows) == height * width  # one filled rectangle
        share = len(rows) / (28 * 28)
        assert ERASE_SCALE[0] / 2 <= share <= ERASE_SCALE[1] * 1.2  # rounding and clipping to the image
    assert (
        0.2 < float((random_erase(x, 0.5, torch.Generator().manual_seed(0)) == 0).any(-1).any(-1).float().mean()) < 0.8
    )


def test_erased_rectangles_have_the_drawn_sides_and_offsets():
    """The erased rectangles' sides, areas and offsets are distributed as drawn by the spec: an area share uniform
    in ERASE_SCALE, a log aspect ratio uniform in ERASE_RATIO, sides rounded and clipped to the image, offsets
    uniform over the places it fits, so it never crosses the border (two-sample KS against those draws made with
    NumPy; the gaps below and right of it catch rectangles drawn partly outside)."""
    n, side = 3000, 28
    erased = random_erase(torch.ones(n, 1, side, side), 1.0, torch.Generator().manual_seed(0))[:, 0] == 0
    rows, cols = erased.any(2), erased.any(1)
    h, w, y1, x1 = rows.sum(1), cols.sum(1), rows.int().argmax(1), cols.int().argmax(1)
    measured = {"h": h, "w": w, "area": h * w, "y1": y1, "x1": x1, "below": side - y1 - h, "right": side - x1 - w}
    rng = np.random.default_rng(0)
    area = side * side * rng.uniform(*ERASE_SCALE, n)
    ratio = np.exp(rng.uniform(np.log(ERASE_RATIO[0]), np.log(ERASE_RATIO[1]), n))
    h, w = (np.clip(np.round(np.sqrt(area * r)), 1, side) for r in (ratio, 1 / ratio))
    y1, x1 = np.floor(rng.random(n) * (side - h + 1)), np.floor(rng.random(n) * (side - w + 1))
    drawn = {"h": h, "w": w, "area": h * w, "y1": y1, "x1": x1, "below": side - y1 - h, "right": side - x1 - w}
    for name, values in drawn.items():
        assert ks_2samp(measured[name].numpy(), values).pvalue > 1e-3, name


def test_the_same_seed_gives_the_same_batch_and_erasing_off_draws_nothing():
    x = images()
    pipeline = SmallNetInput(crop_padding=2, hflip=True, erase=0.5)
    first = pipeline.train(x, torch.Generator().manual_seed(3))
    assert torch.equal(first, pipeline.train(x, torch.Generator().manual_seed(3)))
    assert (first == 0).sum() > 0

    off, without = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    crops_and_flips = SmallNetInput(0, False).eval(random_flip(random_crop(x, 2, without), without))
    assert torch.equal(SmallNetInput(2, True, erase=0.0).train(x, off), crops_and_flips)
    assert torch.equal(off.get_state(), without.get_state())


def test_translate_moves_the_image_and_fills_the_border_with_background():
    x = images(4)
    down_right, up_left = translate(x, 2), translate(x, -2)
    assert torch.equal(down_right[:, 2:, 2:], x[:, :-2, :-2]) and not down_right[:, :2].any()
    assert not down_right[:, :, :2].any()
    assert torch.equal(translate(x, 1)[:, 1:, 1:], x[:, :-1, :-1])
    assert torch.equal(up_left[:, :-2, :-2], x[:, 2:, 2:]) and not up_left[:, -2:].any()
    assert torch.equal(translate(x, 0), x)


@pytest.mark.parametrize(("side", "scale_min"), [(28, 0.08), (2, 0.05)])  # 2 px: draws that round to 0 or 1 px
def test_random_resized_boxes_are_drawn_as_torchvisions_random_resized_crop_draws_them(side, scale_min):
    """The boxes' areas and aspect ratios have the distribution of torchvision's RandomResizedCrop (its ratio range,
    our scale_min), each box at least a pixel, inside the image at a uniform offset, and every draw comes from the
    generator given."""
    from torchvision.transforms import RandomResizedCrop

    n = 4000
    torch.manual_seed(0)
    boxes = random_resized_boxes(n, side, scale_min, torch.Generator().manual_seed(0))
    x1, y1, x2, y2 = boxes.T
    assert (x1 >= 0).all() and (y1 >= 0).all() and (x2 <= side).all() and (y2 <= side).all()
    assert (x2 >= x1 + 1).all() and (y2 >= y1 + 1).all() and torch.equal(boxes, boxes.floor())
    for start, length in ((x1, x2 - x1), (y1, y2 - y1)):  # each offset from 0 to side - length alike
        assert 0.45 < float((start / (side - length))[length < side].mean()) < 0.55
    # whole pixels on both sides, compared as integers: float32 and float64 copies of one area would not tie
    w, h = (x2 - x1).long().numpy(), (y2 - y1).long().numpy()
    draws = [
        RandomResizedCrop.get_params(torch.zeros(1, side, side), [scale_min, 1.0], list(RRC_RATIO)) for _ in range(n)
    ]
    their_w, their_h = np.array([(w, h) for _, _, h, w in draws]).T
    assert ks_2samp(w * h, their_w * their_h).pvalue > 0.05
    assert ks_2samp(np.log(w / h), np.log(their_w / their_h)).pvalue > 0.05
    if side == 28:  # whole images: torchvision 0.4 %, ours 0.2 %
        assert ((w == side) & (h == side)).mean() < 0.008

    torch.manual_seed(2)  # the global generator's state plays no part
    assert torch.equal(random_resized_boxes(n, side, scale_min, torch.Generator().manual_seed(0)), boxes)


def test_an_image_none_of_whose_draws_fits_gets_the_whole_image():
    """At scale 1 only aspect ratios within rounding of 1 fit, so most images fall back to the whole image."""
    boxes = random_resized_boxes(1000, 28, 1.0, torch.Generator().manual_seed(0))
    assert torch.equal(boxes, torch.tensor([[0.0, 0.0, 28.0, 28.0]]).expand(1000, 4))


def test_small_nets_see_the_image_normalised_with_fashion_mnists_mean_and_deviation():
    black_and_white = torch.tensor([0, 255], dtype=torch.uint8).view(2, 1, 1).expand(2, 28, 28)
    pipeline = SmallNetInput(crop_padding=0, hflip=False)
    x = pipeline.eval(black_and_white)
    assert x.shape == (2, 1, 28, 28)
    assert torch.allclose(x[:, 0, 0, 0], torch.tensor([-FMNIST_MEAN / FMNIST_STD, (1 - FMNIST_MEAN) / FMNIST_STD]))
    assert torch.equal(pipeline.train(black_and_white, torch.Generator()), x)  # nothing drawn: the same input


def test_backbones_see_the_image_resized_to_three_channels_each_normalised_with_its_own_mean_and_deviation():
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 0.125)
    pipeline = ImageNetInput(size=40, crop_scale_min=1.0, hflip=False, mean=mean, std=std)
    batch = images(4)
    x = pipeline.eval(batch)
    resized = torch.nn.functional.interpolate(batch.float()[:, None] / 255, size=40, mode="bilinear")
    expected = (resized.expand(-1, 3, -1, -1) - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(
        1, 3, 1, 1
    )
    assert x.shape == (4, 3, 40, 40) and torch.allclose(x, expected, atol=1e-6)
    assert torch.equal(pipeline.train(batch, torch.Generator()), x)  # crops, flips and erasing off: the same input


def test_backbones_train_on_the_drawn_boxes_each_resized_to_the_input_size():
    """A horizontal gradient (9 grey levels a pixel): the middle of each crop, resized, has the gradient's value at
    its box's centre (pixel centres at .5, as torchvision's aligned crops take them), and its columns step by the
    box's width over the input size."""
    gradient = (torch.arange(28) * 9).to(torch.uint8).expand(6, 28, 28)
    pipeline = ImageNetInput(size=16, crop_scale_min=0.08, hflip=False, mean=(0.0,) * 3, std=(1.0,) * 3)
    x = pipeline.train(gradient, torch.Generator().manual_seed(3))
    boxes = random_resized_boxes(6, 28, 0.08, torch.Generator().manual_seed(3))
    assert x.shape == (6, 3, 16, 16) and len(set(boxes[:, 0].tolist())) > 1
    centre = ((boxes[:, 0] + boxes[:, 2]) / 2 - 0.5) * 9 / 255
    assert torch.allclose(x[:, :, :, 7:9].mean(dim=(1, 2, 3)), centre, atol=1e-5)
    step = (boxes[:, 2] - boxes[:, 0]) / 16 * 9 / 255
    assert torch.allclose(x[:, 0, 0, 8] - x[:, 0, 0, 7], step, atol=1e-5)


def test_backbone_crops_are_torchvisions_aligned_roi_align_with_two_by_two_samples():
    """Each output pixel is the mean of 2 x 2 bilinear samples of its bin, at pixel centres (aligned)."""
    from torchvision.ops import roi_align

    batch = images(6)
    pipeline = ImageNetInput(size=40, crop_scale_min=0.08, hflip=False, mean=(0.0,) * 3, std=(1.0,) * 3)
    x = pipeline.train(batch, torch.Generator().manual_seed(5))
    boxes = random_resized_boxes(6, 28, 0.08, torch.Generator().manual_seed(5))
    indexed = torch.cat([torch.arange(6.0)[:, None], boxes], dim=1)
    unit = batch.float()[:, None] / 255
    expected = roi_align(unit, indexed, output_size=40, spatial_scale=1.0, sampling_ratio=2, aligned=True)
    assert torch.allclose(x, expected.expand(-1, 3, -1, -1), atol=1e-6)


def test_backbone_training_flips_and_erases_with_the_generators_draws_alone():
    """Flips mirror about half the images; erasing draws from the generator given, so the same seed gives the same
    batch whatever torch's global generator holds."""
    batch = images(64)
    plain = ImageNetInput(size=28, crop_scale_min=1.0, hflip=False, mean=(0.0,) * 3, std=(1.0,) * 3).eval(batch)
    flipping = ImageNetInput(size=28, crop_scale_min=1.0, hflip=True, mean=(0.0,) * 3, std=(1.0,) * 3)
    erasing = ImageNetInput(size=28, crop_scale_min=1.0, hflip=False, mean=(0.0,) * 3, std=(1.0,) * 3, erase=1.0)
    flipped, erased = [], []
    for global_seed in (0, 1):
        torch.manual_seed(global_seed)
        flipped.append(flipping.train(batch, torch.Generator().manual_seed(2)))
        erased.append(erasing.train(batch, torch.Generator().manual_seed(2)))
    assert torch.equal(*flipped) and torch.equal(*erased)
    x = flipped[0]
    mirrored = [torch.equal(x[i], plain[i].flip(-1)) for i in range(64)]
    assert all(m or torch.equal(x[i], plain[i]) for i, m in enumerate(mirrored)) and 16 < sum(mirrored) < 48
    assert (erased[0] == 0).any() and not (plain == 0).any()
