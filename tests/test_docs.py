"""The docs read to a newcomer: no labels from the project's work history, section references that resolve, and a
docs/BENCHMARKS.md short enough to be a reference rather than a lab notebook."""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = "README.md"
BENCHMARKS = "docs/BENCHMARKS.md"
MAX_BENCHMARKS_LINES = 400
THIS_FILE = Path(__file__).resolve().relative_to(REPO).as_posix()  # its sample references are checked on their own

# A work session or an issue of this project, by number ("session N", "sessions N and M", "issue N", "issue #N",
# "(#N)", "#N"): the reader cannot look them up. A colour ("#808080") is not one.
HISTORY = re.compile(r"\bsessions? #?\d+|\bissues? #?\d+|\(#\d+\)|(?<![\w/&#\"'])#(?!\d{6}\b)\d+\b", re.IGNORECASE)
# Other projects' issues are fine: links and URLs, and owner/repo#N shorthand, are taken out before the search.
FOREIGN = re.compile(r"\[[^\]\n]*\]\(https?://[^)\s]+\)|https?://\S+|\b[\w.-]+/[\w.-]+#\d+\b")

# A section name in double quotes right after README, README's, `README,` or `README (`, or before `in README`; the
# same for docs/BENCHMARKS.md (or BENCHMARKS). Every form is in test_section_references_are_read_in_every_form below.
# A name may wrap onto the next line of a comment; ../other/README.md is another file.
_NAME = r'"(?P<{g}>[^"]{{1,160}})"'
_DOC = {README: r"(?<![\w/.])README(?:\.md)?", BENCHMARKS: r"(?<![\w/.])(?:docs/)?BENCHMARKS(?:\.md)?"}
REFERENCE = {
    doc: re.compile(rf"{word}(?:'s)?,?\s+\(?{_NAME.format(g='before')}|{_NAME.format(g='after')}\s+in\s+{word}\b")
    for doc, word in _DOC.items()
}
# A markdown link to a heading: (#anchor) within the file, (README.md#anchor) or (docs/BENCHMARKS.md#anchor).
LINK = re.compile(r"\]\((?P<file>[^)#\s]*)#(?P<anchor>[^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```[^\n]*$", re.MULTILINE | re.DOTALL)
COMMENT_WRAP = re.compile(r"[ \t]*\n[ \t]*(?:#+|//|\*)?[ \t]*")


@cache
def repository_texts() -> dict[str, str]:
    """Every text file of the repository (tracked, or new and not ignored), as it is in the working tree."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: no list of tracked files")
    texts = {}
    for name in filter(None, listing.split("\0")):
        path = REPO / name
        if not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue
        try:
            texts[name] = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
    return texts


def history_labels(text: str) -> list[tuple[int, str]]:
    """(line number, label) of every reference to the project's own sessions or issues in `text`."""
    found = []
    for line_number, line in enumerate(text.splitlines(), 1):
        found += [(line_number, match.group()) for match in HISTORY.finditer(FOREIGN.sub(" ", line))]
    return found


def headings(markdown: str) -> list[str]:
    """The markdown file's headings as they read (code blocks left out, backticks and emphasis dropped)."""
    prose = FENCE.sub("", markdown)
    return [re.sub(r"[`*]", "", h).strip() for h in re.findall(r"^#{1,6}[ \t]+(.+?)[ \t]*#*$", prose, re.MULTILINE)]


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def section_references(text: str) -> list[tuple[str, str]]:
    """(document, section name) of every quoted README or BENCHMARKS section name in `text`."""
    flat = COMMENT_WRAP.sub(" ", text)
    found = []
    for doc, pattern in REFERENCE.items():
        for match in pattern.finditer(flat):
            name = match.group("before") or match.group("after")
            found.append((doc, " ".join(name.split()).rstrip(".,:;")))
    return found


def names_a_heading(name: str, titles: list[str]) -> bool:
    return any(title.lower().startswith(name.lower()) for title in titles)


