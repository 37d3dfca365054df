"""Under a mutant of scripts/mutation.sh, its tests run fastest first, each file's tests together."""

from pathlib import Path
from types import SimpleNamespace

from tests.support import mutation_order


def item(path: str, name: str) -> SimpleNamespace:
    return SimpleNamespace(path=Path(path), nodeid=f"{path}::{name}")


def test_files_run_by_their_fastest_test_and_their_tests_by_their_own_time():
    items = [
        item("slow.py", "a"),
        item("fast.py", "b"),
        item("slow.py", "c"),
        item("fast.py", "d"),
        item("new.py", "e"),
    ]
    seconds = {"slow.py::a": 5.0, "slow.py::c": 0.5, "fast.py::b": 2.0, "fast.py::d": 0.1}
    mutation_order.fastest_first(items, seconds)
    assert [i.nodeid for i in items] == ["fast.py::d", "fast.py::b", "slow.py::c", "slow.py::a", "new.py::e"]


def test_only_a_mutants_run_with_mutmuts_record_is_reordered(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MUTANT_UNDER_TEST", "fmnist.cnn.loop.x_fit__mutmut_3")
    assert not mutation_order.under_a_mutant()  # no record of the tests' seconds here
    (tmp_path / "mutmut-stats.json").write_text('{"duration_by_test": {"t.py::x": 1.5}}')
    assert mutation_order.under_a_mutant() and mutation_order.mutmut_seconds() == {"t.py::x": 1.5}
    for run in ("stats", "", "fail"):  # mutmut's own runs of the tests: their order stays
        monkeypatch.setenv("MUTANT_UNDER_TEST", run)
        assert not mutation_order.under_a_mutant()
    monkeypatch.delenv("MUTANT_UNDER_TEST")
    assert not mutation_order.under_a_mutant()
