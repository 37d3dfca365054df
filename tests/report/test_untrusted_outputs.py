"""The JSON outputs the report reads come from the shared remote: a picture path in them reads nothing outside its
stage's picture folder and nothing but a PNG, and their text never becomes markup in report.md or report.html."""

import base64
import json
import os
from pathlib import Path

import pytest

import stages.report
from fmnist.cli import run_stage
from fmnist.errors import PipelineError
from fmnist.layout import Layout
from fmnist.report.build import write_report
from fmnist.report.document import Figure, to_html
from fmnist.report.picture_paths import PNG_SIGNATURE
from tests.support.report_fixtures import (
    PICTURE_SOURCES,
    markdown_tables,
    name_picture,
    write_fixture_run,
    write_gallery,
    write_json,
)

# A file a picture path must never reach: it even starts like a PNG, so only the folder check can refuse it.
SECRET = b"\x89PNG\r\n\x1a\n-----BEGIN OPENSSH PRIVATE KEY----- hunter2"
NOT_A_PNG = b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 hunter2@laptop"


@pytest.fixture
def run(tmp_path) -> Path:
    """A finished run with a gallery, in tmp_path/run; a secret lies beside it in tmp_path/secret/id_ed25519."""
    (tmp_path / "run").mkdir()
    root = write_fixture_run(tmp_path / "run")
    write_gallery(root)
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret/id_ed25519").write_bytes(SECRET)
    return root


def report_error(root: Path) -> str:
    """The one PipelineError write_report raises for `root`, as its message."""
    with pytest.raises(PipelineError) as refused:
        write_report(Layout(root), root / "reports")
    return str(refused.value)


def assert_not_embedded(root: Path, content: bytes) -> None:
    """No file under `root` holds `content` base64-encoded (as report.html embeds a picture)."""
    encoded = base64.b64encode(content)
    assert not [path for path in root.rglob("*") if path.is_file() and encoded in path.read_bytes()]


def absolute(root: Path, folder: str) -> str:
    return str(root.parent / "secret/id_ed25519")


def dot_dot(root: Path, folder: str) -> str:
    return f"{folder}/../../../secret/id_ed25519"


def symlink(root: Path, folder: str) -> str:
    os.symlink(root.parent / "secret/id_ed25519", root / folder / "linked.png")
    return f"{folder}/linked.png"


def other_folder(root: Path, folder: str) -> str:
    """A PNG of the repository, but in another stage's folder (the sample grid's)."""
    (root / "figures/samples").mkdir(parents=True)
    (root / "figures/samples/classes.png").write_bytes(SECRET)
    return "figures/samples/classes.png"


@pytest.mark.parametrize("source", sorted(PICTURE_SOURCES))
@pytest.mark.parametrize("escape", [absolute, dot_dot, symlink, other_folder], ids=lambda f: f.__name__)
def test_a_picture_path_leading_out_of_its_folder_is_refused_and_nothing_is_embedded(run, source, escape):
    json_path, folder = PICTURE_SOURCES[source]
    value = escape(run, folder)
    name_picture(run, source, value)
    message = report_error(run)
    assert json_path in message and value in message and "outside" in message and folder in message
    assert f"dvc repro --force {'visualize@raw-pca' if source == 'visualize' else 'gallery'}" in message
    assert not (run / "reports").exists()
    assert_not_embedded(run, SECRET)


@pytest.mark.parametrize("source", sorted(PICTURE_SOURCES))
def test_a_picture_linked_into_dvcs_cache_is_shown(run, source):
    """A shared cache set up with `cache.type symlink` (README, Teamwork) makes every output a link into the cache."""
    from dvc.repo import Repo

    Repo.init(str(run), no_scm=True).close()
    json_path, folder = PICTURE_SOURCES[source]
    cached = run / ".dvc/cache/files/md5/ab/cdef0123456789abcdef0123456789"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(PNG_SIGNATURE + b"a cached picture")
    os.symlink(cached, run / folder / "cached.png")
    name_picture(run, source, f"{folder}/cached.png")
    write_report(Layout(run), run / "reports")
    assert base64.b64encode(cached.read_bytes()) in (run / "reports/report.html").read_bytes()
    copy = run / "reports" / folder / "cached.png"  # report.md's picture: a file of its own, for git to keep
    assert not copy.is_symlink() and copy.read_bytes() == cached.read_bytes()


