"""Where a classify stage computes: this machine, or the Dask scheduler Dask's own configuration names."""

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator

import dask.config
import distributed  # noqa: F401 (Dask's defaults for distributed.*, before a dask.config.set would hide them)
import pytest
from joblib.parallel import get_active_backend
from threadpoolctl import threadpool_info

from fmnist.classical import workers as workers_module
from fmnist.classical.workers import compute_workers, fit_threads, local_workers
from fmnist.cores import available_cores
from fmnist.errors import PipelineError
from fmnist.lifetime import worker_dies_with_stage
from tests.support.dask_cluster import HTTP_REPLY, not_a_scheduler

FIX = (
    "Check it is the address `dask scheduler` prints (not its dashboard's), start one (`dask scheduler`, then "
    "`dask worker {address}` on each machine), or unset DASK_SCHEDULER_ADDRESS to compute on this machine."
)
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


@contextlib.contextmanager
def dask_server(identity: object) -> Iterator[str]:
    """A server speaking Dask's protocol on 127.0.0.1 (distributed's own, on an event loop in a thread of its own)
    whose `identity` answers `identity`: a scheduler, a worker or something else; yields its address."""
    from distributed.core import Server

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> Server:
        server = Server({"identity": lambda: identity})
        await server.listen("tcp://127.0.0.1:0")
        return server

    server = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
    try:
        yield server.address
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def test_without_a_scheduler_the_stage_computes_here_on_the_available_cores():
    with dask.config.set({"scheduler-address": None}), compute_workers("auto", 2) as workers:
        assert (workers.fit, workers.predict) == (available_cores(), available_cores())
        assert workers.where.startswith("this machine")
    assert local_workers(3, 2).fit == 3


def test_with_no_dask_configuration_at_all_the_stage_computes_here(monkeypatch):
    monkeypatch.delitem(dask.config.config, "scheduler-address", raising=False)
    with compute_workers(1, 2) as workers:
        assert workers.local and (workers.fit, workers.threads) == (1, 2)


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
    with dask.config.set({"distributed.comm.timeouts.connect": 3}):  # a bare number, as YAML may give it: seconds
        assert workers_module.scheduler_deadline() == 3
    with dask.config.set({"distributed.comm.timeouts.connect": "1h"}):
        assert workers_module.scheduler_deadline() == workers_module.SCHEDULER_DEADLINE_S


@pytest.mark.parametrize(
    ("reply", "detail"),
    [
        (None, f"nothing answered in Dask's protocol within {DEADLINE_S:g} s"),
        (HTTP_REPLY, "a reply not in Dask's protocol, from some other service"),
    ],
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
    assert message.endswith(f"({detail}). {FIX.format(address=address)}")
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
        # and exits once the stage is gone (tests/test_lifetime.py kills a stage to see it)
        assert get_active_backend()[0].backend_kwargs["initializer"] is worker_dies_with_stage


def test_where_nothing_listens_the_message_is_dask_s_own_after_most_of_the_deadline():
    """Dask retries a refused connection for 0.9 of the deadline, so that its words, not a bare timeout, explain."""
    address = "tcp://127.0.0.1:9"
    with pytest.raises(PipelineError) as error:
        workers_module.probe_scheduler(address, 0.5)
    assert str(error.value) == (
        f"DASK_SCHEDULER_ADDRESS={address}: no Dask scheduler answers there "
        f"(Timed out trying to connect to {address} after 0.45 s). {FIX.format(address=address)}"
    )


def test_a_connection_error_without_words_is_named_by_its_kind(monkeypatch):
    async def reset(address, connect_seconds):
        raise ConnectionResetError

    monkeypatch.setattr(workers_module, "identify", reset)
    with pytest.raises(PipelineError, match=r"there \(ConnectionResetError\)\. Check"):
        workers_module.probe_scheduler("tcp://127.0.0.1:9", 1.0)


@pytest.mark.parametrize(
    ("identity", "detail"),
    [
        ({"type": "Worker", "id": "w1"}, "a Dask Worker, not the scheduler"),
        ({"id": "x"}, "a reply not from a Dask server"),
        ("hello", "a reply not from a Dask server"),
    ],
    ids=["worker", "no-type", "not-a-dict"],
)
def test_a_dask_server_that_is_not_the_scheduler_is_named_for_what_it_is(identity, detail):
    with dask_server(identity) as address, pytest.raises(PipelineError) as error:
        workers_module.probe_scheduler(address, DEADLINE_S)
    assert str(error.value) == (
        f"DASK_SCHEDULER_ADDRESS={address}: no Dask scheduler answers there ({detail}). {FIX.format(address=address)}"
    )


def test_a_scheduler_that_answers_passes_the_probe_at_once():
    start = time.monotonic()
    with dask_server({"type": "Scheduler", "id": "Scheduler-1"}) as address:
        workers_module.probe_scheduler(address, DEADLINE_S)
    assert time.monotonic() - start < DEADLINE_S


def test_the_probe_connects_with_dask_s_security_settings():
    """Dask's configuration says every connection must be encrypted: the probe refuses a plain tcp:// address, as
    Dask's Client would, rather than ask it anything."""
    with (
        dask_server({"type": "Scheduler", "id": "Scheduler-1"}) as address,
        dask.config.set({"distributed.comm.require-encryption": True}),
        pytest.raises((RuntimeError, PipelineError), match="encryption required by Dask configuration"),
    ):
        workers_module.probe_scheduler(address, DEADLINE_S)


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("tcp://", "missing port number in address ''"),
        ("inproc://sched:1", "inproc:// names a server inside one process"),
        ("h:0", "port 0 is out of range"),
        ("h:65535", None),
        ("h:65536", "port 65536 is out of range"),
        ("a." * 126 + "a:1", None),  # 253 characters, the longest DNS name
        ("a." * 126 + "ab:1", f"{'a.' * 126 + 'ab'!r} is not a host name or IP address"),
    ],
    ids=["no-port", "inproc", "port-0", "port-65535", "port-65536", "host-253-chars", "host-254-chars"],
)
def test_an_address_is_checked_to_the_limits_of_ports_and_host_names(address, problem):
    assert workers_module.address_problem(address) == problem


def test_a_malformed_address_names_the_problem_and_the_fix():
    with pytest.raises(PipelineError) as error:
        workers_module.checked_address("h:0")
    assert str(error.value) == (
        "DASK_SCHEDULER_ADDRESS='h:0' is not a Dask scheduler address (port 0 is out of range); set it to the address "
        "`dask scheduler` prints, such as tcp://10.0.0.5:8786, or unset it to compute on this machine."
    )


@pytest.mark.parametrize("per_worker", [{}, {"tcp://127.0.0.1:2": 0}], ids=["none", "none-with-threads"])
def test_a_scheduler_without_worker_threads_stops_the_stage(per_worker):
    with pytest.raises(PipelineError) as error:
        workers_module.check_has_workers("tcp://h:1", per_worker)
    assert str(error.value) == (
        "DASK_SCHEDULER_ADDRESS=tcp://h:1: the scheduler answered but has no workers; start some "
        "(`dask worker tcp://h:1` on each machine), then re-run."
    )
    workers_module.check_has_workers("tcp://h:1", {"tcp://127.0.0.1:2": 1})
