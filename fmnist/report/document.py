"""A tiny document model rendered two ways: Markdown with linked images, and one self-contained HTML file.

The report is built once as a list of blocks, so report.md and report.html always say the same thing.
"""

from __future__ import annotations

import base64
import html
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

from fmnist.errors import PipelineError
from fmnist.report.picture_paths import is_png


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str
    css: str = ""  # "note" or "warning" for a coloured box in HTML


@dataclass(frozen=True)
class BulletList:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()  # right-align these columns
    highlight: frozenset = field(default_factory=frozenset)  # (row, column) cells shown in bold
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    path: Path  # the PNG on disk
    caption: str
    half: bool = False  # in HTML, two such figures sit side by side


@dataclass(frozen=True)
class FigureGrid:
    """Figures in rows (say feature sets x methods); a None cell is left empty."""

    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    cells: tuple[tuple[Figure | None, ...], ...]


Block = Heading | Paragraph | BulletList | Table | Figure | FigureGrid


def moved_figures(blocks: list[Block], move: Callable[[Path], Path]) -> list[Block]:
    """`blocks` with each figure's picture at `move(path)` (a grid's figures too), all else as it was."""

    def figure(f: Figure | None) -> Figure | None:
        return None if f is None else replace(f, path=move(f.path))

    moved: list[Block] = []
    for block in blocks:
        if isinstance(block, Figure):
            moved.append(figure(block))
        elif isinstance(block, FigureGrid):
            moved.append(replace(block, cells=tuple(tuple(map(figure, row)) for row in block.cells)))
        else:
            moved.append(block)
    return moved


def _md_text(text: str) -> str:
    """Plain text for Markdown, which passes raw HTML through: names, captions and notes come from the stages' JSON
    outputs (pulled from the shared remote), so <, > and & are escaped and never become markup in report.md."""
    return html.escape(text, quote=False)


def _md_cell(text: str) -> str:
    """Text of a table cell, where a pipe would start another cell and a newline end the row."""
    return _md_text(text).replace("|", "\\|").replace("\n", " ")


def _md_image(figure: Figure, base: Path) -> str:
    alt = _md_cell(figure.caption).replace("[", "\\[").replace("]", "\\]")
    return f"![{alt}]({_relative(figure.path, base)})"


def to_markdown(blocks: list[Block], base: Path) -> str:
    """Markdown; images are linked relative to `base` (the folder report.md lives in)."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append(f"{'#' * block.level} {_md_text(block.text)}")
        elif isinstance(block, Paragraph):
            out.append(f"> {_md_text(block.text)}" if block.css else _md_text(block.text))
        elif isinstance(block, BulletList):
            out.append("\n".join(f"- {_md_text(item)}" for item in block.items))
        elif isinstance(block, Table):
            lines = [f"*{_md_cell(block.caption)}*", ""] if block.caption else []
            align = [("---:" if block.numeric and block.numeric[i] else "---") for i in range(len(block.headers))]
            lines.append("| " + " | ".join(map(_md_cell, block.headers)) + " |")
            lines.append("| " + " | ".join(align) + " |")
            for r, row in enumerate(block.rows):
                cells = [f"**{_md_cell(c)}**" if (r, j) in block.highlight else _md_cell(c) for j, c in enumerate(row)]
                lines.append("| " + " | ".join(cells) + " |")
            out.append("\n".join(lines))
        elif isinstance(block, Figure):
            out.append(f"{_md_image(block, base)}\n\n*{_md_cell(block.caption)}*")
        elif isinstance(block, FigureGrid):
            columns = " | ".join(map(_md_cell, block.column_labels))
            lines = [f"| | {columns} |", "| --- |" + " --- |" * len(block.column_labels)]
            for label, cells in zip(block.row_labels, block.cells, strict=True):
                images = [_md_image(c, base) if c else "not run" for c in cells]
                lines.append(f"| **{_md_cell(label)}** | " + " | ".join(images) + " |")
            out.append("\n".join(lines))
        else:
            raise TypeError(f"unknown block {block!r}")
    return "\n\n".join(out) + "\n"


def _relative(path: Path, base: Path) -> str:
    """A link to `path` from `base`, URL-quoted so no file name can end the Markdown link."""
    return quote(Path(os.path.relpath(path, base)).as_posix())


def _inline(text: str) -> str:
    """Escaped text with Markdown's `code` spans as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _anchor(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def read_png(path: Path, read_from: Path | None = None) -> bytes:
    """The bytes of picture `path` (read from `read_from` when given: an output not yet renamed into place), once
    they prove it a PNG (whichever stage drew it); the report shows nothing else."""
    picture = (read_from or path).read_bytes()
    if not is_png(picture):
        raise PipelineError(
            f"{path}: not a PNG (it lacks the PNG signature), so the report does not show it; "
            "re-run the stage that drew it (`dvc repro --force <stage>`)"
        )
    return picture


def _img(path: Path, alt: str, read_from: dict[Path, Path]) -> str:
    """The picture embedded."""
    data = base64.b64encode(read_png(path, read_from.get(path))).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


