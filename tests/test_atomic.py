"""fmnist.atomic: outputs appear complete or not at all, whatever interrupts the stage."""

import errno
import os
from pathlib import Path

import pytest

import fmnist.atomic as atomic
from fmnist.atomic import staged_outputs
from fmnist.errors import PipelineError


def test_outputs_appear_only_on_success(tmp_path):
    with pytest.raises(RuntimeError), staged_outputs() as staged:
        staged.path(tmp_path / "a").write_text("a")
        raise RuntimeError("stage failed")
    assert list(tmp_path.iterdir()) == []
    with staged_outputs() as staged:
        staged.path(tmp_path / "a").write_text("a")
    assert [p.name for p in tmp_path.iterdir()] == ["a"]


def test_temporaries_are_created_beside_their_destination(tmp_path):
    # Same folder, hence the same file system: the final rename is atomic (across file systems it is a copy).
    destination = tmp_path / "features" / "raw" / "train.npy"
    with staged_outputs() as staged:
        temporary = staged.path(destination)
        assert temporary.parent == destination.parent
        assert temporary.name.startswith(".train.npy.") and temporary.name.endswith(".tmp")
        assert temporary.is_file() and temporary.stat().st_dev == destination.parent.stat().st_dev
        temporary.write_text("rows")
    assert [p.name for p in destination.parent.iterdir()] == ["train.npy"]


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


def test_stale_temporaries_of_a_killed_run_are_removed_when_the_destination_is_staged_again(tmp_path):
    # What `kill -9` during a write leaves: temporaries of a.npy (two killed runs), of another destination
    # (b.npy: not ours to judge) and of a file whose name merely starts like ours.
    stale = [tmp_path / ".a.npy.k1ll3d_1.tmp", tmp_path / ".a.npy.k1ll3d_2.tmp"]
    others = [tmp_path / ".b.npy.k1ll3d_3.tmp", tmp_path / ".a.npy.x.k1ll3d_4.tmp"]
    for path in stale + others:
        path.write_bytes(b"half-written")
    with staged_outputs() as staged:
        staged.path(tmp_path / "a.npy").write_text("a")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["a.npy"] + [p.name for p in others])


def test_a_temporary_that_a_live_process_is_writing_is_left_alone(tmp_path):
    first = atomic.StagedOutputs()
    busy = first.path(tmp_path / "a")  # a writer still at work (it holds the temporary open)
    busy.write_text("in progress")
    with staged_outputs() as staged:
        staged.path(tmp_path / "a").write_text("a")
    assert busy.exists()
    first.discard()
    assert [p.name for p in tmp_path.iterdir()] == ["a"]


@pytest.mark.parametrize(
    "err, words",
    [
        (errno.ENOSPC, ["no space left", "free some disk space"]),
        (errno.EROFS, ["read-only", "make the checkout writable"]),
        (errno.EACCES, ["permission denied", "make the checkout writable"]),
    ],
    ids=["ENOSPC", "EROFS", "EACCES"],
)
def test_a_full_disk_or_read_only_checkout_is_one_message_and_leaves_no_temporaries(tmp_path, err, words):
    with pytest.raises(PipelineError) as caught, staged_outputs() as staged:
        staged.path(tmp_path / "a.npy").write_text("a")
        with open(staged.path(tmp_path / "b.npy"), "wb") as f:
            f.write(b"half")
            raise OSError(err, os.strerror(err))  # what the write() of a full or read-only disk raises
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'b.npy'}: ")
    assert all(word in message for word in words), message
    assert "dvc repro" in message
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_cannot_be_written_is_named(tmp_path, monkeypatch):
    def refuse(*args, dir=None, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(Path(dir) / ".a.npy.xyz.tmp"))

    monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)
    with (
        pytest.raises(PipelineError, match=rf"^{tmp_path / 'a.npy'}: cannot write it: permission denied"),
        staged_outputs() as staged,
    ):
        staged.path(tmp_path / "a.npy")
