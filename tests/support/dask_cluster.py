"""A real Dask cluster on 127.0.0.1, started as the README starts one: `dask scheduler` and `dask worker`s, each a
process of its own (not distributed.LocalCluster, which also sets OMP_NUM_THREADS and its kin to 1 in the process
that creates it, and so in every stage that process starts: not what a user's stage sees). And a TCP service that is
not a scheduler, for the address a user gets wrong."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

DASK = str(Path(sys.executable).parent / "dask")
HTTP_REPLY = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nBad Request"


@contextlib.contextmanager
def not_a_scheduler(reply: bytes | None = None) -> Iterator[str]:
    """A TCP service on 127.0.0.1 that is not a Dask scheduler (a dashboard's port, say); yields its tcp:// address.
    It accepts every connection and keeps it open; with `reply`, it answers the first bytes it reads with `reply`,
    otherwise it never sends anything."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)  # so that the thread sees the end of the block
    ended = threading.Event()
    accepted: list[socket.socket] = []

    def serve() -> None:
        while not ended.is_set():
            with contextlib.suppress(OSError):  # no connection yet (timeout), or one the client reset
                connection, _ = listener.accept()
                accepted.append(connection)
                if reply is not None and connection.recv(65536):  # Dask's client speaks first
                    connection.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        ended.set()
        thread.join(timeout=5)
        for connection in [listener, *accepted]:
            connection.close()


@contextlib.contextmanager
def dask_cluster(folder: Path, workers: int = 2) -> Iterator:
    """A scheduler and `workers` single-thread workers; yields a connected distributed.Client."""
    from distributed import Client

    scheduler_file = folder / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(scheduler_file)]
    processes = [subprocess.Popen([*scheduler, "--no-dashboard"], **quiet)]
    try:
        for number in range(1, workers + 1):
            worker = [
                DASK,
                "worker",
                "--scheduler-file",
                str(scheduler_file),
                "--nthreads",
                "1",
                "--name",
                f"w{number}",
            ]
            processes.append(subprocess.Popen([*worker, "--no-dashboard"], **quiet))
        with Client(scheduler_file=str(scheduler_file), timeout="60s") as client:
            client.wait_for_workers(workers, timeout=60)
            yield client
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
