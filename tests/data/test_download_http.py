"""Reading a URL: over HTTP nothing the server sends, or fails to send, is trusted; each attempt ends at its
deadline, and what is read stops at what the real file can take (local test servers play the misbehaving ones)."""

import contextlib
import http.server
import socket
import threading
import time

import pytest

from fmnist.data.download import _Deadline, fetch_file
from fmnist.errors import PipelineError

NAME = "train-images-idx3-ubyte"
LABELS = "t10k-labels-idx1-ubyte"  # payload 10,008 bytes: its gzip can take at most 11,042
LABELS_GZ_LIMIT = 11_042
DRIP_S = 0.05  # a slow server sends one byte this often: no single read ever waits long
SERVER_GIVES_UP_S = 6.0  # and stops after this long, so a test of a client with no deadline fails, not hangs


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
    assert (
        "bytes received); raise `download.timeout_s` in params.yaml for a slow network, or put the file in a folder "
        "listed in `download.mirrors`\n" in message
    )
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
    assert (
        f"\n  {url}{LABELS}.gz: announces 1,000,000,000,000 bytes (Content-Length), more than the 11,042 a gzip of "
        f"{LABELS} can take: not the Fashion-MNIST file; check `download.urls` in params.yaml\n" in str(err.value)
    )


@pytest.mark.parametrize(
    "piece_bytes, pause_s", [(1 << 16, 0), (1000, 0.02)], ids=["in-big-writes", "in-pieces-each-within-the-limit"]
)
def test_a_response_longer_than_the_file_can_be_is_cut_off(serve, piece_bytes, pause_s):
    def endless(handler, stop):  # HTTP/1.0 without a Content-Length: the body runs until the connection closes
        handler.send_response(200)
        handler.end_headers()
        for _ in range(1000):
            if stop.wait(pause_s):
                return
            handler.wfile.write(bytes(piece_bytes))
            handler.wfile.flush()

    with serve(endless) as url, pytest.raises(PipelineError) as err:
        fetch_file(LABELS, [], [url], retries=0, timeout_s=5)
    assert (
        f"\n  {url}{LABELS}.gz: sends more than the 11,042 bytes a gzip of {LABELS} can take: not the Fashion-MNIST "
        "file; check `download.urls` in params.yaml\n" in str(err.value)
    )


def body(data: bytes, content_length: int | None):
    """A response sending `data` and announcing `content_length` (none: the body ends when the connection closes)."""

    def respond(handler, stop):
        handler.send_response(200)
        if content_length is not None:
            handler.send_header("Content-Length", str(content_length))
        handler.end_headers()
        handler.wfile.write(data)

    return respond


@pytest.mark.parametrize("announced", [LABELS_GZ_LIMIT, None], ids=["announced", "unannounced"])
def test_a_response_of_exactly_what_the_file_can_take_is_read_and_verified(serve, announced):
    with serve(body(bytes(LABELS_GZ_LIMIT), announced)) as url, pytest.raises(PipelineError) as err:
        fetch_file(LABELS, [], [url], retries=0, timeout_s=5)
    assert f"\n  {url}{LABELS}.gz: not a gzip file\n" in str(err.value)  # read whole, then checked


def test_a_connection_closed_before_the_announced_length_is_reported(serve):
    with serve(body(bytes(10), 100)) as url, pytest.raises(PipelineError) as err:
        fetch_file(LABELS, [], [url], retries=0, timeout_s=5)
    assert f"\n  {url}{LABELS}.gz: connection closed after 10 of 100 bytes\n" in str(err.value)


def test_a_reply_that_is_not_http_is_reported_as_such(serve):
    def nonsense(handler, stop):
        handler.wfile.write(b"NONSENSE\r\n\r\n")

    with serve(nonsense) as url, pytest.raises(PipelineError) as err:
        fetch_file(LABELS, [], [url], retries=0, timeout_s=5)
    assert f"\n  {url}{LABELS}.gz: not a valid HTTP response (BadStatusLine(" in str(err.value)


def test_the_progress_bar_names_the_file_counts_bytes_and_is_gone_when_done(serve, capsys):
    with serve(body(bytes(LABELS_GZ_LIMIT), LABELS_GZ_LIMIT)) as url, pytest.raises(PipelineError):
        fetch_file(LABELS, [], [url], retries=0, timeout_s=5)
    shown = capsys.readouterr().err
    assert f"\r{LABELS}.gz:   0%|          | 0.00/11.0k [00:00<?, ?B/s]" in shown
    assert shown.endswith("\r") and shown.rsplit("\r", 2)[-2].isspace()  # the bar's line blanked at the end


def test_a_server_that_never_accepts_the_connection_is_given_up_at_the_deadline(serve):
    """Its accept queue is full, so the connection is never made: the socket timeout ends the wait (the deadline
    shuts down only the sockets it knows of). The attempt runs in a thread, so that a client waiting for good fails
    here at once; closing the server then ends its wait."""
    failure = []

    def attempt():
        with pytest.raises(PipelineError) as err:
            fetch_file(NAME, [], [url], retries=0, timeout_s=0.5)
        failure.append(str(err.value))

    with socket.create_server(("127.0.0.1", 0), backlog=0) as server:
        url = f"http://127.0.0.1:{server.getsockname()[1]}/"
        with socket.create_connection(server.getsockname()):  # the one connection its queue holds
            thread = threading.Thread(target=attempt, daemon=True)
            thread.start()
            thread.join(1.5)
            assert not thread.is_alive(), "the attempt is still waiting for the connection"
    assert f"{url}{NAME}.gz: not downloaded within download.timeout_s = 0.5 s (0 bytes received)" in failure[0]


def test_sockets_are_shut_down_when_the_deadline_comes_even_those_opened_after_it():
    """A shut-down socket reads as closed at once, which ends any read waiting on it."""
    early, early_peer = socket.socketpair()
    late, late_peer = socket.socketpair()
    unconnected = socket.socket()
    with early, early_peer, late, late_peer, unconnected, _Deadline(0.05) as deadline:
        early.settimeout(5)
        late.settimeout(1)
        assert deadline.watch(early).recv(1) == b""  # waits for the deadline
        assert deadline.watch(late).recv(1) == b""
        assert deadline.watch(unconnected) is unconnected  # not connected: nothing to shut down, and no error
