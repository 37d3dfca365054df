"""Independent batches of inference on every core at once, one torch thread each (the first kind of parallel work in
fmnist/cores.py): no core waits for the other at the end of every operation, as they do when torch splits each
operation among its threads. A batch's bits do not depend on which worker computes it, nor on how many cores there
are. Measured faster for the scattering, ResNet-18's and EfficientNet-Lite0's features (docs/BENCHMARKS.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import torch

from fmnist.cores import available_cores

Item = TypeVar("Item")
Result = TypeVar("Result")


def map_batches(work: Callable[[Item], Result], items: Iterable[Item], side_by_side: bool) -> Iterator[Result]:
    """`work(item)` for each item, in order: with `side_by_side`, on every available core at once with one torch
    thread each (torch's thread count is given back once the results are all taken), else one after another on all
    of torch's threads."""
    threads = torch.get_num_threads()
    workers = available_cores() if side_by_side else 1
    if workers > 1:
        torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(workers) as pool:
            yield from pool.map(work, items)
    finally:
        torch.set_num_threads(threads)
