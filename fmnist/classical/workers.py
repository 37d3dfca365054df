"""Where a classify stage computes: this machine's cores, or a Dask cluster named by Dask's own configuration.

Which machines compute is not part of an experiment: every fit is the same computation wherever it runs (one
BLAS thread per fit here and on a Dask worker alike, see `fit_threads`), and GridSearchCV gathers the results in
order, so the metrics are the same bytes. It is therefore not a param (DVC
would re-run every stage when it changed) but Dask's `scheduler-address` setting, which Dask reads from the
DASK_SCHEDULER_ADDRESS environment variable or its config files. With it, the grid search's fits, and the refit of
a model that parallelises itself (forests, one-vs-rest), run through joblib's Dask backend on the cluster's
workers; the test-set predictions stay on this machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

from joblib import parallel_config
from threadpoolctl import threadpool_limits

from fmnist.cores import AUTO, available_cores, resolve_jobs
from fmnist.errors import PipelineError
from fmnist.lifetime import worker_dies_with_stage

log = logging.getLogger(__name__)

# A stage starts after its scheduler does, so it answers in milliseconds; 10 s covers a slow network and Dask's
# retries of a refused connection without leaving a stage silent for long. Dask's own connect timeout
# (distributed.comm.timeouts.connect) can only shorten it.
SCHEDULER_DEADLINE_S = 10.0
HOSTNAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?")


@dataclass(frozen=True)
class Workers:
    """How a classify stage spreads its work. Independent pieces (the search's fits, a forest's trees, one-vs-rest's
    problems, chunks of test rows) run `fit` or `predict` at a time; a computation that runs alone (the refit, a
    single forest setting's fits) gets `threads` BLAS/OpenMP threads, a fixed number, since splitting one
    computation changes the order of its sums (fmnist/cores.py)."""

    fit: int  # jobs for the search's fits and a parallel refit
    predict: int  # chunks of test rows predicted side by side, on this machine
    threads: int  # classify.search.fit_threads
    local: bool  # False on a Dask cluster (its workers run BLAS on one thread)
    where: str  # for the log and the error messages


def local_workers(n_jobs: int | str, threads: int) -> Workers:
    jobs = resolve_jobs(n_jobs)
    where = f"this machine ({jobs} of {available_cores()} available cores, n_jobs={n_jobs})"
    return Workers(jobs, jobs, threads, True, where)


def fit_threads(workers: Workers, alone: bool) -> contextlib.AbstractContextManager:
    """BLAS/OpenMP threads inside the block: `workers.threads` for a computation that runs alone in this process,
    one for fits that run side by side (in this process when there is one worker, in joblib's worker processes
    otherwise; a Dask worker runs BLAS on one thread already). Either way the same on every machine."""
    if alone:
        return threadpool_limits(workers.threads)
    stack = contextlib.ExitStack()
    stack.enter_context(threadpool_limits(1))
    if workers.local:
        # Each worker exits once the stage is gone (killed outright, its pool would otherwise live on for minutes).
        stack.enter_context(
            parallel_config(backend="loky", inner_max_num_threads=1, initializer=worker_dies_with_stage)
        )
    return stack


def scheduler_address() -> str | None:
    """Dask's `scheduler-address` setting (DASK_SCHEDULER_ADDRESS or a Dask config file), None when unset."""
    import dask.config

    return dask.config.get("scheduler-address", default=None)


def scheduler_deadline() -> float:
    """Seconds a stage waits for the scheduler: SCHEDULER_DEADLINE_S, or Dask's connect timeout if shorter."""
    import dask.config
    import distributed.config  # noqa: F401 (Dask's defaults for distributed.*)
    from dask.utils import parse_timedelta

    configured = parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), "s")
    return min(SCHEDULER_DEADLINE_S, configured)


def address_problem(address: str) -> str | None:
    """Why `address` is not a scheduler address Dask can connect to (scheme://host:port or host:port), None if it is.
    Checked before connecting: Dask's Client raises a bare ValueError for a malformed one, then stalls on closing."""
    from distributed.comm import registry
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        registry.get_backend(scheme)
        host, port = parse_host_port(location)
    except (ValueError, TypeError) as exc:
        return str(exc)
    if scheme == "inproc":
        return "inproc:// names a server inside one process"
    if not 0 < port < 65536:
        return f"port {port} is out of range"
    return None if valid_host(host) else f"{host!r} is not a host name or IP address"


