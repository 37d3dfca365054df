import errno
import gzip
import logging
import shutil
from pathlib import Path

import pytest

from fmnist.data import download
from fmnist.data.download import PAYLOAD_SHA256, download_dataset, fetch_file
from fmnist.errors import PipelineError

NAME = "train-images-idx3-ubyte"
LABELS = "t10k-labels-idx1-ubyte"  # payload 10,008 bytes: its gzip can take at most 11,042
REMEDY = (
    "Install the Debian package dataset-fashion-mnist (it fills /usr/share/datasets/fashion-mnist), put the files in a "
    "folder listed in params.yaml `download.mirrors`, or allow network access to a URL in `download.urls`."
)


def run(dest: Path, mirrors, urls=(), retries=1):
    return download_dataset(dest, [str(m) for m in mirrors], list(urls), retries, timeout_s=5)


def test_all_four_files_come_from_the_mirror_byte_for_byte(tmp_path, mirror):
    sources = run(tmp_path / "out", [mirror])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(f"{n}.gz" for n in PAYLOAD_SHA256)
    assert all(src.startswith(str(mirror)) for src in sources.values())
    for name in PAYLOAD_SHA256:  # the verified .gz as it is: not re-compressed, not decompressed
        assert (tmp_path / "out" / f"{name}.gz").read_bytes() == (mirror / f"{name}.gz").read_bytes(), name


def test_a_corrupt_copy_in_the_first_mirror_falls_through_to_a_good_second_mirror(tmp_path, mirror):
    first = tmp_path / "corrupt"
    first.mkdir()
    good = (mirror / f"{NAME}.gz").read_bytes()
    bad = gzip.compress(gzip.decompress(good)[:-1] + b"\x01")  # a valid gzip stream, the wrong payload
    (first / f"{NAME}.gz").write_bytes(bad)
    sources = run(tmp_path / "out", [first, mirror])
    assert sources[NAME] == str(mirror / f"{NAME}.gz")
    assert (tmp_path / "out" / f"{NAME}.gz").read_bytes() == good


def test_mirror_lacking_a_file_falls_through_to_the_next(tmp_path, mirror):
    first = tmp_path / "partial"
    first.mkdir()
    (first / "t10k-labels-idx1-ubyte.gz").write_bytes((mirror / "t10k-labels-idx1-ubyte.gz").read_bytes())
    sources = run(tmp_path / "out", [first, mirror])
    assert sources["t10k-labels-idx1-ubyte"] == str(first / "t10k-labels-idx1-ubyte.gz")
    assert sources[NAME] == str(mirror / f"{NAME}.gz")


def test_url_source_is_used_when_no_mirror_has_the_file(tmp_path, mirror):
    sources = run(tmp_path / "out", [tmp_path / "empty"], urls=[mirror.as_uri()])
    assert sources[NAME] == f"{mirror.as_uri()}/{NAME}.gz"


@pytest.mark.parametrize("slash", ["", "/"], ids=["bare", "trailing-slash"])
def test_a_url_and_the_file_name_are_joined_by_one_slash(tmp_path, mirror, slash):
    folder = tmp_path / "FASHION-MNIST-X"  # only slashes are trimmed from the end of a URL, not its letters
    shutil.copytree(mirror, folder)
    sources = run(tmp_path / "out", [], urls=[folder.as_uri() + slash])
    assert sources[NAME] == f"{folder.as_uri()}/{NAME}.gz"


