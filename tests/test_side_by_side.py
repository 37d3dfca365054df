import threading
import time

import pytest
import torch

from fmnist import side_by_side
from fmnist.side_by_side import map_batches


@pytest.fixture
def two_cores_two_threads(monkeypatch):
    monkeypatch.setattr(side_by_side, "available_cores", lambda: 2)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(threads)


def watching(seen: list):
    def work(item: int) -> int:
        seen.append((threading.get_ident(), torch.get_num_threads()))
        time.sleep(0.02 * (item % 2))  # the odd items end last: results must still come in order
        return item * item

    return work


@pytest.mark.usefixtures("two_cores_two_threads")
def test_side_by_side_runs_one_torch_thread_on_each_core_and_keeps_the_order():
    seen = []
    assert list(map_batches(watching(seen), range(6), side_by_side=True)) == [0, 1, 4, 9, 16, 25]
    assert {threads for _, threads in seen} == {1} and len({thread for thread, _ in seen}) == 2
    assert torch.get_num_threads() == 2


@pytest.mark.usefixtures("two_cores_two_threads")
def test_otherwise_one_item_after_another_on_all_of_torchs_threads():
    seen = []
    assert list(map_batches(watching(seen), range(4), side_by_side=False)) == [0, 1, 4, 9]
    assert {threads for _, threads in seen} == {2} and len({thread for thread, _ in seen}) == 1


@pytest.mark.usefixtures("two_cores_two_threads")
def test_torchs_threads_come_back_when_an_item_fails():
    def work(item: int) -> int:
        if item == 3:
            raise ValueError("batch 3")
        return item

    with pytest.raises(ValueError, match="batch 3"):
        list(map_batches(work, range(5), side_by_side=True))
    assert torch.get_num_threads() == 2


def test_one_core_runs_one_item_after_another_with_torchs_threads(monkeypatch):
    monkeypatch.setattr(side_by_side, "available_cores", lambda: 1)
    seen = []
    threads = torch.get_num_threads()
    assert list(map_batches(watching(seen), range(3), side_by_side=True)) == [0, 1, 4]
    assert {count for _, count in seen} == {threads}