def test_no_file_speaks_of_the_projects_work_history():
    texts = repository_texts()
    assert README in texts and BENCHMARKS in texts
    found = [f"{name}:{line}: {label!r}" for name, text in texts.items() for line, label in history_labels(text)]
    assert found == [], "say what the session or issue changed or measured instead:\n" + "\n".join(found)


def test_every_quoted_section_name_is_a_heading_of_its_file():
    texts = repository_texts()
    titles = {doc: headings(texts[doc]) for doc in (README, BENCHMARKS)}
    references = [
        (name, doc, section)
        for name, text in texts.items()
        if name != THIS_FILE
        for doc, section in section_references(text)
    ]
    assert len(references) >= 10, references  # the patterns still find the references the repository makes
    missing = [
        f'{name}: {doc} "{section}"' for name, doc, section in references if not names_a_heading(section, titles[doc])
    ]
    assert missing == [], "no such heading in that file (`grep -n '^#' README.md docs/BENCHMARKS.md`):\n" + "\n".join(
        missing
    )


def test_every_link_to_a_heading_resolves():
    texts = repository_texts()
    anchors = {doc: {anchor(title) for title in headings(texts[doc])} for doc in (README, BENCHMARKS)}
    broken = []
    for name in (README, BENCHMARKS):
        for match in LINK.finditer(texts[name]):
            target = match["file"] or name
            doc = next((d for d in anchors if target.endswith(Path(d).name)), None)
            if doc is not None and match["anchor"] not in anchors[doc]:
                broken.append(f"{name}: {match.group()}")
    assert broken == [], "\n".join(broken)


def test_benchmarks_is_a_reference_not_a_notebook():
    lines = repository_texts()[BENCHMARKS].count("\n")
    assert lines <= MAX_BENCHMARKS_LINES, f"{BENCHMARKS} has {lines} lines; keep the latest figures, git keeps the rest"


# The checks themselves, on seeded text (labels built at run time, so that this file passes its own scan).
SESSION, ISSUE, HASH = "session", "issue", "#"


@pytest.mark.parametrize(
    "text",
    [
        f"measured in {SESSION} 13",
        f"({SESSION.title()}s 10 and 11, AMD EPYC)",
        f"the GPU target of {ISSUE} 16",
        f"see {ISSUE} {HASH}15",
        f"fixed in ({HASH}30).",
        f"as {HASH}30 asked",
    ],
)
def test_a_history_label_is_found(text):
    assert history_labels(text) != []


@pytest.mark.parametrize(
    "text",
    [
        "DVC runs one per workspace ([treeverse/dvc#755](https://github.com/treeverse/dvc/issues/755))",
        "([#8702](https://github.com/treeverse/dvc/issues/8702))",
        "treeverse/dvc#8461",
        'color="#808080"',
        "the session's tiny pipeline; MaxSessions 30; report 003; issues/ folder",
    ],
)
def test_other_projects_and_colours_are_not_history(text):
    assert history_labels(text) == []


def test_section_references_are_read_in_every_form():
    text = (
        'README\'s "Teamwork: a shared\n# remote" and (README, "Results") and README "Params" and\n'
        '"Tests" in README; docs/BENCHMARKS.md ("Cores and machines"), BENCHMARKS "CNNs",\n'
        '(docs/BENCHMARKS.md, "On a GPU"); ../shared/seeds/README.md "not ours"'
    )
    assert section_references(text) == [
        (README, "Teamwork: a shared remote"),
        (README, "Results"),
        (README, "Params"),
        (README, "Tests"),
        (BENCHMARKS, "Cores and machines"),
        (BENCHMARKS, "CNNs"),
        (BENCHMARKS, "On a GPU"),
    ]
    assert names_a_heading("Teamwork", ["Teamwork: a shared remote"])
    assert not names_a_heading("Set-up", ["Two commands", "Tests"])
