"""params.yaml: its schema, loading with validation, and the per-stage view of it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Iterable

import yaml

from fmnist.errors import PipelineError
from fmnist.methods import METHODS
from fmnist.schema import Bool, Choice, Float, Int, ListOf, Nullable, Section, Str

DEVICE = Choice("auto", "cpu", "cuda")

# A kymatio Scattering2D feature set (features.scatnet, features.scatnet_rich): J scales, L angles,
# order 1 or 2, on input_size x input_size images (28 x 28 resized bilinearly or zero-padded).
SCATTERING = Section(
    {
        "kind": Choice("scattering"),
        "J": Int(1, 8),
        "L": Int(1, 16),
        "max_order": Choice(1, 2),
        "input_size": Int(8, 512),
        "resize": Choice("bilinear", "pad"),
        "batch_size": Int(1, 65536),
        "device": DEVICE,
    }
)

SCHEMA = Section(
    {
        "download": Section(
            {
                "mirrors": ListOf(Str()),
                "urls": ListOf(Str()),
                "retries": Int(0, 10),
                "timeout_s": Int(1, 3600),
            }
        ),
        "data": Section(
            {
                "val_fraction": Float(0.0, 0.5, lo_open=True),
                "seed": Int(0, 2**32 - 1),
            }
        ),
        "visualize": Section(
            {
                "features": ListOf(Str(), min_len=1),
                "methods": ListOf(Choice(*METHODS), min_len=1),
                "seed": Int(0, 2**32 - 1),
                "pca": Section({"n_points": Int(10, 70_000)}),
                "tsne": Section(
                    {
                        "n_points": Int(10, 70_000),
                        "pca_dims": Int(2, 1000),
                        "perplexity": Float(1.0, 500.0),
                        "n_iter": Int(50, 10_000),
                        "n_jobs": Int(1, 64),
                    }
                ),
                "umap": Section(
                    {
                        "n_points": Int(10, 70_000),
                        "pca_dims": Int(2, 1000),
                        "n_neighbors": Int(2, 500),
                        "min_dist": Float(0.0, 1.0),
                        "n_epochs": Int(10, 2000),
                    }
                ),
                "lle": Section({"n_points": Int(10, 70_000), "pca_dims": Int(2, 1000), "n_neighbors": Int(3, 500)}),
            }
        ),
        "pictures": Section(
            {
                "seed": Int(0, 2**32 - 1),
                "samples_per_class": Int(1, 50),
                "gallery_images": Int(1, 200),
                "gallery_columns": Int(1, 20),
            }
        ),
        "features": Section(
            {
                "raw": Section({"kind": Choice("raw"), "batch_size": Int(1, 1_000_000)}),
                "scatnet": SCATTERING,
                "scatnet_rich": SCATTERING,
                "resnet18": Section(
                    {
                        "kind": Choice("resnet18"),
                        "weights": Choice("imagenet", "random"),
                        "weights_file": Nullable(Str()),
                        "weights_sha256": Nullable(Str()),
                        "seed": Int(0, 2**32 - 1),
                        "input_size": Int(32, 1024),
                        "batch_size": Int(1, 65536),
                        "device": DEVICE,
                        "mixed_precision": Bool(),
                    }
                ),
            }
        ),
    }
)


def load_params(path: str | Path = "params.yaml") -> dict[str, Any]:
    """Read and validate the whole params file; raise PipelineError with one clear message if it is wrong."""
    path = Path(path)
    try:
        params = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise PipelineError(f"{path}: not found; run the stage from the repository root.") from None
    except yaml.YAMLError as exc:
        raise PipelineError(f"{path}: not valid YAML: {exc}") from None
    SCHEMA.validate("", params)
    return params


def select(params: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """The part of `params` named by dotted `keys` (sections or leaves), nested as in the file.

    Stages read only this view, so a key a stage reads but did not declare fails loudly.
    """
    view: dict[str, Any] = {}
    for dotted in keys:
        source, target = params, view
        *parents, leaf = dotted.split(".")
        for part in parents:
            source = source[part]
            target = target.setdefault(part, {})
        target[leaf] = copy.deepcopy(source[leaf])
    return view
