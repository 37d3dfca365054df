"""The scattering kind's input and settings: pixel scaling, padding and resizing, the size checks, what it records."""

import pytest
import scipy
import torch
import torch.nn.functional as F

from fmnist.errors import PipelineError
from fmnist.features import scattering as S


def white(count: int = 1, side: int = 28) -> torch.Tensor:
    return torch.full((count, side, side), 255, dtype=torch.uint8)


def test_pixels_are_scaled_to_unit_range_at_the_native_size():
    images = torch.tensor([[[0, 51], [255, 102]]], dtype=torch.uint8)
    x = S.to_input_size(images, 2, "pad")
    assert x.dtype == torch.float32
    assert torch.equal(x, torch.tensor([[[0.0, 0.2], [1.0, 0.4]]]))


@pytest.mark.parametrize(("size", "before", "after"), [(32, 2, 2), (31, 1, 2), (29, 0, 1)])
def test_pad_centres_the_image_with_the_odd_pixel_after(size, before, after):
    x = S.to_input_size(white(2), size, "pad")
    assert x.shape == (2, size, size)
    expected = torch.zeros(2, size, size)
    expected[:, before : size - after, before : size - after] = 1.0
    assert torch.equal(x, expected)


def test_bilinear_resizes_the_scaled_image():
    images = torch.randint(0, 256, (3, 28, 28), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    expected = F.interpolate(images[:, None].float() / 255, size=(40, 40), mode="bilinear", align_corners=False)
    torch.testing.assert_close(S.to_input_size(images, 40, "bilinear"), expected[:, 0], rtol=0, atol=0)
    assert S.to_input_size(images, 20, "bilinear").shape == (3, 20, 20)  # it may shrink, too


def test_pad_cannot_shrink():
    with pytest.raises(PipelineError) as err:
        S.to_input_size(white(), 27, "pad")
    assert str(err.value) == "scattering: resize 'pad' cannot shrink 28 px images to 27 px; use 'bilinear'."


def test_2_to_the_J_may_equal_the_input_size_but_not_exceed_it():
    assert S.build_scattering(2, 1, 1, 4)(torch.rand(1, 4, 4)).shape == (1, 3, 1, 1)
    with pytest.raises(PipelineError) as err:
        S.build_scattering(4, 1, 1, 8)
    assert str(err.value) == "scattering: 2^J = 16 exceeds the input size 8; lower J or raise input_size."


def test_fast_swaps_in_the_complex_backend_for_kymatios_own():
    assert S.build_scattering(2, 1, 1, 8).backend is S.ComplexBackend
    assert S.build_scattering(2, 1, 1, 8, fast=False).backend is S.TorchBackend2D


def test_input_size_not_a_multiple_of_2_to_the_J_is_refused():
    assert S.build_scattering(3, 1, 1, 24) is not None  # 24 = 3 x 8 (a multiple of 2^3, not a power of 2)
    with pytest.raises(PipelineError) as err:
        S.build_scattering(3, 1, 1, 12)
    assert str(err.value) == (
        "scattering: input_size 12 is not a multiple of 2^J = 8; kymatio would drop the remainder of the image. "
        "Choose an input size divisible by 2^J."
    )


@pytest.mark.parametrize(("J", "L", "order", "size", "dim"), [(3, 2, 1, 24, 7 * 9), (3, 2, 2, 8, 19), (1, 4, 2, 4, 20)])
def test_scattering_dim_counts_channels_times_grid(J, L, order, size, dim):
    assert S.scattering_dim(J, L, order, size) == dim


@pytest.mark.parametrize("k", [2, 3, 4])
def test_subsampling_averages_the_k_by_k_blocks_of_the_spectrum(k):
    x = torch.randn(2, 3, 12, 12, dtype=torch.complex64, generator=torch.Generator().manual_seed(k))
    expected = x.reshape(2, 3, k, 12 // k, k, 12 // k).mean(dim=(2, 4))
    torch.testing.assert_close(S.ComplexBackend.subsample_fourier(x, k), expected)


def test_filter_products_take_real_and_complex_filters():
    """kymatio stores a filter as (M, N, 1) when it is real in the Fourier domain, (M, N, 2) when it is complex."""
    A = torch.randn(2, 4, 4, dtype=torch.complex64, generator=torch.Generator().manual_seed(0))
    B = torch.randn(4, 4, 2, generator=torch.Generator().manual_seed(1))
    assert torch.equal(S.ComplexBackend.cdgmm(A, B[..., :1]), A * B[..., 0])
    assert torch.equal(S.ComplexBackend.cdgmm(A, B), A * torch.complex(B[..., 0], B[..., 1]))


def test_rows_are_the_scattering_of_the_resized_images():
    images = torch.randint(0, 256, (2, 28, 28), generator=torch.Generator().manual_seed(5), dtype=torch.uint8)
    scattering = S.build_scattering(2, 1, 1, 8)
    expected = scattering(S.to_input_size(images, 8, "bilinear")).reshape(2, -1)
    assert torch.equal(S.scattering_features(scattering, images, 8, "bilinear"), expected)


TINY = {"J": 2, "L": 1, "max_order": 1, "input_size": 8, "resize": "bilinear"}


def test_the_extractor_records_its_implementation_and_cpu_fft():
    extractor = S.build({**TINY, "device": "cpu"}, "features.tiny")
    assert extractor.dim == 3 * 2 * 2 and extractor.device == torch.device("cpu") and extractor.parallel_batches
    assert extractor.notes == {
        "implementation": "kymatio Scattering2D (torch frontend) with fmnist.features.scattering.ComplexBackend",
        "fft": f"scipy {scipy.__version__} (pocketfft)",
    }
    images = white(2)
    expected = S.scattering_features(S.build_scattering(2, 1, 1, 8), images, 8, "bilinear")
    assert torch.equal(extractor.featurize(images), expected)


def test_off_the_cpu_the_filters_move_to_the_device_and_the_fft_is_torchs():
    """The meta device stands in for a GPU: shapes only, no numbers."""
    extractor = S.build({**TINY, "device": "meta"}, "features.tiny")
    assert extractor.notes["fft"] == "torch (cuFFT)"
    rows = extractor.featurize(torch.zeros(2, 28, 28, dtype=torch.uint8, device="meta"))
    assert rows.shape == (2, 12) and rows.device == torch.device("meta")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is visible")
def test_cuda_without_a_gpu_stops_naming_the_device_key():
    with pytest.raises(PipelineError, match=r"^`features.tiny.device` = cuda but no CUDA GPU is visible to torch"):
        S.build({**TINY, "device": "cuda"}, "features.tiny")


def test_off_the_cpu_the_fft_is_torchs(monkeypatch):
    """On CUDA the FFT is cuFFT through torch.fft (a tensor on the meta device stands in for one on a GPU)."""
    monkeypatch.setattr(torch.fft, "fft2", lambda x: ("torch fft2", x))
    monkeypatch.setattr(torch.fft, "ifft2", lambda x: ("torch ifft2", x))
    x = torch.empty(2, 4, 4, dtype=torch.complex64, device="meta")
    assert S.fft2(x) == ("torch fft2", x) and S.fft2(x, inverse=True) == ("torch ifft2", x)


def test_cpu_ffts_use_one_worker_thread(monkeypatch):
    """Batches already run side by side, one core each (fmnist.features.extract): the FFT must not add threads."""
    workers = []

    def spy(transform):
        def run(x, workers_given=None, **kwargs):
            workers.append(kwargs.get("workers", workers_given))
            return transform(x, **kwargs)

        return run

    monkeypatch.setattr(scipy.fft, "fft2", spy(scipy.fft.fft2))
    monkeypatch.setattr(scipy.fft, "ifft2", spy(scipy.fft.ifft2))
    x = torch.randn(2, 4, 4, dtype=torch.complex64)
    S.fft2(x), S.fft2(x, inverse=True)
    assert workers == [1, 1]
