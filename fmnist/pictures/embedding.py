"""2-D embeddings of a feature set (PCA, t-SNE, UMAP, LLE) on a seeded, stratified subset of its images."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from fmnist.atomic import load_npy
from fmnist.catalog import EMBEDDINGS, resolve
from fmnist.data import stratified_val_indices
from fmnist.errors import PipelineError
from fmnist.layout import Layout

SPLITS = ("train", "test")


@dataclass(frozen=True)
class Subset:
    """Rows drawn from the pool of all images (train then test), with where each came from."""

    features: np.ndarray  # n x d float32
    labels: np.ndarray  # n int64
    split: np.ndarray  # n str: "train" or "test"
    index: np.ndarray  # n int64: row in its split


def draw_subset(
    layout: Layout, feature: str, train_labels: np.ndarray, test_labels: np.ndarray, n_points: int, seed: int
) -> Subset:
    """A seeded subset holding the same share of every class, from train and test images together.

    The feature files are memory-mapped, so only the chosen rows are read.
    """
    arrays = {}
    for split in SPLITS:
        path = layout.feature_array(feature, split)
        try:
            arrays[split] = load_npy(
                path,
                f"restore it with `dvc checkout {path}` or re-create it with `dvc repro extract_features@{feature}`",
                mmap_mode="r",
            )
        except FileNotFoundError:
            raise PipelineError(f"{path}: not found; run its extract_features stage first (`dvc repro`)") from None
    for split, labels in zip(SPLITS, (train_labels, test_labels), strict=True):
        if len(arrays[split]) != len(labels):
            raise PipelineError(
                f"{layout.feature_array(feature, split)} has {len(arrays[split])} rows but the prepared {split} set "
                f"has {len(labels)} images; re-run its extract_features stage (`dvc repro`)"
            )
    pool_labels = np.concatenate([train_labels, test_labels])
    fraction = min(1.0, n_points / len(pool_labels))
    chosen = stratified_val_indices(pool_labels, fraction, seed)
    n_train = len(train_labels)
    in_train = chosen < n_train
    features = np.concatenate([arrays["train"][chosen[in_train]], arrays["test"][chosen[~in_train] - n_train]])
    return Subset(
        features=np.asarray(features, dtype=np.float32),
        labels=pool_labels[chosen],
        split=np.where(in_train, "train", "test"),
        index=np.where(in_train, chosen, chosen - n_train).astype(np.int64),
    )


def check_settings(method: str, settings: dict, n_points: int) -> None:
    """Fail before any work when the subset is too small for the method's neighbourhood settings."""
    if method == "tsne" and n_points <= 3 * settings["perplexity"]:
        raise PipelineError(
            f"params.yaml: `visualize.tsne.perplexity` = {settings['perplexity']} needs more than "
            f"{3 * settings['perplexity']} points, the subset has {n_points}; lower the perplexity or raise n_points"
        )
    if method in ("umap", "lle") and n_points <= settings["n_neighbors"]:
        raise PipelineError(
            f"params.yaml: `visualize.{method}.n_neighbors` = {settings['n_neighbors']} needs more points than "
            f"that, the subset has {n_points}; lower n_neighbors or raise n_points"
        )


def standardised_pca(features: np.ndarray, dims: int, seed: int) -> np.ndarray:
    """Standardise every feature (as report 000 does), then project onto the first `dims` principal axes."""
    dims = min(dims, *features.shape)
    scaled = StandardScaler().fit_transform(features.astype(np.float64))
    return PCA(n_components=dims, svd_solver="randomized", random_state=seed).fit_transform(scaled)


def embed(features: np.ndarray, method: str, settings: dict, seed: int) -> np.ndarray:
    """n x 2 coordinates of `features` by the catalogued `method` (its builder below), with its `visualize.<method>`
    settings."""
    if method not in EMBEDDINGS:
        raise PipelineError(f"unknown embedding method {method!r}; expected one of {', '.join(EMBEDDINGS)}")
    return resolve(EMBEDDINGS[method].builder)(features, settings, seed)


def pca(features: np.ndarray, settings: dict, seed: int) -> np.ndarray:
    """Standardised PCA onto the first two axes."""
    return standardised_pca(features, 2, seed)


def tsne(features: np.ndarray, settings: dict, seed: int) -> np.ndarray:
    """openTSNE from a PCA initialisation, on the first `pca_dims` standardised principal components (as are UMAP
    and LLE)."""
    from openTSNE import TSNE

    tsne = TSNE(
        n_components=2,
        perplexity=settings["perplexity"],
        n_iter=settings["n_iter"],
        initialization="pca",
        random_state=seed,
        n_jobs=settings["n_jobs"],
    )
    return np.asarray(tsne.fit(standardised_pca(features, settings["pca_dims"], seed)))


def umap(features: np.ndarray, settings: dict, seed: int) -> np.ndarray:
    from umap import UMAP

    umap = UMAP(
        n_components=2,
        n_neighbors=settings["n_neighbors"],
        min_dist=settings["min_dist"],
        n_epochs=settings["n_epochs"],
        random_state=seed,  # a fixed seed makes UMAP deterministic, and single-threaded
        n_jobs=1,
    )
    return umap.fit_transform(standardised_pca(features, settings["pca_dims"], seed))


def lle(features: np.ndarray, settings: dict, seed: int) -> np.ndarray:
    from sklearn.manifold import LocallyLinearEmbedding

    lle = LocallyLinearEmbedding(
        n_components=2, n_neighbors=settings["n_neighbors"], eigen_solver="dense", random_state=seed
    )
    return lle.fit_transform(standardised_pca(features, settings["pca_dims"], seed))


def knn_accuracy_2d(coords: np.ndarray, labels: np.ndarray, seed: int, k: int = 5, folds: int = 5) -> float:
    """Cross-validated k-NN accuracy in the 2-D picture: how well it keeps the classes apart."""
    folds = max(2, min(folds, int(np.bincount(labels).min())))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    knn = KNeighborsClassifier(n_neighbors=min(k, len(labels) - len(labels) // folds - 1))
    return float(cross_val_score(knn, coords, labels, cv=cv).mean())
