"""Every registry the stage matrices use: feature sets, classify models, CNN architectures, embedding methods.

dvc.yaml's matrices take their values from params.yaml; the schema (fmnist.params) accepts only the names
listed here, and each family checks at import that its own registry covers them (e.g. the classify zoo).
Kept free of heavy imports so that params validation stays light.
"""

FEATURE_SETS = ("raw", "scatnet", "scatnet_rich", "scatnet_hog", "resnet18", "efficientnet_lite0")

CLASSIFY_MODELS = ("lda", "qda", "logreg", "linear_svc", "svm", "random_forest", "knn", "mlp", "hgb")

SMALL_ARCHS = ("mlp", "dense2", "cnn1", "lenet5", "lenet5_bn", "lenet5_boosted", "convnet_bn", "resnet9")
IMAGENET_ARCHS = ("resnet18", "vgg16_bn", "efficientnet_lite0")
ARCHS = SMALL_ARCHS + IMAGENET_ARCHS
# The backbones a fine-tune stage (finetune@<run>) can train: those with a new head in place of their last layer.
FINE_TUNE_BACKBONES = ("resnet18", "efficientnet_lite0")
# The ensemble stage's name among the CNN runs (metrics/cnn/ensemble.json): no arch or fine-tune run may take it.
ENSEMBLE = "ensemble"

# Report 003's sweeps (stage sweep@<name>): the architecture and the `cnn.<arch>` setting each one varies.
SWEEPS = {"hidden_units": ("dense2", "hidden"), "filters": ("cnn1", "filters"), "kernel_size": ("cnn1", "kernel")}

# The visualize stage's embedding methods, by param name, with their display titles.
METHOD_TITLES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP", "lle": "LLE"}
METHODS = tuple(METHOD_TITLES)
