"""The report's section on what it cannot show: stages it reports on that dvc.yaml lacks, and declared outputs that
do not exist (not run, or not pulled), each with the command that makes them."""

from __future__ import annotations

from typing import Any

from fmnist.layout import Layout
from fmnist.params import read_yaml
from fmnist.report.document import Block, BulletList, Heading, Paragraph
from fmnist.report.inputs import Inputs

REPORTED_STAGES = ("extract_features", "classify", "train_cnn", "sweep", "visualize", "gallery", "samples")
# The lists of the feature sets that classify and visualize stages read.
READERS = (("classify", "features"), ("classify", "wide_features"), ("visualize", "features"))


def unread_feature_sets(params: dict[str, Any]) -> set[str]:
    """The feature sets that no classify or visualize stage reads (`make repro` on a machine without their ImageNet
    weights leaves them out of the lists, and does not extract them)."""
    lists = [params.get(section, {}).get(key) or [] for section, key in READERS]
    return set(params.get("features") or {}) - set().union(*lists)


def missing_items(layout: Layout, inputs: Inputs) -> list[str]:
    """Stages the report shows that are absent from dvc.yaml, and declared outputs that do not exist."""
    items = []
    for prefix in REPORTED_STAGES:
        if not any(s == prefix or s.startswith(prefix + "@") for s in inputs.declared):
            items.append(f"stage `{prefix}` is not in this pipeline's dvc.yaml yet")
    params = read_yaml(layout.params_file) if layout.params_file.is_file() else {}
    unread = unread_feature_sets(params if isinstance(params, dict) else {})
    absent_by_family: dict[str, list[str]] = {}
    for stage, paths in inputs.declared.items():
        family, _, instance = stage.partition("@")
        if family in REPORTED_STAGES and any(not (layout.root / p).exists() for p in paths):
            if family == "extract_features" and instance in unread:
                items.append(
                    f"extract_features@{instance}: not run, since no stage of this run reads its features (`make "
                    f"repro` leaves out the features of random weights); `dvc repro extract_features@{instance}` "
                    "extracts them"
                )
                continue
            absent_by_family.setdefault(family, []).append(instance or family)
    for family, instances in absent_by_family.items():
        declared = sum(1 for s in inputs.declared if s.partition("@")[0] == family)
        which = f" ({', '.join(instances)})" if instances != [family] else ""
        items.append(
            f"{family}: outputs missing for {len(instances)} of {declared} declared stage(s){which}; "
            f"run `dvc repro {family}`"
        )
    return items


def section(layout: Layout, inputs: Inputs) -> list[Block]:
    blocks: list[Block] = [Heading(2, "What is missing")]
    missing = missing_items(layout, inputs)
    if not missing:
        note = "Nothing: every stage the report shows is declared in dvc.yaml and all their outputs exist."
        return blocks + [Paragraph(note, css="note")]
    return blocks + [Paragraph("Not in this report, with the reason: ", css="warning"), BulletList(tuple(missing))]
