"""A pytest plugin that runs mutmut's mutants in one process: `RUNNER=in-process scripts/mutation.sh ...`.

mutmut starts a process per mutant that collects its tests anew and builds every fixture again; on the cnn family,
whose fixtures train nets, that ran 2-3 mutants a minute. This plugin collects the tests once and, for each mutant,
switches mutmut's trampolines to it (MUTANT_UNDER_TEST, read at every call of a mutated function) and runs the tests
that reach its function (mutants/mutmut-stats.json) until the first failure. The tests that killed earlier mutants of
the same function go first, the fewest seconds per kill first; the others, fastest file first (mutation_order.py).

Every fixture is torn down after each mutant, so none built under one mutant serves another. A kill counts only when
the failing test passes again with no mutant: otherwise the mutant left the process in a state that fails tests by
itself and is reported `suspect` (run it again under mutmut). A mutant still running after MUTATION_LIMIT seconds
(wall clock, default 120) is `unfinished`: unlike mutmut's CPU-time timeouts, not counted as killed. After either the
process stops, to be started again: an alarm that interrupts a fixture's setup leaves pytest's record of it broken,
and every later test that needs it fails.

It reads the mutant names from the file MUTATION_NAMES and appends `name: status` lines (mutmut's `results` format)
to MUTATION_RESULTS, one as each mutant ends, skipping names the file already has: a stopped run resumes.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from _pytest.runner import runtestprotocol

from tests.support.mutation_order import STATS, fastest_first


class OverTime(BaseException):
    """Raised by the alarm: a BaseException, so that no test's `except Exception` swallows it (pytest reports it as
    the test's failure, so the alarm also leaves a mark that `run_until_failure` reads)."""


def run_until_failure(
    session: pytest.Session, tests: list[pytest.Item], seconds: int, cost: dict, failures: list | None = None
) -> object:
    """Run `tests` in order; the first failing one, None when all pass, or OverTime when `seconds` ran out. Each
    test's seconds, its fixtures' setup included, go into `cost`; the failure's text into `failures`. Every fixture
    is torn down before returning."""
    expired = []

    def over_time(signum, frame):
        expired.append(signum)
        raise OverTime

    signal.signal(signal.SIGALRM, over_time)
    signal.alarm(seconds)
    try:
        for index, item in enumerate(tests):
            began = time.perf_counter()
            reports = runtestprotocol(item, nextitem=tests[index + 1] if index + 1 < len(tests) else None, log=False)
            cost[item.nodeid] = time.perf_counter() - began
            if expired:
                return OverTime
            if any(report.failed for report in reports):
                if failures is not None:
                    failures += [report.longreprtext for report in reports if report.failed]
                return item
        return None
    except OverTime:
        return OverTime
    except Exception:
        if expired:  # pytest itself failed on the alarm's traceback (a frame without a line number)
            return OverTime
        raise
    finally:
        signal.alarm(0)
        session._setupstate.teardown_exact(None)


class MutantRunner:
    def __init__(self, names: list[str], results: Path, seconds: int) -> None:
        self.names, self.results, self.seconds = names, results, seconds
        self.cost: dict[str, float] = {}
        self.kills: dict[str, dict[str, int]] = {}  # function -> test -> mutants of it killed

    def order(self, function: str, tests: list[pytest.Item]) -> list[pytest.Item]:
        killed = self.kills.setdefault(function, {})
        rank = {item.nodeid: index for index, item in enumerate(tests)}
        return sorted(
            tests,
            key=lambda item: (
                (0, self.cost.get(item.nodeid, 1.0) / killed[item.nodeid])
                if item.nodeid in killed
                else (1, rank[item.nodeid])
            ),
        )

    def status(self, session: pytest.Session, name: str, function: str, tests: list[pytest.Item]) -> str:
        os.environ["MUTANT_UNDER_TEST"] = name
        try:
            failed = run_until_failure(session, tests, self.seconds, self.cost)
        finally:
            os.environ["MUTANT_UNDER_TEST"] = ""
        if failed is None:
            return "survived"
        if failed is OverTime:
            return "unfinished"
        failures = []
        if run_until_failure(session, [failed], 4 * self.seconds, {}, failures) is not None:
            print(f"{name}: {failed.nodeid} fails with no mutant too:", *failures, sep="\n", flush=True)
            return "suspect"
        killed = self.kills[function]
        killed[failed.nodeid] = killed.get(failed.nodeid, 0) + 1
        return "killed"

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        stats = json.loads(STATS.read_text())
        seconds_by_test, tests_by_function = stats["duration_by_test"], stats["tests_by_mangled_function_name"]
        done = (
            {line.split(": ")[0] for line in self.results.read_text().splitlines()} if self.results.is_file() else set()
        )
        with self.results.open("a", buffering=1) as results:
            for name in self.names:
                if name in done:
                    continue
                function = name.rpartition("__mutmut_")[0]
                reaching = set(tests_by_function.get(function, []))
                tests = [item for item in session.items if item.nodeid in reaching]
                fastest_first(tests, seconds_by_test)
                status = self.status(session, name, function, self.order(function, tests))
                results.write(f"{name}: {status}\n")
                print(f"{name}: {status}", flush=True)
                if status in ("suspect", "unfinished"):
                    break  # the process may be broken for later mutants: scripts/mutation.sh starts a new one
        return True


def pytest_configure(config: pytest.Config) -> None:
    names = Path(os.environ["MUTATION_NAMES"]).read_text().split()
    runner = MutantRunner(names, Path(os.environ["MUTATION_RESULTS"]), int(os.environ.get("MUTATION_LIMIT", "120")))
    config.pluginmanager.register(runner, "mutation_runner")
