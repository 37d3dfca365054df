"""A tiny visualize configuration for pipeline tests: raw features only, every method, small and quick."""


def tiny_visualize_params(params: dict) -> None:
    visualize = params["visualize"]
    visualize["features"] = ["raw"]
    visualize["pca"].update(n_points=200)
    visualize["tsne"].update(n_points=200, pca_dims=10, perplexity=10, n_iter=100, n_jobs=1)
    visualize["umap"].update(n_points=200, pca_dims=10, n_neighbors=10, n_epochs=100)
    visualize["lle"].update(n_points=200, pca_dims=10, n_neighbors=10)
    params["pictures"].update(samples_per_class=3, gallery_images=8)
