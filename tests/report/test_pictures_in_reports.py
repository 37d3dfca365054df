"""report.md links only pictures inside reports/, each picture another stage drew copied there byte for byte, so the
folder (in git) shows every picture in a fresh clone or a web view of the repository, without DVC; report.html
embeds the very same pictures."""

import base64
import re
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from fmnist.errors import PipelineError
from fmnist.layout import Layout
from fmnist.report.build import copy_pictures, write_report
from fmnist.report.document import Figure
from fmnist.report.picture_paths import PNG_SIGNATURE
from tests.support.report_fixtures import write_fixture_run, write_gallery, write_samples

# The pictures of other stages in the fixture run (repository paths), each with bytes of its own.
OTHER_STAGES = ("figures/visualize/raw-pca.png", "figures/gallery/cnn-lenet5.png", "figures/samples/classes.png")
# A Markdown link's target; an image's alt text escapes its brackets (fmnist/report/document.py).
LINK = re.compile(r"(!?)\[(?:\\.|[^\]\\])*\]\(([^)]*)\)")


def links(md: str) -> list[tuple[bool, str]]:
    """Every link of report.md in order: (is an image, target)."""
    return [(bang == "!", target) for bang, target in LINK.findall(md)]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """The fixture run with a gallery and a sample grid, its report written to reports/."""
    root = write_fixture_run(tmp_path_factory.mktemp("run"))
    write_gallery(root)
    (root / "figures/gallery/cnn-lenet5.png").write_bytes(PNG_SIGNATURE + b"the best CNN's mistakes")
    write_samples(root, PNG_SIGNATURE + b"ten images of each class")
    write_report(Layout(root), root / "reports")
    return root


def linked_files(run: Path) -> list[Path]:
    """The file each image link of reports/report.md names, in order (read as a browser resolves it)."""
    reports = run / "reports"
    found = []
    for image, target in links((reports / "report.md").read_text()):
        assert image, f"report.md links {target}, which is no picture"
        parts = urlsplit(target)
        assert not (parts.scheme or parts.netloc or parts.query or target.startswith("/")), target
        found.append(reports / unquote(parts.path))
    assert found
    return found


def test_every_picture_report_md_links_is_a_file_inside_reports(run):
    reports = (run / "reports").resolve()
    for path in linked_files(run):
        assert path.resolve().is_relative_to(reports / "figures"), f"{path} is outside reports/figures"
        assert path.is_file() and not path.is_symlink(), f"{path} is not a file of its own (git would keep a link)"
        assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_each_picture_of_another_stage_is_its_copy_byte_for_byte(run):
    """A linked file whose place in reports/ is a picture's place in the repository is that picture's copy; every
    other one the report drew itself (confusions, F1 bars, curves, sweeps) in reports/figures, not in a subfolder."""
    copies = {}
    for path in linked_files(run):
        shown = path.relative_to(run / "reports")
        if (run / shown).is_file():
            copies[shown.as_posix()] = path
        else:
            assert shown.parent == Path("figures"), f"{shown}: no picture of the run at {run / shown}"
    assert sorted(copies) == sorted(OTHER_STAGES)
    for source, copy in copies.items():
        assert copy.read_bytes() == (run / source).read_bytes(), source
    assert len({(run / source).read_bytes() for source in OTHER_STAGES}) == len(OTHER_STAGES)  # told apart


def test_report_html_embeds_the_pictures_report_md_links_in_the_same_order(run):
    html = (run / "reports/report.html").read_text()
    embedded = [base64.b64decode(data) for data in re.findall(r'src="data:image/png;base64,([^"]*)"', html)]
    assert embedded == [path.read_bytes() for path in linked_files(run)]


def test_reports_holds_nothing_report_md_does_not_show(run):
    reports = run / "reports"
    held = {p for p in reports.rglob("*") if p.is_file()}
    assert held == {reports / "report.md", reports / "report.html", *linked_files(run)}


def test_two_pictures_that_would_share_one_place_are_refused(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.png").write_bytes(PNG_SIGNATURE + folder.encode())
    blocks = [Figure(tmp_path / "a/same.png", "one"), Figure(tmp_path / "b/same.png", "other")]

    class Staged:  # writes in place: the test needs no commit
        def path(self, destination: Path) -> Path:
            destination.parent.mkdir(parents=True, exist_ok=True)
            return destination

    with pytest.raises(PipelineError, match="would both be shown as"):
        copy_pictures(blocks, Layout(tmp_path), tmp_path / "reports", Staged(), {})


def test_a_sample_grid_that_is_not_a_png_is_not_copied(tmp_path):
    root = write_fixture_run(tmp_path)
    write_samples(root, b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 hunter2@laptop")
    with pytest.raises(PipelineError, match="classes.png: not a PNG"):
        write_report(Layout(root), root / "reports")
    assert not [p for p in (root / "reports").rglob("*") if p.is_file()]


def test_provenance_counts_no_change_to_the_report_itself(tmp_path):
    """reports/ is in git, and DVC and the stage remove it before drawing it again: that is no uncommitted change of
    the checkout the report was drawn from; any other tracked file's change is."""
    root = write_fixture_run(tmp_path)
    write_report(Layout(root), root / "reports")
    for command in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "run"],
    ):
        subprocess.run(["git", *command], cwd=root, check=True)

    def commit_line() -> str:
        write_report(Layout(root), root / "reports")
        return re.search(r"^- git commit: .*$", (root / "reports/report.md").read_text(), re.MULTILINE).group(0)

    assert "uncommitted" not in commit_line()
    (root / "params.yaml").write_text("data:\n  seed: 7\n")
    assert commit_line().endswith(" plus uncommitted changes to params.yaml")
