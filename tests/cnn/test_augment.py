"""The small nets' training augmentation: padded crops, flips and random erasing, each drawn from the generator
(the same seed gives the same batch), and erasing off draws nothing (earlier runs' batches stay as they were)."""

import torch

from fmnist.cnn.augment import ERASE_SCALE, SmallNetInput, random_crop, random_erase, random_flip, translate


def images(n: int = 64) -> torch.Tensor:
    return torch.randint(1, 256, (n, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))


def test_crops_are_shifted_windows_of_the_zero_padded_image():
    x = images(32)
    cropped = random_crop(x, 2, torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for image, crop in zip(padded, cropped, strict=True):
        windows = [image[dy : dy + 28, dx : dx + 28] for dy in range(5) for dx in range(5)]
        assert any(torch.equal(crop, w) for w in windows)
    assert not torch.equal(cropped, x)


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
    assert torch.equal(up_left[:, :-2, :-2], x[:, 2:, 2:]) and not up_left[:, -2:].any()
    assert torch.equal(translate(x, 0), x)
