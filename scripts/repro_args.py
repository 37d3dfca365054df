"""Used by `make repro` and `make repro-gpu`: validate params.yaml, then print (stdout) the `dvc exp run` arguments
of the run, none for a plain `dvc repro`:

- with `--profile NAME`, the `-S key=value` of each value profiles/NAME.yaml sets (fmnist/profiles.py);
- `-S <section>.weights=random` for every backbone asked to load ImageNet weights this machine does not have,
  `classify.features` and `visualize.features` without the feature sets extracted with them, and the pipeline's end
  stages as targets (so a set nothing reads is not extracted), after a banner (stderr) that says so.

The arguments hold no spaces, quotes or glob characters that a shell would change (the Makefile splits them on
spaces with globbing off)."""

import argparse
import sys

from fmnist.backbones.availability import banner, missing_imagenet_weights, offline_run_args
from fmnist.classical.models import check_grids
from fmnist.errors import PipelineError
from fmnist.params import load_params
from fmnist.profiles import apply_profile, load_profile, set_args, values_named


def repro_args(profile: str | None) -> list[str]:
    params = load_params()
    args = []
    if profile:
        values = load_profile(profile, params)
        args += set_args(values, params)
        params = apply_profile(params, values)
        check_cuda(profile, params)
    check_grids(params["classify"])
    missing = missing_imagenet_weights(params)
    if missing:
        print(banner(params, missing), file=sys.stderr)
        args += offline_run_args(params, missing)
    return args


def check_cuda(profile: str, params: dict) -> None:
    """A profile that asks for CUDA on a machine without it stops here, before DVC starts any stage."""
    keys = [key for key, device in values_named(params, "device").items() if device == "cuda"]
    if keys:
        import torch  # only here: `make repro` without a profile starts no faster for it

        if not torch.cuda.is_available():
            raise PipelineError(
                f"profiles/{profile}.yaml sets `{keys[0]}` (and {len(keys) - 1} more) to cuda, but torch sees no CUDA "
                "GPU on this machine; run `make repro` here, or `make repro-gpu` on a machine with a GPU."
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", help="a profile's name: profiles/<name>.yaml")
    options = parser.parse_args()
    try:
        args = repro_args(options.profile)
    except PipelineError as exc:
        sys.exit(f"error: {exc}")
    print(" ".join(args))


if __name__ == "__main__":
    main()
