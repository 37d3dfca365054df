"""A stage killed outright (SIGKILL: the OOM killer, `kill -9`) on tiny data: what it leaves beside its outputs
(temporary files, unfinished learning curves) is invisible to git and DVC, and the next run removes it.

tests/pipeline/test_teamwork.py kills `prepare` (one directory output, which DVC itself deletes before the
re-run); here the victims are a stage with file outputs, whose folder DVC leaves alone (extract_features@raw),
and a training stage, which also leaves its curves folder (train_cnn@mlp). Both are killed while their outputs
are written, at the point tests/support/dvc_team.py pauses them: every temporary on disk, none renamed yet.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from fmnist.atomic import remove_outputs
from tests.support.dvc_project import DvcProject, make_tiny_project, stages_run
from tests.support.dvc_team import kill_stage_half_way
from tests.support.tiny_params import tiny_settings

VICTIMS = {"extract_features@raw": "stages.extract_features", "train_cnn@mlp": "stages.train_cnn"}
UP_TO_DATE = "Data and pipelines are up to date."


def leftovers(project: DvcProject) -> list[str]:
    """Temporaries (.<name>.<random>.tmp) and unfinished curves (.live.partial) in the workspace."""
    found = [*project.root.rglob(".*.tmp"), *project.root.rglob(".*.partial")]
    return sorted(str(p.relative_to(project.root)) for p in found if ".dvc" not in p.relative_to(project.root).parts)


def git_status(project: DvcProject) -> str:
    return project.run("git", "status", "--porcelain", "--untracked-files=all").stdout


@pytest.fixture
def project(tmp_path: Path) -> DvcProject:
    """A tiny project whose data is prepared and committed; the victims have never run (no run cache)."""
    project = make_tiny_project(tmp_path / "tiny", tiny_params=tiny_settings)
    project.dvc("repro", "prepare")
    project.commit_all("prepared")
    return project


def test_sigkilled_stages_leave_nothing_git_or_dvc_sees_and_the_rerun_removes_it(project):
    for stage, module in VICTIMS.items():
        kill_stage_half_way(project, stage, module, signal.SIGKILL)
    left = leftovers(project)
    assert any(p.startswith("features/raw/.train.npy.") for p in left), left  # the 188 MB file of the real data
    assert "plots/cnn/mlp/.live.partial" in left and any(p.startswith("models/cnn/.mlp.pt.") for p in left), left
    assert git_status(project) == ""  # .gitignore

    # .dvcignore keeps such files out of a directory's hash: data/prepared is prepare's output and both
    # victims' dependency (as plots/ is the gallery's and the report's).
    stray = [project.root / "data/prepared/.train_images.npy.k1ll3d.tmp", project.root / "data/prepared/.live.partial"]
    stray[0].write_bytes(b"half-written")
    stray[1].mkdir()
    (stray[1] / "metrics.json").write_text("{}")
    ignored = project.dvc("check-ignore", *left, *(str(p.relative_to(project.root)) for p in stray)).stdout.split()
    assert len(ignored) == len(left) + len(stray), ignored
    assert UP_TO_DATE in project.dvc("status", "prepare").stdout
    stray[0].unlink()
    remove_outputs(stray[1])

    ran = stages_run(project.dvc("repro", *VICTIMS).stdout)
    assert sorted(ran) == sorted(VICTIMS), ran  # really run (nothing in the run cache), not restored
    assert leftovers(project) == []  # the re-run removed them
    project.commit_all("ran")
    assert git_status(project) == ""
    assert UP_TO_DATE in project.dvc("status", "prepare", *VICTIMS).stdout

    # Killed again, now that the run cache holds the stage: `dvc repro` restores it
    # without running it, so the leftovers stay, unseen by git and DVC, until the stage next runs.
    stage = "extract_features@raw"
    kill_stage_half_way(project, stage, VICTIMS[stage], signal.SIGKILL)
    assert any(p.startswith("features/raw/.train.npy.") for p in leftovers(project))
    assert stages_run(project.dvc("repro", stage).stdout) == []
    assert git_status(project) == ""
    assert UP_TO_DATE in project.dvc("status", "prepare", *VICTIMS).stdout


@pytest.mark.parametrize("shell", ["/bin/bash", "/bin/sh"])
def test_a_stage_ends_with_the_dvc_that_runs_it_and_writes_nothing(project, shell):
    """SIGTERM to DVC alone (`kill` of `dvc exp run`): DVC dies without stopping its stage, which would otherwise
    sleep on at its commit point and then write outputs no dvc.lock records. bash replaces itself with the stage's
    command; dash (/bin/sh) waits for it, so the stage's parent is then the shell, orphaned in turn."""
    stage = "extract_features@raw"
    kill_stage_half_way(project, stage, VICTIMS[stage], signal.SIGTERM, dvc_only=True, shell=shell)
    assert leftovers(project) == []  # it ended as on SIGTERM: temporaries removed
    assert not list(project.root.glob("features/raw/*"))  # no output written
    assert git_status(project) == ""
