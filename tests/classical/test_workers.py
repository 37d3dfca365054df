"""Where a classify stage computes: this machine, or the Dask scheduler Dask's own configuration names."""

import threading
import time

import dask.config
import distributed  # noqa: F401 (Dask's defaults for distributed.*, before a dask.config.set would hide them)
import pytest
from joblib.parallel import get_active_backend
from threadpoolctl import threadpool_info

from fmnist.classical import workers as workers_module
from fmnist.classical.workers import compute_workers, fit_threads, local_workers
from fmnist.cores import available_cores
from fmnist.errors import PipelineError
from tests.support.dask_cluster import HTTP_REPLY, not_a_scheduler

DEADLINE_S = 2.0  # SCHEDULER_DEADLINE_S in these tests, so that a wait for a reply that never comes is short
MARGIN_S = 2.0  # for starting an event loop and tearing down a Client on a busy machine


def stop_at(address: str) -> tuple[BaseException | None, float]:
    """What `compute_workers` raises with Dask's scheduler-address set to `address`, and how long it took. It runs in
    a thread that this test stops waiting for past the deadline and margin, so a hang fails the test, not the suite."""
    outcome: list[BaseException | None] = []

    def enter() -> None:
        try:
            with dask.config.set({"scheduler-address": address}), compute_workers("auto", 2):
                outcome.append(None)
        except BaseException as exc:  # handed to the test
            outcome.append(exc)

    start = time.monotonic()
    thread = threading.Thread(target=enter, daemon=True)
    thread.start()
    thread.join(timeout=DEADLINE_S + MARGIN_S + 10)
    assert outcome, f"compute_workers still waiting for {address} after {time.monotonic() - start:.1f} s"
    return outcome[0], time.monotonic() - start


def test_without_a_scheduler_the_stage_computes_here_on_the_available_cores():
    with dask.config.set({"scheduler-address": None}), compute_workers("auto", 2) as workers:
        assert (workers.fit, workers.predict) == (available_cores(), available_cores())
        assert workers.where.startswith("this machine")
    assert local_workers(3, 2).fit == 3


def test_a_scheduler_that_does_not_answer_is_one_message_naming_it_and_the_fix():
    """Nothing listens there: Dask retries the connection until its connect timeout, 1 s here, then gives up."""
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        error, elapsed = stop_at("tcp://127.0.0.1:9")
    assert isinstance(error, PipelineError), repr(error)
    message = str(error)
    assert message.startswith("DASK_SCHEDULER_ADDRESS=tcp://127.0.0.1:9: no Dask scheduler answers there (")
    assert "`dask scheduler`" in message and "unset DASK_SCHEDULER_ADDRESS" in message
    assert elapsed < 1 + MARGIN_S, f"{elapsed:.1f} s"


def test_dask_s_connect_timeout_shortens_the_deadline_never_lengthens_it():
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        assert workers_module.scheduler_deadline() == 1
    with dask.config.set({"distributed.comm.timeouts.connect": "1h"}):
        assert workers_module.scheduler_deadline() == workers_module.SCHEDULER_DEADLINE_S


@pytest.mark.parametrize(
    ("reply", "detail"),
    [(None, f"nothing answered in Dask's protocol within {DEADLINE_S:g} s"), (HTTP_REPLY, "Dask's protocol")],
    ids=["silent", "http"],
)
def test_a_service_that_is_not_a_scheduler_is_one_message_within_the_deadline(monkeypatch, reply, detail):
    """The dashboard's port by mistake: it accepts the connection, then says nothing or answers in HTTP. Dask's
    Client would wait for the handshake forever; the stage stops within the deadline, whatever Dask's connect
    timeout (30 s by default) says."""
    monkeypatch.setattr(workers_module, "SCHEDULER_DEADLINE_S", DEADLINE_S)
    with dask.config.set({"distributed.comm.timeouts.connect": "30s"}), not_a_scheduler(reply) as address:
        error, elapsed = stop_at(address)
    assert isinstance(error, PipelineError), repr(error)
    message = str(error)
    assert message.startswith(f"DASK_SCHEDULER_ADDRESS={address}: no Dask scheduler answers there (")
    assert detail in message and "not its dashboard's" in message and "unset DASK_SCHEDULER_ADDRESS" in message
    assert elapsed < DEADLINE_S + MARGIN_S, f"{elapsed:.1f} s"


@pytest.mark.parametrize(
    "address", ["not an address", "tcp://", "host:notaport", "http://10.0.0.5:8786", "tcp://a host:8786", "h:0"]
)
def test_a_malformed_address_is_one_message_before_any_connection(address):
    error, elapsed = stop_at(address)
    assert isinstance(error, PipelineError), repr(error)
    assert str(error).startswith(f"DASK_SCHEDULER_ADDRESS={address!r} is not a Dask scheduler address (")
    assert "such as tcp://10.0.0.5:8786" in str(error) and "unset it" in str(error)
    assert elapsed < 1, f"{elapsed:.2f} s"  # no connection tried, no Client left to stall on its way out


@pytest.mark.parametrize("address", ["tcp://10.0.0.5:8786", "10.0.0.5:8786", "tls://[::1]:8786", "ws://sched.lan:1"])
def test_the_address_forms_dask_understands_pass_the_check(address):
    assert workers_module.address_problem(address) is None


def test_a_computation_alone_gets_the_fixed_threads_and_fits_side_by_side_one_each():
    """BLAS/OpenMP threads do not follow the machine: `fit_threads` for the refit and predictions, one per fit in
    the search, in this process and in joblib's worker processes alike."""
    workers = local_workers(2, threads=3)
    with fit_threads(workers, alone=True):
        assert {pool["num_threads"] for pool in threadpool_info()} == {3}
    with fit_threads(workers, alone=False):
        assert {pool["num_threads"] for pool in threadpool_info()} == {1}
        # joblib's worker processes get one thread too, whatever cpu_count() // n_jobs would give on this machine
        assert get_active_backend()[0].inner_max_num_threads == 1
