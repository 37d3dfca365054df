"""The scattering_hog feature kind: scattering coefficients, then scikit-image's HOG descriptor of the same image."""

import numpy as np
import pytest
import torch
from skimage.feature import hog

from fmnist.errors import PipelineError
from fmnist.features import hog as H
from fmnist.features.scattering import build as scattering_build
from fmnist.params import load_params
from tests.support.dvc_project import REPO
from tests.support.idx_files import synthetic_split

PARAMS = load_params(REPO / "params.yaml")["features"]["scatnet_hog"]


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    return torch.from_numpy(synthetic_split(6, seed=3)[0])


@pytest.mark.parametrize(("cell", "block", "bins"), [(4, 2, 9), (7, 2, 9), (4, 3, 12), (14, 1, 6)])
def test_hog_dim_is_the_length_of_scikit_images_descriptor(images, cell, block, bins):
    rows = H.hog_features(images, bins, cell, block)
    assert rows.dtype == torch.float32 and rows.shape == (6, H.hog_dim(bins, cell, block))
    expected = hog(images[2].numpy(), orientations=bins, pixels_per_cell=(cell, cell), cells_per_block=(block, block))
    np.testing.assert_allclose(rows[2].numpy(), expected, rtol=1e-6)


def test_rows_are_the_scattering_coefficients_then_the_hog_descriptor(images):
    params = {**PARAMS, "device": "cpu"}
    extractor = H.build(params, "features.scatnet_hog")
    assert extractor.dim == 3969 + 864 and extractor.parallel_batches
    assert extractor.notes["hog"] == "scikit-image feature.hog, L2-Hys, appended after the scattering coefficients"
    with torch.inference_mode():
        rows, again = extractor.featurize(images), extractor.featurize(images)
        scattering = scattering_build(params, "features.scatnet_hog").featurize(images)
    assert torch.equal(rows[:, :3969], scattering)
    assert torch.equal(rows[:, 3969:], H.hog_features(images, 6, 4, 2))
    assert torch.equal(rows, again)  # the same bytes every time


def test_blocks_larger_than_the_image_stop_before_any_work():
    settings = {**PARAMS, "hog": {"orientations": 9, "pixels_per_cell": 7, "cells_per_block": 5}}
    with pytest.raises(PipelineError) as err:
        H.build(settings, "features.scatnet_hog")
    assert str(err.value) == (
        "params.yaml: `features.scatnet_hog.hog.cells_per_block` = 5 exceeds the 4 cells of 7 pixels across a "
        "28-pixel image; lower it or lower `pixels_per_cell`."
    )


def test_one_block_as_wide_as_the_image_fits():
    H.check_hog({"orientations": 9, "pixels_per_cell": 7, "cells_per_block": 4}, "features.scatnet_hog")
    assert H.hog_dim(9, 7, 4) == 4 * 4 * 9


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is visible")
def test_cuda_without_a_gpu_stops_naming_the_device_key():
    with pytest.raises(PipelineError, match=r"^`features.scatnet_hog.device` = cuda but no CUDA GPU is visible"):
        H.build({**PARAMS, "device": "cuda"}, "features.scatnet_hog")