def valid_host(host: str) -> bool:
    """An IP address or a DNS host name (Dask would take "a host" for a name to look up, and wait)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return len(host) <= 253 and HOSTNAME.fullmatch(host) is not None
    return True


def checked_address(address: object) -> str:
    """`address` as a string, or PipelineError naming it and the fix when it is no scheduler address at all."""
    text = str(address)
    problem = address_problem(text)
    if problem is not None:
        raise PipelineError(
            f"DASK_SCHEDULER_ADDRESS={text!r} is not a Dask scheduler address ({problem}); set it to the address "
            "`dask scheduler` prints, such as tcp://10.0.0.5:8786, or unset it to compute on this machine."
        )
    return text


def unanswered(address: str, detail: str) -> PipelineError:
    return PipelineError(
        f"DASK_SCHEDULER_ADDRESS={address}: no Dask scheduler answers there ({detail}). "
        "Check it is the address `dask scheduler` prints (not its dashboard's), start one (`dask scheduler`, then "
        f"`dask worker {address}` on each machine), or unset DASK_SCHEDULER_ADDRESS to compute on this machine."
    )


async def identify(address: str, connect_seconds: float) -> dict:
    """What answers at `address`: Dask's handshake, then the `identity` of the server. Dask retries a refused or
    unreachable connection for `connect_seconds`; the handshake that follows has no bound of its own."""
    from distributed.comm import connect
    from distributed.security import Security

    comm = await connect(address, timeout=connect_seconds, **Security().get_connection_args("client"))
    try:
        await comm.write({"op": "identity", "reply": True})
        return await comm.read()
    finally:
        comm.abort()


def probe_scheduler(address: str, seconds: float) -> None:
    """Raise PipelineError unless a Dask scheduler answers at `address` within `seconds` in all.

    distributed's Client bounds the TCP connection by its timeout but then awaits the handshake's reply with no
    bound: a service that accepts the connection and never speaks Dask's protocol (the dashboard's port, say)
    would hang it for good. So this asks first, under one hard deadline, on an event loop of its own."""
    try:  # Dask's retries end first, so that an address where nothing listens says so in Dask's words
        reply = asyncio.run(asyncio.wait_for(identify(address, 0.9 * seconds), seconds))
    except TimeoutError:
        raise unanswered(address, f"nothing answered in Dask's protocol within {seconds:g} s") from None
    except OSError as exc:  # refused, unreachable, or closed by a service that is no scheduler
        raise unanswered(address, str(exc) or type(exc).__name__) from None
    except (MemoryError, ValueError, TypeError, OverflowError):  # decoding what a service that is not Dask sends
        raise unanswered(address, "a reply not in Dask's protocol, from some other service") from None
    kind = reply.get("type") if isinstance(reply, dict) else None
    if kind != "Scheduler":
        raise unanswered(address, f"a Dask {kind}, not the scheduler" if kind else "a reply not from a Dask server")


@contextlib.contextmanager
def cluster_threads(address: str) -> Iterator[tuple[object, dict[str, int]]]:
    """A distributed.Client of the scheduler at `address` and the threads of each of its workers. Every network
    wait is bounded: the probe by the deadline, the Client's connection and its question for the workers by what
    is left of it (at least a second, for a scheduler that has just proved it answers)."""
    from distributed import Client

    seconds = scheduler_deadline()
    ends = time.monotonic() + seconds
    probe_scheduler(address, seconds)
    try:
        client = Client(address, timeout=max(ends - time.monotonic(), 1.0), set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise unanswered(address, str(exc) or type(exc).__name__) from None
    with client:
        try:
            per_worker = client.nthreads(callback_timeout=max(ends - time.monotonic(), 1.0))
        except (OSError, TimeoutError) as exc:
            raise unanswered(address, str(exc) or type(exc).__name__) from None
        yield client, per_worker  # outside the try: the stage's own errors are not the scheduler's


def check_has_workers(address: str, per_worker: dict[str, int]) -> None:
    if sum(per_worker.values()) == 0:
        raise PipelineError(
            f"DASK_SCHEDULER_ADDRESS={address}: the scheduler answered but has no workers; "
            f"start some (`dask worker {address}` on each machine), then re-run."
        )


@contextlib.contextmanager
def compute_workers(n_jobs: int | str, threads: int) -> Iterator[Workers]:
    """The workers of one classify stage, with joblib's Dask backend active inside the block when Dask names a
    scheduler. A malformed address, or one where no scheduler answers within the deadline, stops the stage here,
    before any work, with one message."""
    address = scheduler_address()
    if address is None:
        workers = local_workers(n_jobs, threads)
        log.info("computing on %s", workers.where)
        yield workers
        return
    import joblib

    address = checked_address(address)
    with cluster_threads(address) as (client, per_worker):
        check_has_workers(address, per_worker)
        total = sum(per_worker.values())
        fit = total if n_jobs == AUTO else int(n_jobs)
        where = f"the Dask cluster at {address} ({len(per_worker)} workers, {total} threads)"
        workers = Workers(fit, available_cores(), threads, False, where)
        log.info("computing on %s: %d jobs at a time (n_jobs=%s)", workers.where, fit, n_jobs)
        with joblib.parallel_backend("dask", client=client):
            yield workers
