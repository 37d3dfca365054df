"""A downloaded .gz is verified by its payload: a whole gzip stream (of one or more members, as gzip reads them),
decompressed no further than the known size, with the known checksum."""

import gzip
import tracemalloc

import pytest

from fmnist.data.download import INFLATE_BYTES, _inflate, fetch_file, verify_payload
from fmnist.errors import PipelineError

NAME = "train-images-idx3-ubyte"
LABELS = "t10k-labels-idx1-ubyte"  # payload 10,008 bytes


def fetch_from(mirror, name):
    return fetch_file(name, [str(mirror)], [], retries=0, timeout_s=5)


@pytest.mark.parametrize(
    "gz, message",
    [
        (gzip.compress(bytes(10_008)), "checksum mismatch"),
        (gzip.compress(bytes(10_009)), "decompresses to more than 10,008 bytes (expected 10,008)"),
        (gzip.compress(bytes(5_000)) + gzip.compress(bytes(5_009)), "decompresses to more than 10,008 bytes"),
    ],
    ids=["the-known-size", "one-byte-more", "one-byte-more-over-two-members"],
)
def test_a_payload_longer_than_the_known_size_is_refused(mirror, gz, message):
    path = mirror / f"{LABELS}.gz"
    path.write_bytes(gz)
    with pytest.raises(PipelineError) as err:
        fetch_from(mirror, LABELS)
    assert f"{path}: {message}" in str(err.value)


@pytest.mark.parametrize(
    "padding, last", [(bytes(8), b""), (b"", gzip.compress(b""))], ids=["zero-padding", "an-empty-last-member"]
)
def test_a_gzip_of_several_members_is_read_whole_as_gzip_reads_it(mirror, padding, last):
    path = mirror / f"{NAME}.gz"
    payload = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(payload[:1000]) + padding + gzip.compress(payload[1000:]) + last)
    assert gzip.decompress(path.read_bytes()) == payload
    assert fetch_from(mirror, NAME)[1] == str(path)


@pytest.mark.parametrize("tail", [b"X", b"\0\0junk"], ids=["a-letter", "padding-then-junk"])
def test_bytes_after_the_gzip_stream_are_refused_as_gzip_refuses_them(mirror, tail):
    path = mirror / f"{NAME}.gz"
    path.write_bytes(path.read_bytes() + tail)
    with pytest.raises(gzip.BadGzipFile):
        gzip.decompress(path.read_bytes())
    with pytest.raises(PipelineError, match=f"{path}: not a gzip file"):
        fetch_from(mirror, NAME)


def test_a_stream_cut_within_its_gzip_header_is_truncated():
    with pytest.raises(PipelineError, match=r"^x\.gz: truncated gzip stream \(the file ends early\)$"):
        verify_payload(LABELS, gzip.compress(bytes(100))[:10], "x.gz")


def test_corrupted_deflate_data_is_reported_with_zlib_s_reason():
    gz = gzip.compress(bytes(100))
    broken = gz[:10] + b"\xff" + gz[11:]  # the first block's type: 3, which deflate reserves
    with pytest.raises(PipelineError, match=r"^x\.gz: corrupted gzip data \(Error -3 .*invalid block type\)$"):
        verify_payload(LABELS, broken, "x.gz")


def test_decompression_stops_at_exactly_the_limit_however_many_steps_it_takes():
    gz = gzip.compress(bytes(3 * INFLATE_BYTES))
    for limit in (5, INFLATE_BYTES, INFLATE_BYTES + 5, 2 * INFLATE_BYTES + 1):
        assert sum(len(chunk) for chunk in _inflate(gz, limit)) == limit


def test_a_gzip_bomb_is_never_decompressed_beyond_the_known_size():
    bomb = gzip.compress(bytes(32 << 20))  # 32 MiB of zeros in 32 KiB
    tracemalloc.start()
    try:
        with pytest.raises(PipelineError, match="decompresses to more than 10,008 bytes"):
            verify_payload(LABELS, bomb, "bomb.gz")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
