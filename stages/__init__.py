"""DVC stage entry points: `python -m stages.<name>`; each reads only the params dvc.yaml declares for it."""

from fmnist.cores import pin_blas_kernels

pin_blas_kernels()  # before any stage module loads NumPy: the same BLAS kernels, so the same bytes, on every CPU
