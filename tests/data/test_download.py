import contextlib
import gzip
import http.server
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from fmnist.data import download
from fmnist.data.download import PAYLOAD_SHA256, download_dataset, fetch_file, verify_payload
from fmnist.errors import PipelineError

NAME = "train-images-idx3-ubyte"
LABELS = "t10k-labels-idx1-ubyte"  # payload 10,008 bytes: its gzip can take at most 11,042
DRIP_S = 0.05  # a slow server sends one byte this often: no single read ever waits long
SERVER_GIVES_UP_S = 6.0  # and stops after this long, so a test of a client with no deadline fails, not hangs


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


@contextlib.contextmanager
def serving(respond):
    """A local HTTP server answering every GET with `respond(handler, stop)`; yields its base URL."""
    stop = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            with contextlib.suppress(OSError):  # the client hung up
                respond(self, stop)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()  # quick to shut down
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def serve(monkeypatch):
    """`serving`, reached directly even where the environment names an HTTP proxy."""
    monkeypatch.setenv("no_proxy", "*")
    return serving


def drip(handler, data: bytes, stop: threading.Event) -> None:
    end = time.monotonic() + SERVER_GIVES_UP_S
    for byte in data:
        if stop.wait(DRIP_S) or time.monotonic() > end:
            return
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()


def drip_body(handler, stop):
    handler.send_response(200)
    handler.send_header("Content-Length", "10000")
    handler.end_headers()
    drip(handler, bytes(10_000), stop)


def drip_headers(handler, stop):
    drip(handler, b"HTTP/1.0 200 OK\r\nX-Padding: " + b"a" * 10_000, stop)


def fetch_within_deadline(urls, timeout_s=0.5):
    """fetch_file of one attempt per URL, asserting that it ends within a second of its deadline."""
    start = time.monotonic()
    try:
        return fetch_file(NAME, [], urls, retries=0, timeout_s=timeout_s)
    finally:
        assert time.monotonic() - start < timeout_s * len(urls) + 1


@pytest.mark.parametrize("respond", [drip_body, drip_headers], ids=["body", "headers"])
def test_a_server_dripping_bytes_is_given_up_at_the_deadline(serve, respond):
    with serve(respond) as url, pytest.raises(PipelineError) as err:
        fetch_within_deadline([url])
    message = str(err.value)
    assert f"{url}{NAME}.gz: not downloaded within download.timeout_s = 0.5 s (" in message
    assert "bytes received); raise `download.timeout_s` in params.yaml" in message
    if respond is drip_body:
        assert "(0 bytes received)" not in message


def test_a_url_past_its_deadline_falls_through_to_the_next_source(serve, mirror):
    with serve(drip_body) as url:
        data, origin = fetch_within_deadline([url, mirror.as_uri()])
    assert origin == f"{mirror.as_uri()}/{NAME}.gz"


def test_a_huge_content_length_is_refused_before_reading(serve):
    def huge(handler, stop):
        handler.send_response(200)
        handler.send_header("Content-Length", str(10**12))
        handler.end_headers()
        stop.wait(SERVER_GIVES_UP_S)  # sends nothing: a client that reads waits for its deadline

    start = time.monotonic()
    with serve(huge) as url, pytest.raises(PipelineError) as err:
        fetch_file(LABELS, [], [url], retries=0, timeout_s=2)
    assert time.monotonic() - start < 1
    assert f"{url}{LABELS}.gz: announces 1,000,000,000,000 bytes (Content-Length), more than the 11,042" in str(
        err.value
    )


def test_a_response_longer_than_the_file_can_be_is_cut_off(serve):
    def endless(handler, stop):  # HTTP/1.0 without a Content-Length: the body runs until the connection closes
        handler.send_response(200)
        handler.end_headers()
        for _ in range(1000):
            if stop.is_set():
                return
            handler.wfile.write(bytes(1 << 16))

    with serve(endless) as url, pytest.raises(PipelineError) as err:
        fetch_file(LABELS, [], [url], retries=0, timeout_s=5)
    assert f"{url}{LABELS}.gz: sends more than the 11,042 bytes a gzip of {LABELS} can take" in str(err.value)


@pytest.mark.parametrize(
    "payload_bytes, message",
    [(10_008, "checksum mismatch"), (10_009, "decompresses to more than 10,008 bytes (expected 10,008)")],
    ids=["the-known-size", "one-byte-more"],
)
def test_a_payload_longer_than_the_known_size_is_refused(tmp_path, mirror, payload_bytes, message):
    path = mirror / f"{LABELS}.gz"
    path.write_bytes(gzip.compress(bytes(payload_bytes)))
    with pytest.raises(PipelineError) as err:
        run(tmp_path / "out", [mirror])
    assert f"{path}: {message}" in str(err.value)


def test_a_gzip_of_several_members_is_read_whole_as_gzip_reads_it(tmp_path, mirror):
    path = mirror / f"{NAME}.gz"
    payload = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(payload[:1000]) + bytes(8) + gzip.compress(payload[1000:]))
    assert run(tmp_path / "out", [mirror])[NAME] == str(path)


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


def test_a_mirror_file_bigger_than_the_file_can_be_is_refused_unread(tmp_path, mirror):
    path = mirror / f"{LABELS}.gz"
    path.write_bytes(bytes(11_043))
    with pytest.raises(PipelineError) as err:
        run(tmp_path / "out", [mirror])
    assert f"{path}: 11,043 bytes, more than the 11,042 a gzip of {LABELS} can take" in str(err.value)
