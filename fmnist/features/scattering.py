"""Wavelet-scattering features with kymatio's Scattering2D, fed fast.

The transform is kymatio's own: its Morlet filter bank, its padding, and its scattering algorithm
(`kymatio.scattering2d.core.scattering2d`), through its torch frontend. What changes is the backend,
the set of array primitives the algorithm calls, which kymatio lets a caller pass (`backend=`).
Kymatio's torch backend stores complex numbers as a trailing (real, imaginary) axis; its time goes into
`subsample_fourier` (a two-step strided mean over that layout), the filter products and building complex
inputs for every FFT. `ComplexBackend` computes the same quantities on native complex64 tensors:
one product per filter, one reduction per subsampling, FFTs straight from real input.
Only `from kymatio import Scattering2D` is imported: `kymatio.torch` does not import beside SciPy >= 1.17.
"""

from __future__ import annotations

import scipy.fft
import torch
import torch.nn.functional as F
from kymatio import Scattering2D
from kymatio.scattering2d.backend.torch_backend import TorchBackend2D

from fmnist.device import resolve_device
from fmnist.errors import PipelineError
from fmnist.features.extractor import Extractor


def fft2(x: torch.Tensor, inverse: bool = False) -> torch.Tensor:
    """The 2-D FFT over the last two axes of a complex64 tensor; on the CPU, SciPy's (pocketfft), not torch's.

    torch's CPU FFT is MKL's, which picks its code by CPU vendor and model: the same images gave other scattering bytes
    on an Intel Xeon than on an AMD EPYC. SciPy's pocketfft is compiled once for every x86-64 CPU, with no choice made
    at run time; the stages take 8-18 % longer with it (docs/BENCHMARKS.md, "Scattering speed and memory"). One
    thread: batches already run side by side (fmnist.features.extract). On CUDA, torch's (cuFFT).
    """
    if x.device.type != "cpu":
        return torch.fft.ifft2(x) if inverse else torch.fft.fft2(x)
    transform = scipy.fft.ifft2 if inverse else scipy.fft.fft2
    return torch.from_numpy(transform(x.resolve_conj().numpy(), workers=1))


class ComplexBackend(TorchBackend2D):
    """kymatio's torch backend computed on native complex tensors (same results to float32 rounding).

    Real signals keep kymatio's layout, a trailing axis of size 1; complex ones are complex64 tensors
    of shape (..., M, N). Only kymatio's scattering algorithm passes values between these methods.
    Each choice below was timed against the alternatives (docs/BENCHMARKS.md, "Features").
    """

    @staticmethod
    def rfft(x: torch.Tensor) -> torch.Tensor:
        # torch's FFT of a complex tensor is several times faster than its FFT of a real one.
        real = x[..., 0]
        return fft2(torch.complex(real, torch.zeros_like(real)))

    @staticmethod
    def ifft(x: torch.Tensor) -> torch.Tensor:
        return fft2(x, inverse=True)

    @staticmethod
    def irfft(x: torch.Tensor) -> torch.Tensor:
        return fft2(x, inverse=True).real[..., None]

    @staticmethod
    def modulus(x: torch.Tensor) -> torch.Tensor:
        # Faster than torch.abs on complex tensors (which guards against overflow, needless here).
        return (x.real.square() + x.imag.square()).sqrt_()[..., None]

    @staticmethod
    def cdgmm(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        # kymatio's 2-D filters are real in the Fourier domain: stored as (M, N, 1).
        return A * (B[..., 0] if B.shape[-1] == 1 else torch.view_as_complex(B.contiguous()))

    @staticmethod
    def subsample_fourier(x: torch.Tensor, k: int) -> torch.Tensor:
        """Periodise the spectrum: the mean of its k x k blocks (subsampling by k in space).

        Rows first, then columns, each as a sum of contiguous blocks of the (real, imaginary) view: a
        pairwise sum of the two halves for k = 2, a reduction over the block axis for larger k.
        """
        *batch, M, N = x.shape
        r = torch.view_as_real(x).reshape(-1, k, M // k, N * 2)
        rows = r[:, 0] + r[:, 1] if k == 2 else r.sum(1)
        c = rows.view(-1, M // k, k, (N // k) * 2)
        cols = c[:, :, 0] + c[:, :, 1] if k == 2 else c.sum(2)
        return torch.view_as_complex(cols.div_(k * k).view(-1, M // k, N // k, 2)).reshape(*batch, M // k, N // k)


def scattering_dim(J: int, L: int, max_order: int, input_size: int) -> int:
    """Features per image: channels (1 + JL [+ L^2 J(J-1)/2]) times the (input_size / 2^J)^2 grid."""
    channels = 1 + J * L + (L * L * J * (J - 1) // 2 if max_order == 2 else 0)
    return channels * (input_size // 2**J) ** 2


def build_scattering(J: int, L: int, max_order: int, input_size: int, fast: bool = True) -> Scattering2D:
    """kymatio's Scattering2D on input_size x input_size images; `fast` swaps in ComplexBackend."""
    if input_size < 2**J:
        raise PipelineError(
            f"scattering: 2^J = {2**J} exceeds the input size {input_size}; lower J or raise input_size."
        )
    if input_size % 2**J:
        raise PipelineError(
            f"scattering: input_size {input_size} is not a multiple of 2^J = {2**J}; kymatio would drop the "
            "remainder of the image. Choose an input size divisible by 2^J."
        )
    kwargs = {"backend": ComplexBackend} if fast else {}
    return Scattering2D(J=J, shape=(input_size, input_size), L=L, max_order=max_order, frontend="torch", **kwargs)


def to_input_size(images: torch.Tensor, input_size: int, resize: str) -> torch.Tensor:
    """uint8 N x 28 x 28 images as float32 in [0, 1] at input_size x input_size (bilinear or zero-padded)."""
    x = images.float().div_(255.0)
    side = x.shape[-1]
    if input_size == side:
        return x
    if resize == "bilinear":
        return F.interpolate(x[:, None], size=(input_size, input_size), mode="bilinear", align_corners=False)[:, 0]
    if input_size < side:
        raise PipelineError(
            f"scattering: resize 'pad' cannot shrink {side} px images to {input_size} px; use 'bilinear'."
        )
    before = (input_size - side) // 2
    after = input_size - side - before
    return F.pad(x, (before, after, before, after))


def scattering_features(scattering: Scattering2D, images: torch.Tensor, input_size: int, resize: str) -> torch.Tensor:
    """One row of scattering coefficients (channel-major, then grid position) per uint8 image."""
    x = to_input_size(images, input_size, resize).contiguous()
    return scattering(x).reshape(len(x), -1)


def build(params: dict, param_prefix: str) -> Extractor:
    """The `scattering` feature kind (features.scatnet, features.scatnet_rich)."""
    device = resolve_device(params["device"], f"{param_prefix}.device")
    J, L, order, size, resize = (params[k] for k in ("J", "L", "max_order", "input_size", "resize"))
    scattering = build_scattering(J, L, order, size).to(device)
    return Extractor(
        scattering_dim(J, L, order, size),
        device,
        lambda x: scattering_features(scattering, x, size, resize),
        notes={
            "implementation": "kymatio Scattering2D (torch frontend) with fmnist.features.scattering.ComplexBackend",
            "fft": f"scipy {scipy.__version__} (pocketfft)" if device.type == "cpu" else "torch (cuFFT)",
        },
        parallel_batches=True,
    )
