"""Fetching the four Fashion-MNIST IDX files from local mirrors or URLs, each verified by checksum.

The SHA-256 is of the decompressed payload: the .gz bytes differ between mirrors, the payload does not.
Nothing a source sends is trusted to be small or quick: each attempt at a URL has a deadline, and what is read
or decompressed stops at what the real file can take (a gzip bomb in a mirror once took 6.4 GB of memory).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from fmnist.atomic import staged_outputs
from fmnist.errors import PipelineError

log = logging.getLogger(__name__)

PAYLOAD_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
# The size of each decompressed payload: it bounds what is downloaded and decompressed.
PAYLOAD_BYTES = {
    "train-images-idx3-ubyte": 47_040_016,
    "train-labels-idx1-ubyte": 60_008,
    "t10k-images-idx3-ubyte": 7_840_016,
    "t10k-labels-idx1-ubyte": 10_008,
}
GZIP_MAGIC = b"\x1f\x8b"
READ_BYTES = 1 << 16  # the most one network read asks for
INFLATE_BYTES = 1 << 20  # the most one decompression step produces


class SourceMissing(Exception):
    """The source does not have the file: not an error, the next source is tried."""


def gz_name(name: str) -> str:
    return f"{name}.gz"


def max_gz_bytes(name: str) -> int:
    """The most bytes a gzip of `name` can take: deflate adds 5 bytes per 64 KiB block even to incompressible
    data, gzip an 18-byte header and trailer (plus an optional file name); anything bigger is not that file."""
    payload = PAYLOAD_BYTES[name]
    return payload + payload // 1000 + 1024


def _inflate(gz_bytes: bytes, limit: int) -> Iterator[bytes]:
    """The payload of a gzip stream (of one or more members, as gzip.decompress reads them), a chunk at a time,
    ending once `limit` bytes have come out: zlib's `max_length` caps each step, so a gzip bomb costs `limit`
    bytes of work and at most one chunk of memory, not its full size.

    Raises gzip.BadGzipFile, EOFError (the stream ends early) or zlib.error (corrupted data).
    """
    rest, produced = gz_bytes, 0
    while True:
        if not rest.startswith(GZIP_MAGIC):
            raise gzip.BadGzipFile("not a gzip file")
        member = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        pending = rest
        while not member.eof:
            if produced >= limit:
                return
            chunk = member.decompress(pending, min(INFLATE_BYTES, limit - produced))
            pending = member.unconsumed_tail
            if not chunk and not pending and not member.eof:
                raise EOFError("the gzip stream ends before its end-of-stream marker")
            produced += len(chunk)
            yield chunk
        rest = member.unused_data.lstrip(b"\0")  # gzip.decompress skips zero padding between members too
        if not rest:
            return


def verify_payload(name: str, gz_bytes: bytes, origin: str) -> None:
    """Raise PipelineError unless `gz_bytes` is a complete gzip stream whose payload has the known checksum."""
    expected_size = PAYLOAD_BYTES[name]
    sha256, size = hashlib.sha256(), 0
    try:
        for chunk in _inflate(gz_bytes, expected_size + 1):
            sha256.update(chunk)
            size += len(chunk)
    except gzip.BadGzipFile:
        raise PipelineError(f"{origin}: not a gzip file") from None
    except EOFError:
        raise PipelineError(f"{origin}: truncated gzip stream (the file ends early)") from None
    except zlib.error as exc:
        raise PipelineError(f"{origin}: corrupted gzip data ({exc})") from None
    if size > expected_size:
        raise PipelineError(
            f"{origin}: decompresses to more than {expected_size:,} bytes (expected {expected_size:,}): "
            f"not the Fashion-MNIST {name}"
        )
    digest = sha256.hexdigest()
    if digest != PAYLOAD_SHA256[name]:
        raise PipelineError(
            f"{origin}: checksum mismatch: SHA-256 of the decompressed payload is {digest}, "
            f"expected {PAYLOAD_SHA256[name]}"
        )


def read_mirror(mirror: str, name: str) -> tuple[bytes, str]:
    path = Path(mirror).expanduser() / gz_name(name)
    if not path.is_file():
        raise SourceMissing(f"{path}: not present")
    size, limit = path.stat().st_size, max_gz_bytes(name)
    if size > limit:
        raise PipelineError(
            f"{path}: {size:,} bytes, more than the {limit:,} a gzip of {name} can take: not the Fashion-MNIST "
            "file; replace or remove it"
        )
    return path.read_bytes(), str(path)


class _Deadline:
    """The end of one attempt at a URL. When it comes, the attempt's sockets are shut down, which ends a read
    waiting on them at once: the socket timeout bounds each read alone, and a server sending a byte at a time
    (of its headers or of the file) would never let one time out."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds
        self._sockets: list[socket.socket] = []
        self._expired = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()

    def passed(self) -> bool:
        return time.monotonic() >= self._end

    def watch(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.append(sock)
            expired = self._expired
        if expired:  # created after the timer went off
            _shut_down(sock)
        return sock

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut_down(sock)


def _shut_down(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


class _DeadlineHandler(urllib.request.HTTPHandler, urllib.request.HTTPSHandler):
    """urllib's HTTP and HTTPS handlers, with every socket they open (to the server or a proxy) watched by
    `deadline` from its creation, so the TLS handshake and the headers are bounded as well as the body."""

    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def do_open(self, http_class, req, **http_conn_args):
        def watched_connection(*args, **kwargs):
            connection = http_class(*args, **kwargs)
            create = connection._create_connection  # what connect() calls for its socket
            connection._create_connection = lambda *a, **kw: self.deadline.watch(create(*a, **kw))
            return connection

        return super().do_open(watched_connection, req, **http_conn_args)


def _announced_length(response, url: str, name: str, limit: int) -> int | None:
    length = response.headers.get("Content-Length")
    total = int(length) if length else None
    if total is not None and total > limit:
        raise PipelineError(
            f"{url}: announces {total:,} bytes (Content-Length), more than the {limit:,} a gzip of {name} can "
            "take: not the Fashion-MNIST file; check `download.urls` in params.yaml"
        )
    return total


def _read_response(url: str, name: str, deadline: _Deadline, chunks: list[bytes]) -> int | None:
    """Read `url` into `chunks` until it ends, the deadline passes or it sends more than `name` can take;
    return the Content-Length it announced, if any. `read1` returns whatever one read brings, so the
    deadline is checked after each read however slowly the bytes come."""
    limit = max_gz_bytes(name)
    opener = urllib.request.build_opener(_DeadlineHandler(deadline))
    with opener.open(url, timeout=deadline.seconds) as response:
        total = _announced_length(response, url, name, limit)
        received = 0
        with tqdm(total=total, unit="B", unit_scale=True, desc=gz_name(name), leave=False) as bar:
            while not deadline.passed() and (chunk := response.read1(min(READ_BYTES, limit + 1 - received))):
                chunks.append(chunk)
                received += len(chunk)
                bar.update(len(chunk))
                if received > limit:
                    raise PipelineError(
                        f"{url}: sends more than the {limit:,} bytes a gzip of {name} can take: "
                        "not the Fashion-MNIST file; check `download.urls` in params.yaml"
                    )
    return total


def read_url(base_url: str, name: str, timeout_s: float) -> tuple[bytes, str]:
    """The bytes of `name`.gz at `base_url`, all within `timeout_s`: it is the socket timeout of each network
    wait and the deadline of the whole attempt."""
    url = base_url.rstrip("/") + "/" + gz_name(name)
    chunks: list[bytes] = []
    with _Deadline(timeout_s) as deadline:
        try:
            total = _read_response(url, name, deadline, chunks)
        except OSError:
            if not deadline.passed():
                raise
        except http.client.HTTPException as exc:  # a garbled response: urllib passes these on as they are
            if not deadline.passed():
                raise PipelineError(f"{url}: not a valid HTTP response ({exc!r})") from None
        if deadline.passed():  # the sockets may have been shut down: what came is not known to be complete
            raise PipelineError(
                f"{url}: not downloaded within download.timeout_s = {timeout_s:g} s "
                f"({sum(map(len, chunks)):,} bytes received); raise `download.timeout_s` in params.yaml for a "
                "slow network, or put the file in a folder listed in `download.mirrors`"
            )
    data = b"".join(chunks)
    if total is not None and len(data) != total:
        raise PipelineError(f"{url}: connection closed after {len(data)} of {total} bytes")
    return data, url


def fetch_file(name: str, mirrors: list[str], urls: list[str], retries: int, timeout_s: float) -> tuple[bytes, str]:
    """Bytes of `name`.gz from the first source that has a verified copy, and where they came from.

    Mirrors are tried once each; a URL is tried `1 + retries` times. A source lacking the file, or
    serving a bad one, falls through to the next; if none works, one error lists what each source said.
    """
    attempts = [(lambda m=m: read_mirror(m, name), 1) for m in mirrors]
    attempts += [(lambda u=u: read_url(u, name, timeout_s), 1 + retries) for u in urls]
    problems: list[str] = []
    for read, tries in attempts:
        for attempt in range(tries):
            try:
                data, origin = read()
                verify_payload(name, data, origin)
                return data, origin
            except SourceMissing as exc:
                problems.append(str(exc))
                break
            except PipelineError as exc:
                problems.append(str(exc))
            except (urllib.error.URLError, OSError, ValueError) as exc:
                problems.append(f"{getattr(exc, 'filename', None) or 'download'}: {exc}")
            if attempt + 1 < tries:
                log.warning("retrying %s after: %s", gz_name(name), problems[-1])
                time.sleep(1)
    tried = (
        "\n  ".join(problems) if problems else "no sources configured (download.mirrors and download.urls are empty)"
    )
    raise PipelineError(
        f"could not get a verified copy of {gz_name(name)}:\n  {tried}\n"
        "Install the Debian package dataset-fashion-mnist (it fills /usr/share/datasets/fashion-mnist), "
        "put the files in a folder listed in params.yaml `download.mirrors`, or allow network access "
        "to a URL in `download.urls`."
    )


def download_dataset(dest: Path, mirrors: list[str], urls: list[str], retries: int, timeout_s: float) -> dict[str, str]:
    """Place all four verified .gz files in `dest`, or none of them; return the source of each."""
    sources: dict[str, str] = {}
    with staged_outputs() as staged:
        for name in PAYLOAD_SHA256:
            data, origin = fetch_file(name, mirrors, urls, retries, timeout_s)
            staged.path(dest / gz_name(name)).write_bytes(data)
            sources[name] = origin
            log.info("%s verified (from %s)", gz_name(name), origin)
    return sources
