"""The `scattering_hog` feature kind: the scattering coefficients of each image, then its HOG descriptor.

HOG (histograms of oriented gradients, scikit-image's `hog`) counts gradient directions in small cells and
normalises them over blocks of cells: the outline of a garment on a 4-pixel grid. The rich scattering set
describes the same windows by their textures at two scales. An RBF SVM scores higher on both together than on
either (docs/BENCHMARKS.md, "Classical levers"), which is why they are one feature set.
"""

from __future__ import annotations

import numpy as np
import torch
from skimage.feature import hog

from fmnist.errors import PipelineError
from fmnist.features import scattering
from fmnist.features.extractor import Extractor
from fmnist.features.raw import IMAGE_SIDE


def hog_dim(orientations: int, pixels_per_cell: int, cells_per_block: int) -> int:
    """Features per image: one histogram of `orientations` bins per cell of every block position."""
    cells = IMAGE_SIDE // pixels_per_cell
    blocks = cells - cells_per_block + 1
    return blocks * blocks * cells_per_block**2 * orientations


def check_hog(settings: dict, param_prefix: str) -> None:
    """Stop before any work if the cells and blocks do not fit in a 28 x 28 image."""
    cells = IMAGE_SIDE // settings["pixels_per_cell"]
    if settings["cells_per_block"] > cells:
        raise PipelineError(
            f"params.yaml: `{param_prefix}.hog.cells_per_block` = {settings['cells_per_block']} exceeds the "
            f"{cells} cells of {settings['pixels_per_cell']} pixels across a {IMAGE_SIDE}-pixel image; lower it "
            "or lower `pixels_per_cell`."
        )


def hog_features(images: torch.Tensor, orientations: int, pixels_per_cell: int, cells_per_block: int) -> torch.Tensor:
    """One HOG descriptor per uint8 image (L2-Hys block normalisation, scikit-image's default), float32."""
    rows = [
        hog(
            image,
            orientations=orientations,
            pixels_per_cell=(pixels_per_cell, pixels_per_cell),
            cells_per_block=(cells_per_block, cells_per_block),
            block_norm="L2-Hys",
            feature_vector=True,
        )
        for image in images.cpu().numpy()
    ]
    return torch.from_numpy(np.stack(rows).astype(np.float32))


def build(params: dict, param_prefix: str) -> Extractor:
    """Scattering (the `scattering` kind's settings) and HOG (`hog:`) side by side, scattering first."""
    settings = params["hog"]
    check_hog(settings, param_prefix)
    scatter = scattering.build(params, param_prefix)
    hog_args = (settings["orientations"], settings["pixels_per_cell"], settings["cells_per_block"])

    def featurize(images: torch.Tensor) -> torch.Tensor:
        return torch.cat([scatter.featurize(images).cpu(), hog_features(images, *hog_args)], dim=1)

    return Extractor(
        scatter.dim + hog_dim(*hog_args),
        scatter.device,
        featurize,
        notes={**scatter.notes, "hog": "scikit-image feature.hog, L2-Hys, appended after the scattering coefficients"},
        parallel_batches=True,
    )
