"""fmnist.atomic: outputs appear complete or not at all, whatever interrupts the stage."""

import errno
import os
import re
import stat
from pathlib import Path

import numpy as np
import pytest

import fmnist.atomic as atomic
from fmnist.atomic import load_npy, remove_outputs, staged_outputs
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


@pytest.fixture
def umask():
    """os.umask for one test: the process's umask is restored afterwards."""
    previous = os.umask(0o022)
    yield os.umask
    os.umask(previous)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_outputs_get_the_permissions_the_umask_gives_new_files(tmp_path, umask, mask, mode):
    # mkstemp creates its file 0600 whatever the umask; a committed output is readable as any new file would be.
    umask(mask)
    with staged_outputs() as staged:
        staged.path(tmp_path / "a.npy").write_text("a")
    assert stat.S_IMODE((tmp_path / "a.npy").stat().st_mode) == mode


@pytest.mark.parametrize("listed", ["sorted", "reversed"])
def test_every_stale_temporary_goes_whatever_order_the_folder_lists_its_files_in(tmp_path, monkeypatch, listed):
    # A previous output and another destination's temporary sit beside the stale ones; the folder may list any of
    # them first (the order of `os.scandir` is the file system's).
    stale = [tmp_path / ".a.npy.k1ll3d_1.tmp", tmp_path / ".a.npy.k1ll3d_2.tmp"]
    others = [tmp_path / "a.npy", tmp_path / ".a.npy.x.k1ll3d_3.tmp", tmp_path / "b.npy"]
    for path in stale + others:
        path.write_bytes(b"old")
    real_iterdir = Path.iterdir
    monkeypatch.setattr(Path, "iterdir", lambda self: iter(sorted(real_iterdir(self), reverse=listed == "reversed")))
    with staged_outputs() as staged:
        staged.path(tmp_path / "a.npy").write_text("new")
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in others)
    assert (tmp_path / "a.npy").read_text() == "new"


def test_a_stale_temporary_that_another_run_removed_first_is_no_error(tmp_path, monkeypatch):
    # Two runs cleaning the same folder: the other one deletes the file between our lock and our unlink.
    stale = tmp_path / ".a.npy.k1ll3d_1.tmp"
    stale.write_bytes(b"half-written")
    real_lock = atomic._lock_or_none

    def lock_then_lose_the_race(path):
        fd = real_lock(path)
        path.unlink()
        return fd

    monkeypatch.setattr(atomic, "_lock_or_none", lock_then_lose_the_race)
    with staged_outputs() as staged:
        staged.path(tmp_path / "a.npy").write_text("a")
    assert [p.name for p in tmp_path.iterdir()] == ["a.npy"]


def test_a_failing_stage_that_removed_its_own_temporary_fails_with_its_own_error(tmp_path):
    with pytest.raises(RuntimeError, match="stage failed"), staged_outputs() as staged:
        staged.path(tmp_path / "a.npy").write_text("a")
        staged.path(tmp_path / "b.npy").unlink()
        raise RuntimeError("stage failed")
    assert list(tmp_path.iterdir()) == []


def test_an_error_naming_a_temporary_names_its_destination_not_the_last_one_staged(tmp_path):
    destination = tmp_path / "a.npy"
    with (
        pytest.raises(PipelineError, match=rf"^{re.escape(str(destination))}: cannot write it: no space left"),
        staged_outputs() as staged,
    ):
        first = staged.path(destination)
        staged.path(tmp_path / "b.npy")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(first))
    assert list(tmp_path.iterdir()) == []


def test_an_error_naming_a_file_that_is_not_an_output_is_left_as_it_is(tmp_path):
    # A full disk met while writing a log or a cache elsewhere is not about the outputs: the OSError goes on unchanged.
    elsewhere = tmp_path / "cache" / "log.txt"
    with pytest.raises(OSError) as caught, staged_outputs() as staged:
        staged.path(tmp_path / "a.npy").write_text("a")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(elsewhere))
    assert type(caught.value) is OSError and caught.value.filename == str(elsewhere)
    assert list(tmp_path.iterdir()) == []


def test_arrays_are_saved_and_loaded_back_unchanged(tmp_path):
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    with staged_outputs() as staged:
        staged.save_npy(tmp_path / "a.npy", array)
    loaded = load_npy(tmp_path / "a.npy", "re-run the stage")
    assert loaded.dtype == np.float32 and np.array_equal(loaded, array)
    mapped = load_npy(str(tmp_path / "a.npy"), "re-run the stage", mmap_mode="r")
    assert isinstance(mapped, np.memmap) and np.array_equal(mapped, array)


def test_an_array_of_python_objects_is_never_pickled(tmp_path):
    with pytest.raises(ValueError, match="allow_pickle=False"), staged_outputs() as staged:
        staged.save_npy(tmp_path / "a.npy", np.array([{"a": 1}], dtype=object))
    assert list(tmp_path.iterdir()) == []


def test_json_is_written_indented_with_sorted_keys_and_a_final_newline(tmp_path):
    # Stable text: a re-run writing the same values writes the same bytes (no spurious diff in git or DVC).
    with staged_outputs() as staged:
        staged.save_json(tmp_path / "m.json", {"b": [1], "a": 0.5})
    assert (tmp_path / "m.json").read_text() == '{\n  "a": 0.5,\n  "b": [\n    1\n  ]\n}\n'


def _pickled(path):
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)


@pytest.mark.parametrize(
    "write",
    [
        lambda path: path.write_bytes(b""),
        lambda path: path.write_bytes(b"not an array at all"),
        lambda path: (np.save(path, np.arange(100.0)), path.write_bytes(path.read_bytes()[:200])),
        _pickled,
    ],
    ids=["empty", "not-npy", "truncated", "pickled"],
)
def test_a_damaged_or_pickled_array_is_one_message_naming_the_file_and_the_remedy(tmp_path, write):
    path = tmp_path / "a.npy"
    write(path)
    with pytest.raises(PipelineError) as caught:
        load_npy(path, "re-run `dvc repro extract_features`")
    assert str(caught.value) == (
        f"{path}: not a complete numeric .npy array (damaged, truncated, or not written by this pipeline); "
        "re-run `dvc repro extract_features`"
    )


def test_a_missing_array_is_file_not_found_for_the_caller_to_explain(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_npy(tmp_path / "a.npy", "re-run the stage")


def test_remove_outputs_deletes_files_and_folders_and_skips_missing_ones(tmp_path):
    (tmp_path / "model.pt").write_text("weights")
    (tmp_path / "curves" / "train").mkdir(parents=True)
    (tmp_path / "curves" / "train" / "loss.tsv").write_text("1")
    (tmp_path / "kept.json").write_text("{}")
    remove_outputs(tmp_path / "model.pt", str(tmp_path / "curves"), tmp_path / "never-written.json")
    assert [p.name for p in tmp_path.iterdir()] == ["kept.json"]


def test_remove_outputs_deletes_a_link_to_a_folder_not_what_it_points_to(tmp_path):
    target = tmp_path / "shared"
    target.mkdir()
    (target / "keep.npy").write_text("k")
    link = tmp_path / "out"
    link.symlink_to(target, target_is_directory=True)
    remove_outputs(link)
    assert not link.is_symlink() and not link.exists()
    assert (target / "keep.npy").read_text() == "k"
