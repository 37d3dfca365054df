import gzip
from pathlib import Path

import numpy as np
import pytest

from fmnist.data.idx import IMAGE_MAGIC, LABEL_MAGIC, load_split, parse_idx
from fmnist.errors import PipelineError
from tests.support.idx_files import idx_bytes, synthetic_split


def write_gz(path: Path, payload: bytes) -> Path:
    path.write_bytes(gzip.compress(payload))
    return path


def test_parse_round_trips_images_and_labels():
    images, labels = synthetic_split(30, seed=3)
    assert np.array_equal(parse_idx(idx_bytes(images, IMAGE_MAGIC), "x", IMAGE_MAGIC), images)
    assert np.array_equal(parse_idx(idx_bytes(labels, LABEL_MAGIC), "y", LABEL_MAGIC), labels)


def test_load_split_gives_uint8_images_and_int_labels(raw_dir):
    images, labels = load_split(raw_dir / "train-images-idx3-ubyte.gz", raw_dir / "train-labels-idx1-ubyte.gz")
    assert images.shape == (200, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (200,) and labels.dtype == np.int64
    assert set(labels.tolist()) == set(range(10))


def test_an_idx_file_may_hold_no_items():
    assert parse_idx(idx_bytes(np.zeros(0, np.uint8), LABEL_MAGIC), "y", LABEL_MAGIC).shape == (0,)


def test_a_payload_shorter_than_the_header_is_reported_with_its_length():
    with pytest.raises(PipelineError, match=r"^y: too short for an IDX header \(7 bytes\)$"):
        parse_idx(idx_bytes(np.zeros(0, np.uint8), LABEL_MAGIC)[:-1], "y", LABEL_MAGIC)


def test_a_png_in_place_of_the_idx_file_shows_its_magic_number_as_found():
    png = b"\x89PNG\r\n\x1a\n" + bytes(8)  # the high bit of its first byte set
    with pytest.raises(PipelineError, match=r"^x: wrong IDX magic number 0x89504e47, expected 0x00000803$"):
        parse_idx(png, "x", IMAGE_MAGIC)


def test_a_missing_file_says_which_stage_makes_it(tmp_path, raw_dir):
    missing = tmp_path / "img.gz"
    with pytest.raises(PipelineError) as err:
        load_split(missing, raw_dir / "train-labels-idx1-ubyte.gz")
    assert str(err.value) == f"{missing}: not found; run the download stage first (`dvc repro download`)"


def test_wrong_magic_number_names_the_file(tmp_path):
    images, labels = synthetic_split(5, seed=0)
    bad = write_gz(tmp_path / "img.gz", b"\x00\x00\x08\x04" + idx_bytes(images, IMAGE_MAGIC)[4:])
    lab = write_gz(tmp_path / "lab.gz", idx_bytes(labels, LABEL_MAGIC))
    with pytest.raises(PipelineError, match=r"img\.gz: wrong IDX magic number 0x00000804, expected 0x00000803"):
        load_split(bad, lab)


def test_truncated_payload_is_reported_with_lengths(tmp_path):
    images, labels = synthetic_split(5, seed=0)
    img = write_gz(tmp_path / "img.gz", idx_bytes(images, IMAGE_MAGIC)[:-10])
    lab = write_gz(tmp_path / "lab.gz", idx_bytes(labels, LABEL_MAGIC))
    with pytest.raises(PipelineError, match=r"img\.gz: wrong length: header says 5 x 28 x 28"):
        load_split(img, lab)


def test_extra_bytes_are_rejected(tmp_path):
    images, labels = synthetic_split(5, seed=0)
    img = write_gz(tmp_path / "img.gz", idx_bytes(images, IMAGE_MAGIC))
    lab = write_gz(tmp_path / "lab.gz", idx_bytes(labels, LABEL_MAGIC) + b"\x00")
    with pytest.raises(PipelineError, match=r"lab\.gz: wrong length"):
        load_split(img, lab)


def test_image_and_label_counts_must_agree(tmp_path):
    images, labels = synthetic_split(5, seed=0)
    img = write_gz(tmp_path / "img.gz", idx_bytes(images, IMAGE_MAGIC))
    lab = write_gz(tmp_path / "lab.gz", idx_bytes(labels[:4], LABEL_MAGIC))
    with pytest.raises(PipelineError) as err:
        load_split(img, lab)
    assert str(err.value) == (f"{img} has 5 images but {lab} has 4 labels; the two files must come from the same split")


def test_label_ten_is_out_of_range(tmp_path):
    images, labels = synthetic_split(5, seed=0)
    labels[3] = 10
    img = write_gz(tmp_path / "img.gz", idx_bytes(images, IMAGE_MAGIC))
    lab = write_gz(tmp_path / "lab.gz", idx_bytes(labels, LABEL_MAGIC))
    with pytest.raises(PipelineError, match=r"lab\.gz: label 10 at index 3 is out of range 0-9"):
        load_split(img, lab)


def test_images_must_be_28_by_28(tmp_path):
    images = np.zeros((5, 28, 27), dtype=np.uint8)
    _, labels = synthetic_split(5, seed=0)
    img = write_gz(tmp_path / "img.gz", idx_bytes(images, IMAGE_MAGIC))
    lab = write_gz(tmp_path / "lab.gz", idx_bytes(labels, LABEL_MAGIC))
    with pytest.raises(PipelineError, match=r"img\.gz: images are 28 x 27, expected 28 x 28"):
        load_split(img, lab)


@pytest.mark.parametrize(
    "content, message",
    [(b"plain text, not gzip", "not a gzip file"), (None, "truncated or corrupted gzip stream")],
)
def test_broken_gzip_is_reported(tmp_path, content, message):
    images, labels = synthetic_split(5, seed=0)
    img = tmp_path / "img.gz"
    img.write_bytes(content if content is not None else gzip.compress(idx_bytes(images, IMAGE_MAGIC))[:-20])
    lab = write_gz(tmp_path / "lab.gz", idx_bytes(labels, LABEL_MAGIC))
    with pytest.raises(PipelineError, match=rf"img\.gz: {message}"):
        load_split(img, lab)
