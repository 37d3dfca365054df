"""The report: every metric and picture of a pipeline run in reports/report.md and a self-contained report.html.

Its inputs are metrics JSON, prediction CSVs, dvclive curves and PNGs only; it never trains anything.
Whatever is absent is listed as missing and the rest still renders. report.md links only pictures in reports/figures/
(another stage's picture is copied there), so reports/, kept in git, shows every picture in a fresh clone or a web
view of the repository, without DVC. Each section of the report is built by a module of its own, in reading order
in `build_blocks`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fmnist.atomic import StagedOutputs, remove_outputs, staged_outputs
from fmnist.errors import PipelineError
from fmnist.layout import Layout
from fmnist.report import (
    classical,
    cnns,
    course_reports,
    embeddings,
    images,
    missing,
    model_pictures,
    overview,
    provenance,
    sweeps,
)
from fmnist.report.document import Block, moved_figures, read_png, to_html, to_markdown
from fmnist.report.inputs import Inputs, load_inputs

log = logging.getLogger(__name__)


def build_blocks(layout: Layout, inputs: Inputs, drawn: dict[str, Path]) -> list[Block]:
    """The report's sections in reading order; `drawn` holds the pictures `model_pictures.draw` made."""
    return [
        *overview.section(inputs),
        *missing.section(layout, inputs),
        *course_reports.section(inputs),
        *classical.section(inputs),
        *cnns.section(inputs),
        *model_pictures.confusion_section(drawn),
        *model_pictures.per_class_f1_section(drawn),
        *model_pictures.curves_section(drawn),
        *sweeps.section(inputs.sweeps, drawn),
        *embeddings.section(inputs),
        *images.section(inputs),
        *provenance.section(layout, inputs),
    ]


def copy_pictures(
    blocks: list[Block], layout: Layout, out_dir: Path, staged: StagedOutputs, written: dict[Path, Path]
) -> list[Block]:
    """`blocks` with every picture under `out_dir`/figures: one another stage drew (an embedding, a gallery, the
    sample grid) is copied there byte for byte, at its place under figures/ (figures/visualize/raw-pca.png ->
    `out_dir`/figures/visualize/raw-pca.png), so report.md links only inside its own folder, which is in git.

    `written` (final path -> temporary file, as `model_pictures.draw` returns it) gains each copy.
    """
    folder = out_dir / "figures"
    copies: dict[Path, Path] = {}  # source -> its copy
    taken = {final: final for final in written}  # final path -> the picture it shows

    def place(source: Path) -> Path:
        if source in written:  # drawn by the report itself
            return source
        if source not in copies:
            inside = source.is_relative_to(layout.figures_dir)
            copy = folder / (source.relative_to(layout.figures_dir) if inside else source.name)
            if copy in taken:
                raise PipelineError(f"{source} and {taken[copy]} would both be shown as {copy}")
            picture = read_png(source)
            written[copy] = staged.path(copy)
            written[copy].write_bytes(picture)
            taken[copy] = source
            copies[source] = copy
        return copies[source]

    return moved_figures(blocks, place)


def write_report(layout: Layout, out_dir: Path) -> list[Block]:
    """Read the run's outputs named by `layout`, write report.md, report.html and figures/ into `out_dir`: every
    picture report.md links is in figures/ (`copy_pictures`), and report.html embeds the same pictures."""
    inputs = load_inputs(layout)
    remove_outputs(out_dir)
    with staged_outputs() as staged:
        drawn, written = model_pictures.draw(inputs, out_dir / "figures", staged)
        blocks = copy_pictures(build_blocks(layout, inputs, drawn), layout, out_dir, staged, written)
        staged.path(out_dir / "report.md").write_text(to_markdown(blocks, out_dir))
        staged.path(out_dir / "report.html").write_text(to_html(blocks, "Fashion-MNIST pipeline report", written))
    log.info("report written to %s (%d figures drawn)", out_dir, len(drawn))
    return blocks
