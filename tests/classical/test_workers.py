"""Where a classify stage computes: this machine, or the Dask scheduler Dask's own configuration names."""

import dask.config
import pytest
from joblib.parallel import get_active_backend
from threadpoolctl import threadpool_info

from fmnist.classical.workers import compute_workers, fit_threads, local_workers
from fmnist.cores import available_cores
from fmnist.errors import PipelineError


def test_without_a_scheduler_the_stage_computes_here_on_the_available_cores():
    with dask.config.set({"scheduler-address": None}), compute_workers("auto", 2) as workers:
        assert (workers.fit, workers.predict) == (available_cores(), available_cores())
        assert workers.where.startswith("this machine")
    assert local_workers(3, 2).fit == 3


def test_a_scheduler_that_does_not_answer_is_one_message_naming_it_and_the_fix():
    unanswered = {"scheduler-address": "tcp://127.0.0.1:9", "distributed.comm.timeouts.connect": "1s"}
    with dask.config.set(unanswered), pytest.raises(PipelineError) as error, compute_workers("auto", 2):
        pytest.fail("the block ran without a scheduler")
    message = str(error.value)
    assert message.startswith("DASK_SCHEDULER_ADDRESS=tcp://127.0.0.1:9: no Dask scheduler answers there (Timed out")
    assert "`dask scheduler`" in message and "unset DASK_SCHEDULER_ADDRESS" in message


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