def test_failing_url_is_retried_once_then_the_next_source_is_tried(tmp_path, mirror, monkeypatch, caplog):
    calls, pauses = [], []
    real_read_url = download.read_url

    def flaky(base_url, name, timeout_s):
        calls.append(base_url)
        return real_read_url(base_url, name, timeout_s)

    monkeypatch.setattr(download, "read_url", flaky)
    monkeypatch.setattr(download.time, "sleep", pauses.append)
    missing = (tmp_path / "nowhere").as_uri()
    with caplog.at_level(logging.WARNING, logger=download.__name__):
        data, origin = fetch_file(NAME, [], [missing, mirror.as_uri()], retries=1, timeout_s=5)
    assert calls == [missing, missing, mirror.as_uri()]
    assert origin.startswith(mirror.as_uri())
    assert pauses == [1]  # a second between the two tries of one URL, none before the next source
    [retry] = caplog.messages
    assert retry.startswith(f"retrying {NAME}.gz after: download: <urlopen error [Errno 2] No such file or directory")


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda gz: gz[: len(gz) // 2], "truncated gzip stream"),
        (lambda gz: b"this is not gzip data", "not a gzip file"),
        (lambda gz: gzip.compress(gzip.decompress(gz)[:-1] + b"\x01"), "checksum mismatch"),
    ],
    ids=["truncated", "not-gzip", "checksum"],
)
def test_bad_file_stops_with_its_name_and_leaves_no_output(tmp_path, mirror, corrupt, message):
    path = mirror / f"{NAME}.gz"
    path.write_bytes(corrupt(path.read_bytes()))
    dest = tmp_path / "out"
    with pytest.raises(PipelineError) as err:
        run(dest, [mirror])
    assert str(err.value).count(f"\n  {path}: {message}") == 1  # a mirror is tried once
    assert str(err.value).endswith(f"\n{REMEDY}")  # says how to fix it
    assert not dest.exists() or not any(dest.iterdir())


def test_no_sources_at_all_is_a_clear_error(tmp_path, mirror):
    with pytest.raises(PipelineError) as err:
        run(tmp_path / "out", [])
    assert str(err.value) == (
        f"could not get a verified copy of {NAME}.gz:\n"
        "  no sources configured (download.mirrors and download.urls are empty)\n" + REMEDY
    )


def test_the_error_lists_what_each_source_said_one_a_line_then_the_fixes(tmp_path):
    empty, missing = tmp_path / "empty", tmp_path / "nowhere"
    empty.mkdir()
    with pytest.raises(PipelineError) as err:
        fetch_file(LABELS, [str(empty)], [missing.as_uri(), "no-scheme"], retries=0, timeout_s=5)
    heading, absent, url_missing, unknown, remedy = str(err.value).split("\n")
    assert heading == f"could not get a verified copy of {LABELS}.gz:"
    assert absent == f"  {empty / LABELS}.gz: not present"
    assert url_missing == f"  download: <urlopen error [Errno 2] No such file or directory: '{missing / LABELS}.gz'>"
    assert unknown == f"  download: unknown url type: 'no-scheme/{LABELS}.gz'"
    assert remedy == REMEDY


def test_a_mirror_file_that_cannot_be_read_is_named_with_the_reason(mirror, monkeypatch):
    path = mirror / f"{LABELS}.gz"
    read_bytes = Path.read_bytes

    def denied(self):
        if self == path:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(PipelineError) as err:
        fetch_file(LABELS, [str(mirror)], [], retries=0, timeout_s=5)
    assert f"\n  {path}: [Errno 13] Permission denied: '{path}'\n" in str(err.value)


def test_each_verified_file_is_logged_with_its_source(tmp_path, mirror, caplog):
    with caplog.at_level(logging.INFO, logger=download.__name__):
        run(tmp_path / "out", [mirror])
    assert caplog.messages == [f"{name}.gz verified (from {mirror / name}.gz)" for name in PAYLOAD_SHA256]


def test_a_mirror_under_the_home_folder_may_be_written_with_a_tilde(tmp_path, mirror, monkeypatch):
    monkeypatch.setenv("HOME", str(mirror.parent))
    sources = run(tmp_path / "out", [f"~/{mirror.name}"])
    assert sources[NAME] == str(mirror / f"{NAME}.gz")


@pytest.mark.parametrize(
    "size, message",
    [
        (11_042, "not a gzip file"),  # as big as a gzip of the file can be: read, then checked
        (
            11_043,
            f"11,043 bytes, more than the 11,042 a gzip of {LABELS} can take: not the Fashion-MNIST file; replace or "
            "remove it",
        ),
    ],
    ids=["the-most-it-can-take", "one-byte-more"],
)
def test_a_mirror_file_bigger_than_the_file_can_be_is_refused_unread(tmp_path, mirror, size, message):
    path = mirror / f"{LABELS}.gz"
    path.write_bytes(bytes(size))
    with pytest.raises(PipelineError) as err:
        run(tmp_path / "out", [mirror])
    assert f"\n  {path}: {message}\n" in str(err.value)