@pytest.mark.parametrize("source", sorted(PICTURE_SOURCES))
def test_a_picture_that_is_not_a_png_is_refused(run, source):
    json_path, folder = PICTURE_SOURCES[source]
    (run / folder / "key.png").write_bytes(NOT_A_PNG)
    name_picture(run, source, f"{folder}/key.png")
    message = report_error(run)
    assert json_path in message and f"{folder}/key.png" in message and "not a PNG" in message
    assert not (run / "reports").exists()
    assert_not_embedded(run, NOT_A_PNG)


def test_html_embeds_nothing_but_a_png(tmp_path):
    """Every picture, whichever stage drew it, is checked where it is embedded."""
    (tmp_path / "notes.png").write_text("hunter2")
    with pytest.raises(PipelineError, match="notes.png: not a PNG"):
        to_html([Figure(tmp_path / "notes.png", "notes")], "report")


def test_a_gallery_naming_a_missing_png_is_one_error_line_of_the_report_stage(run, monkeypatch, capsys):
    (run / "figures/gallery/cnn-lenet5.png").unlink()
    monkeypatch.chdir(run)
    monkeypatch.setattr(stages.report, "stage_params", lambda keys: {})  # the fixture has no full params.yaml
    with pytest.raises(SystemExit) as exit_:
        run_stage(stages.report.main)
    err = capsys.readouterr().err
    assert exit_.value.code == 1 and len(err.splitlines()) == 1, err
    assert err.startswith("error: figures/gallery/gallery.json: ") and "figures/gallery/cnn-lenet5.png" in err
    assert "`dvc checkout gallery`" in err


@pytest.mark.parametrize("index", [[1], {"galleries": {}}, {"galleries": [{"caption": "no picture"}]}], ids=str)
def test_a_malformed_gallery_index_is_one_clear_error(run, index):
    write_json(run / "figures/gallery/gallery.json", index)
    assert report_error(run).startswith(f"{run}/figures/gallery/gallery.json: ")


@pytest.mark.parametrize("source", sorted(PICTURE_SOURCES))
def test_a_path_that_stays_inside_its_folder_is_shown_by_its_plain_name(run, source):
    json_path, folder = PICTURE_SOURCES[source]
    picture = "raw-pca.png" if source == "visualize" else "cnn-lenet5.png"
    name_picture(run, source, f"{folder}/../{Path(folder).name}/./{picture}")
    write_report(Layout(run), run / "reports")
    assert f"]({folder}/{picture})" in (run / "reports/report.md").read_text()  # its copy in reports/figures
    assert (run / "reports" / folder / picture).read_bytes() == (run / folder / picture).read_bytes()


def test_text_from_output_jsons_is_escaped_in_the_report(run):
    details = run / "details/visualize/raw-pca.json"
    write_json(details, {**json.loads(details.read_text()), "feature": '<script>alert("pwned")</script> | raw'})
    write_gallery(run, caption="<img src=x onerror=alert(1)> & more")
    classify = run / "details/classify/raw-lda.json"
    write_json(classify, {**json.loads(classify.read_text()), "model": "<b>lda</b>|qda"})
    write_report(Layout(run), run / "reports")
    md, html = ((run / "reports" / name).read_text() for name in ("report.md", "report.html"))
    for text in (md, html):
        assert "<script" not in text and "<img src=x" not in text and "<b>" not in text
        assert "&lt;script&gt;" in text and "&lt;img src=x onerror=alert(1)&gt; &amp; more" in text
    for rows in markdown_tables(md).values():  # a pipe in a name splits no cell
        assert {len(row) for row in rows} == {len(rows[0])}, rows[0]
    assert '&lt;script&gt;alert("pwned")&lt;/script&gt; \\| raw' in md
