"""fmnist.atomic: outputs appear complete or not at all, whatever interrupts the stage."""

import pytest

import fmnist.atomic as atomic
from fmnist.atomic import staged_outputs


def test_outputs_appear_only_on_success(tmp_path):
    with pytest.raises(RuntimeError), staged_outputs() as staged:
        staged.path(tmp_path / "a").write_text("a")
        raise RuntimeError("stage failed")
    assert list(tmp_path.iterdir()) == []
    with staged_outputs() as staged:
        staged.path(tmp_path / "a").write_text("a")
    assert [p.name for p in tmp_path.iterdir()] == ["a"]


def test_an_interrupt_during_commit_removes_the_temporaries_not_yet_renamed(tmp_path, monkeypatch):
    real_replace = atomic.os.replace
    calls = []

    def replace_then_fail(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise SystemExit(143)  # what SIGTERM raises in a stage (fmnist.cli.run_stage)
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace_then_fail)
    with pytest.raises(SystemExit), staged_outputs() as staged:
        for name in ("a", "b", "c"):
            staged.path(tmp_path / name).write_text(name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]
