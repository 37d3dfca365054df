"""Fetching the four Fashion-MNIST IDX files from local mirrors or URLs, each verified by checksum.

The SHA-256 is of the decompressed payload: the .gz bytes differ between mirrors, the payload does not.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import time
import urllib.error
import urllib.request
import zlib
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


class SourceMissing(Exception):
    """The source does not have the file: not an error, the next source is tried."""


def gz_name(name: str) -> str:
    return f"{name}.gz"


def verify_payload(name: str, gz_bytes: bytes, origin: str) -> None:
    """Raise PipelineError unless `gz_bytes` is a complete gzip stream whose payload has the known checksum."""
    try:
        payload = gzip.decompress(gz_bytes)
    except gzip.BadGzipFile:
        raise PipelineError(f"{origin}: not a gzip file") from None
    except EOFError:
        raise PipelineError(f"{origin}: truncated gzip stream (the file ends early)") from None
    except zlib.error as exc:
        raise PipelineError(f"{origin}: corrupted gzip data ({exc})") from None
    digest = hashlib.sha256(payload).hexdigest()
    if digest != PAYLOAD_SHA256[name]:
        raise PipelineError(
            f"{origin}: checksum mismatch: SHA-256 of the decompressed payload is {digest}, "
            f"expected {PAYLOAD_SHA256[name]}"
        )


def read_mirror(mirror: str, name: str) -> tuple[bytes, str]:
    path = Path(mirror).expanduser() / gz_name(name)
    if not path.is_file():
        raise SourceMissing(f"{path}: not present")
    return path.read_bytes(), str(path)


def read_url(base_url: str, name: str, timeout_s: float) -> tuple[bytes, str]:
    url = base_url.rstrip("/") + "/" + gz_name(name)
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length else None
        chunks = []
        with tqdm(total=total, unit="B", unit_scale=True, desc=gz_name(name), leave=False) as bar:
            while chunk := response.read(1 << 16):
                chunks.append(chunk)
                bar.update(len(chunk))
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
