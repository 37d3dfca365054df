"""The embedding methods the visualize stage offers, by param name, with their display titles.

Kept apart from fmnist.embedding (which imports scikit-learn) so params validation stays fast to import.
"""

METHOD_TITLES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP", "lle": "LLE"}
METHODS = tuple(METHOD_TITLES)
