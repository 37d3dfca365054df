"""What the report reads: the records, predictions and pictures a pipeline run left, and the stages dvc.yaml
declares (the report shows runs in their order)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fmnist.layout import Layout
from fmnist.records import load_record, read_json
from fmnist.report import sweeps
from fmnist.report.picture_paths import PictureIndex
from fmnist.report.pipeline_outputs import declared_outputs
from fmnist.runs import Run, load_runs, whole_records


@dataclass
class Inputs:
    classify: dict[str, Run]
    cnn: dict[str, Run]
    embeddings: dict[str, dict]  # "<feature>-<method>" -> info JSON (with "png")
    gallery: list[dict]
    samples: Path | None
    declared: dict[str, list[str]]  # stage -> outputs, from dvc.yaml
    feature_weights: dict[str, str]  # learned feature set -> the weights it was extracted with (its info.json)
    sweeps: dict[str, sweeps.SweepResult]


def feature_weights(layout: Layout) -> dict[str, str]:
    """The weights each learned feature set was really extracted with, from features/<name>/info.json."""
    found = {}
    names = sorted(p.name for p in layout.features_dir.glob("*") if layout.feature_info(p.name).is_file())
    for name in names:
        weights = read_json(layout.feature_info(name)).get("weights")
        if weights:
            found[name] = weights["source"]
    return found


def load_embeddings(layout: Layout) -> dict[str, dict]:
    """Each embedding's record with its picture's checked path; one whose picture was not pulled is left out."""
    folder = layout.embedding("feature", "method").png.parent  # figures/visualize, every embedding's folder
    embeddings = {}
    for path in whole_records(layout, "visualize"):
        record = layout.record("visualize", path.stem)
        index = PictureIndex(record.details, folder, f"visualize@{path.stem}")
        data = load_record(record)
        png = index.locate(layout.root, data.get("png"))
        if png.is_file():
            embeddings[path.stem] = {**data, "png": index.png(png)}
    return embeddings


def load_galleries(layout: Layout) -> list[dict]:
    """The galleries gallery.json lists, each picture's path checked (none before the gallery stage ran)."""
    if not layout.gallery_index.is_file():
        return []
    index = PictureIndex(layout.gallery_index, layout.gallery_dir, "gallery")
    data = read_json(layout.gallery_index)
    galleries = data.get("galleries") if isinstance(data, dict) else None
    if not isinstance(galleries, list) or not all(isinstance(g, dict) for g in galleries):
        raise index.refuse("`galleries` is not a list of galleries")
    return [
        {**g, "png": index.png(index.locate(layout.root, g.get("png"))), "caption": str(g.get("caption", ""))}
        for g in galleries
    ]


def load_inputs(layout: Layout) -> Inputs:
    return Inputs(
        load_runs(layout, "classify"),
        load_runs(layout, "cnn"),
        load_embeddings(layout),
        load_galleries(layout),
        layout.samples_png if layout.samples_png.is_file() else None,
        declared_outputs(layout.dvc_yaml),
        feature_weights(layout),
        sweeps.load_sweeps(layout),
    )


def ordered(names: list[str], declared: list[str]) -> list[str]:
    """`names` in the order dvc.yaml declares them, the undeclared after, alphabetically."""
    rank = {name: i for i, name in enumerate(declared)}
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), n))


def stage_names(inputs: Inputs, prefix: str) -> list[str]:
    """Instance names ("raw-lda") of the declared stages called `prefix` ("classify")."""
    return [s.split("@", 1)[1] for s in inputs.declared if s.startswith(prefix + "@")]


def runs_and_best(found: dict[str, Run], inputs: Inputs, prefix: str) -> tuple[list[Run], int | None]:
    """The runs of stage `prefix` in dvc.yaml's order, and the index of the most accurate (None: no runs)."""
    runs = [found[n] for n in ordered(list(found), stage_names(inputs, prefix))]
    return runs, max(range(len(runs)), key=lambda i: runs[i].accuracy) if runs else None
