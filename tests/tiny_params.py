"""Tiny settings for tests/dvc_project.py projects: every stage runs in seconds on 200 + 50 images."""


def tiny_features(params: dict) -> None:
    """ResNet-18 at 32 px with explicit random weights (as `make repro` sets them where ImageNet's are missing).

    The scattering sets keep their real configurations (176 and 3969 features): they take well under a
    second on 250 images.
    """
    params["features"]["resnet18"].update(weights="random", input_size=32, batch_size=64, device="cpu")
    for name in ("scatnet", "scatnet_rich"):
        params["features"][name]["device"] = "cpu"


def tiny_visualize(params: dict) -> None:
    """Pictures of the raw features only, every method, on 200 points: a few seconds per stage."""
    visualize = params["visualize"]
    visualize["features"] = ["raw"]
    visualize["pca"].update(n_points=200)
    visualize["tsne"].update(n_points=200, pca_dims=10, perplexity=10, n_iter=100, n_jobs=1)
    visualize["umap"].update(n_points=200, pca_dims=10, n_neighbors=10, n_epochs=100)
    visualize["lle"].update(n_points=200, pca_dims=10, n_neighbors=10)
    params["pictures"].update(samples_per_class=3, gallery_images=8)


def tiny_pipeline(params: dict) -> None:
    """The tiny settings of every stage."""
    tiny_features(params)
    tiny_visualize(params)
