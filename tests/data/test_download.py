import gzip
from pathlib import Path

import pytest

from fmnist.data import download
from fmnist.data.download import PAYLOAD_SHA256, download_dataset, fetch_file
from fmnist.errors import PipelineError

NAME = "train-images-idx3-ubyte"


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


def test_failing_url_is_retried_once_then_the_next_source_is_tried(tmp_path, mirror, monkeypatch):
    calls = []
    real_read_url = download.read_url

    def flaky(base_url, name, timeout_s):
        calls.append(base_url)
        return real_read_url(base_url, name, timeout_s)

    monkeypatch.setattr(download, "read_url", flaky)
    monkeypatch.setattr(download.time, "sleep", lambda s: None)
    missing = (tmp_path / "nowhere").as_uri()
    data, origin = fetch_file(NAME, [], [missing, mirror.as_uri()], retries=1, timeout_s=5)
    assert calls == [missing, missing, mirror.as_uri()]
    assert origin.startswith(mirror.as_uri())


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
    assert f"{path}: {message}" in str(err.value)
    assert "dataset-fashion-mnist" in str(err.value)  # says how to fix it
    assert not dest.exists() or not any(dest.iterdir())


def test_no_sources_at_all_is_a_clear_error(tmp_path, mirror):
    with pytest.raises(PipelineError, match="download.mirrors and download.urls are empty"):
        run(tmp_path / "out", [])


def test_a_mirror_under_the_home_folder_may_be_written_with_a_tilde(tmp_path, mirror, monkeypatch):
    monkeypatch.setenv("HOME", str(mirror.parent))
    sources = run(tmp_path / "out", [f"~/{mirror.name}"])
    assert sources[NAME] == str(mirror / f"{NAME}.gz")
