"""The report's section of images of the data set: the samples stage's grid of each class and the gallery stage's
pictures."""

from __future__ import annotations

from fmnist.report.document import Block, Figure, Heading, Paragraph
from fmnist.report.inputs import Inputs


def section(inputs: Inputs) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Images")]
    if inputs.samples:
        blocks.append(Figure(inputs.samples, "Random training images of each class (report 000's figure 1)"))
    blocks += [Figure(g["png"], g["caption"]) for g in inputs.gallery]
    if not inputs.samples and not inputs.gallery:
        blocks.append(Paragraph("No sample grid or galleries: not run.", css="warning"))
    return blocks
