"""Used by `make repro`: print a banner (stderr) and the `-S <section>.weights=random` overrides (stdout)
for every backbone that params.yaml asks to load with ImageNet weights this machine does not have."""

import sys

from fmnist.backbones.availability import banner, missing_imagenet_weights, random_overrides
from fmnist.errors import PipelineError
from fmnist.params import load_params


def main() -> None:
    try:
        missing = missing_imagenet_weights(load_params())
    except PipelineError as exc:
        sys.exit(f"error: {exc}")
    if missing:
        print(banner(missing), file=sys.stderr)
        print(" ".join(random_overrides(missing)))


if __name__ == "__main__":
    main()
