"""The scattering features' bytes do not depend on the CPU: its FFTs are not the ones MKL picks by CPU vendor."""

import pytest
import torch

from fmnist.features import scattering
from tests.support.another_cpu import ANOTHER_CPU, printed_by

# Scattering of 64 seeded images with scatnet's and scatnet_rich's settings; prints the SHA-256 of the features.
HASH_SCRIPT = """
import hashlib, torch
from fmnist.features.scattering import build_scattering, scattering_features
torch.set_num_threads(1)
images = torch.randint(0, 256, (64, 28, 28), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
digest = hashlib.sha256()
for J, L, size in ((4, 1, 64), (2, 8, 28)):
    with torch.inference_mode():
        digest.update(scattering_features(build_scattering(J, L, 2, size), images, size, "pad").numpy().tobytes())
print(digest.hexdigest())
"""


def test_the_same_bytes_whatever_mkl_aten_and_numpy_choose_for_the_cpu():
    assert printed_by(HASH_SCRIPT, {}) == printed_by(HASH_SCRIPT, ANOTHER_CPU)


def test_cpu_ffts_are_scipys_never_torchs(monkeypatch):
    """torch.fft on the CPU is MKL's: the bytes it gives depend on the CPU's vendor (an Intel Xeon and an AMD EPYC
    differed), which no test on one machine can see; so none may run."""

    def refuse(*args, **kwargs):
        raise AssertionError("torch.fft ran on the CPU")

    monkeypatch.setattr(torch.fft, "fft2", refuse)
    monkeypatch.setattr(torch.fft, "ifft2", refuse)
    images = torch.randint(0, 256, (4, 28, 28), generator=torch.Generator().manual_seed(1), dtype=torch.uint8)
    features = scattering.scattering_features(scattering.build_scattering(2, 8, 2, 28), images, 28, "pad")
    assert features.shape == (4, scattering.scattering_dim(2, 8, 2, 28)) and torch.isfinite(features).all()


@pytest.mark.parametrize("inverse", [False, True])
def test_the_fft_agrees_with_torchs_to_float32_rounding(inverse):
    x = torch.randn(3, 5, 16, 16, dtype=torch.complex64, generator=torch.Generator().manual_seed(2))
    expected = torch.fft.ifft2(x) if inverse else torch.fft.fft2(x)
    got = scattering.fft2(x, inverse=inverse)
    assert got.dtype == torch.complex64 and got.shape == x.shape
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert torch.equal(got, scattering.fft2(x, inverse=inverse))  # the same bytes again
