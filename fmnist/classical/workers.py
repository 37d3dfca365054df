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

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from joblib import parallel_config
from threadpoolctl import threadpool_limits

from fmnist.cores import AUTO, available_cores, resolve_jobs
from fmnist.errors import PipelineError

log = logging.getLogger(__name__)


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
        stack.enter_context(parallel_config(backend="loky", inner_max_num_threads=1))
    return stack


def scheduler_address() -> str | None:
    """Dask's `scheduler-address` setting (DASK_SCHEDULER_ADDRESS or a Dask config file), None when unset."""
    import dask.config

    return dask.config.get("scheduler-address", default=None)


@contextlib.contextmanager
def compute_workers(n_jobs: int | str, threads: int) -> Iterator[Workers]:
    """The workers of one classify stage, with joblib's Dask backend active inside the block when Dask names a
    scheduler. A scheduler that does not answer stops the stage here, before any work, with one message."""
    address = scheduler_address()
    if address is None:
        workers = local_workers(n_jobs, threads)
        log.info("computing on %s", workers.where)
        yield workers
        return
    import joblib
    from distributed import Client

    try:
        client = Client(address, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise PipelineError(
            f"DASK_SCHEDULER_ADDRESS={address}: no Dask scheduler answers there ({exc}). "
            f"Start one (`dask scheduler`, then `dask worker {address}` on each machine), or unset "
            "DASK_SCHEDULER_ADDRESS to compute on this machine."
        ) from None
    with client:
        per_worker = client.nthreads()
        total = sum(per_worker.values())
        if total == 0:
            raise PipelineError(
                f"DASK_SCHEDULER_ADDRESS={address}: the scheduler answered but has no workers; "
                f"start some (`dask worker {address}` on each machine), then re-run."
            )
        fit = total if n_jobs == AUTO else int(n_jobs)
        where = f"the Dask cluster at {address} ({len(per_worker)} workers, {total} threads)"
        workers = Workers(fit, available_cores(), threads, False, where)
        log.info("computing on %s: %d jobs at a time (n_jobs=%s)", workers.where, fit, n_jobs)
        with joblib.parallel_backend("dask", client=client):
            yield workers