STYLE = """
body { font-family: -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 0; color: #1d2430;
       background: #f6f7f9; line-height: 1.45; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 32px 64px; background: white; }
h1 { font-size: 1.9em; border-bottom: 3px solid #2b6cb0; padding-bottom: 6px; }
h2 { font-size: 1.4em; margin-top: 2.2em; border-bottom: 1px solid #d7dce3; padding-bottom: 4px; }
h3 { font-size: 1.12em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 10px 0 18px; font-size: 0.9em; }
p.caption { font-style: italic; color: #4a5568; margin: 14px 0 2px; }
th, td { border: 1px solid #d7dce3; padding: 4px 9px; vertical-align: top; }
th { background: #edf2f7; text-align: left; position: sticky; top: 0; }
tr:nth-child(even) td { background: #fafbfc; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.hl { font-weight: bold; background: #e6fffa !important; }
td.neg { color: #c53030; } td.pos { color: #2f855a; }
td.missing { color: #a0aec0; font-style: italic; }
p.note { background: #ebf8ff; border-left: 4px solid #3182ce; padding: 8px 12px; }
p.warning { background: #fffaf0; border-left: 4px solid #dd6b20; padding: 8px 12px; }
figure { margin: 12px 0 22px; } figure img { max-width: 100%; border: 1px solid #e2e8f0; }
figure.half { display: inline-block; width: 48%; margin-right: 1.5%; vertical-align: top; }
figcaption { font-size: 0.88em; color: #4a5568; }
table.grid td { border: none; padding: 2px; background: white !important; } table.grid img { width: 100%; }
table.grid th { background: white; border: none; text-align: center; }
nav { font-size: 0.9em; margin: 6px 0 14px; } nav a { color: #2b6cb0; text-decoration: none; }
code { background: #edf2f7; padding: 1px 4px; border-radius: 3px; }
"""


def _cell_class(text: str, numeric: bool, highlighted: bool) -> str:
    classes = []
    if numeric:
        classes.append("num")
        if text.startswith("+"):
            classes.append("pos")
        elif text.startswith(("-", "−")) and len(text) > 1:
            classes.append("neg")
    if text in ("not run", "n/a", "") or text.startswith("not "):
        classes.append("missing")
    if highlighted:
        classes.append("hl")
    return f' class="{" ".join(classes)}"' if classes else ""


def to_html(blocks: list[Block], title: str, read_from: dict[Path, Path] | None = None) -> str:
    """One HTML page with every image embedded (base64), readable offline and without DVC.

    `read_from` maps an image's path to the file to read it from (an output not yet renamed into place).
    """
    read_from = read_from or {}
    out = [
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>',
        f"<style>{STYLE}</style></head><body><main>",
    ]
    sections = [b.text for b in blocks if isinstance(b, Heading) and b.level == 2]
    for block in blocks:
        if isinstance(block, Heading):
            out.append(f'<h{block.level} id="{_anchor(block.text)}">{html.escape(block.text)}</h{block.level}>')
            if block.level == 1 and sections:
                links = " · ".join(f'<a href="#{_anchor(t)}">{html.escape(t)}</a>' for t in sections)
                out.append(f"<nav>{links}</nav>")
        elif isinstance(block, Paragraph):
            css = f' class="{block.css}"' if block.css else ""
            out.append(f"<p{css}>{_inline(block.text)}</p>")
        elif isinstance(block, BulletList):
            out.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in block.items) + "</ul>")
        elif isinstance(block, Table):
            rows = []
            for r, row in enumerate(block.rows):
                cells = "".join(
                    f"<td{_cell_class(c, bool(block.numeric and block.numeric[j]), (r, j) in block.highlight)}>"
                    f"{html.escape(c)}</td>"
                    for j, c in enumerate(row)
                )
                rows.append(f"<tr>{cells}</tr>")
            caption = f'<p class="caption">{html.escape(block.caption)}</p>' if block.caption else ""
            head = "".join(f"<th>{html.escape(h)}</th>" for h in block.headers)
            out.append(f"{caption}<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
        elif isinstance(block, Figure):
            css = ' class="half"' if block.half else ""
            out.append(
                f"<figure{css}>{_img(block.path, block.caption, read_from)}"
                f"<figcaption>{html.escape(block.caption)}</figcaption></figure>"
            )
        elif isinstance(block, FigureGrid):
            head = "<th></th>" + "".join(f"<th>{html.escape(c)}</th>" for c in block.column_labels)
            rows = []
            for label, cells in zip(block.row_labels, block.cells, strict=True):
                tds = "".join(
                    f"<td>{_img(c.path, c.caption, read_from)}</td>" if c else '<td class="missing">not run</td>'
                    for c in cells
                )
                rows.append(f"<tr><th>{html.escape(label)}</th>{tds}</tr>")
            out.append(f'<table class="grid"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>')
        else:
            raise TypeError(f"unknown block {block!r}")
    out.append("</main></body></html>\n")
    return "\n".join(out)
