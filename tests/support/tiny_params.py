"""Tiny settings for tests/support/dvc_project.py projects: every stage runs in seconds on 200 + 50 images."""

# Features per image of every feature set under the tiny settings (the scattering and HOG sets keep their real widths).
FEATURE_DIMS = {
    "raw": 784,
    "scatnet": 176,
    "scatnet_rich": 3969,
    "scatnet_hog": 3969 + 864,
    "resnet18": 512,
    "efficientnet_lite0": 2064,
}


def tiny_features(params: dict) -> None:
    """The backbones at 32 px: ResNet-18 with explicit random weights (as `make repro` sets them where ImageNet's
    are missing), EfficientNet-Lite0 with its ImageNet weights (installed with the requirements).

    The scattering sets keep their real configurations (176 and 3969 features): they take well under a
    second on 250 images.
    """
    params["features"]["resnet18"].update(weights="random", input_size=32, batch_size=64, device="cpu")
    params["features"]["efficientnet_lite0"].update(input_size=32, batch_size=64, device="cpu")
    for name in ("scatnet", "scatnet_rich", "scatnet_hog"):
        params["features"][name]["device"] = "cpu"


def tiny_classify(params: dict) -> None:
    """Every classify stage in about a second on 200 + 50 images: in-process folds, small grids and models.

    Principal components stay below the 13 rows per class of a 3-fold search on 200 images.
    """
    classify = params["classify"]
    # Three feature sets (one of each kind: pixels, scattering, a pretrained backbone), the backbone's as a wide set
    # with one model of the two: each stage is a process of its own. Every model's pipeline and grid are checked in
    # tests/classical/test_classify.py.
    classify["features"] = ["raw", "scatnet"]
    classify["models"] = ["lda", "knn"]
    classify["wide_features"] = ["efficientnet_lite0"]
    classify["wide_models"] = ["lda"]
    classify["search"].update(size=200, folds=3, n_jobs=1)
    classify["qda"]["grid"].update(pca=[4, 8])
    classify["logreg"]["grid"].update(pca=[16])
    classify["linear_svc"]["grid"].update(pca=[16])
    classify["svm"]["grid"].update(pca=[16])
    classify["random_forest"]["grid"].update(n_estimators=[5])
    classify["knn"]["grid"].update(pca=[None, 8])
    classify["mlp"]["grid"].update(pca=[16], hidden_layer_sizes=[[16, 16]], max_iter=[3])
    classify["hgb"]["grid"].update(pca=[8], max_iter=[5])


def tiny_cnn(params: dict) -> None:
    """Two small nets for 2 epochs: the pipeline tests need a CNN stage, not all of them (tests/cnn/test_train.py
    trains every arch on tiny data)."""
    params["train_cnn"]["archs"] = ["mlp", "lenet5"]
    params["model"].update(epochs=2, batch_size=32, patience=1, channels_last=False)
    cnn = params["cnn"]
    for settings in cnn.values():
        settings["epochs"] = None
    cnn["mlp"].update(hidden=[32, 32])
    cnn["cnn1"].update(filters=4)
    # From scratch: on 180 images a net 2 fine-tuned from net 1 can agree with it everywhere, leaving net 3 nothing.
    cnn["convnet_bn"].update(channels=[8, 16], fc=[16, 16], boost=True, boost_from="scratch")
    for arch in ("resnet18", "vgg16_bn"):
        cnn[arch].update(weights="random", input_size=32, epochs=1)
    cnn["efficientnet_lite0"].update(input_size=32, epochs=1)
    # Two fine-tunes (the whole network; a head on the frozen backbone), and an ensemble of nets that run.
    finetune = params["finetune"]
    finetune["runs"] = ["lite0_whole_10", "lite0_last_layer"]
    finetune["recipe"].update(batch_size=32)
    for run in finetune["runs"]:
        finetune[run].update(input_size=32, epochs=1)
    params["ensemble"].update(candidates=["lenet5", "lite0_whole_10"], max_members=2)


def tiny_sweeps(params: dict) -> None:
    """Two values per sweep, one epoch, the validation split scored every 2 steps (3 points per curve)."""
    sweeps = params["sweeps"]
    sweeps["hidden_units"]["values"] = [3, 8]
    sweeps["filters"]["values"] = [2, 4]
    sweeps["kernel_size"]["values"] = [2, 3]
    for sweep in sweeps.values():
        sweep.update(epochs=1, eval_every=2)


def tiny_visualize(params: dict) -> None:
    """Pictures of the raw features only, PCA and t-SNE, on 200 points: a few seconds per stage. UMAP (30 s of numba
    compilation in every process) and LLE are drawn in tests/pictures/test_visualize.py."""
    visualize = params["visualize"]
    visualize["features"] = ["raw"]
    visualize["methods"] = ["pca", "tsne"]
    visualize["pca"].update(n_points=200)
    visualize["tsne"].update(n_points=200, pca_dims=10, perplexity=10, n_iter=100, n_jobs=1)
    visualize["umap"].update(n_points=200, pca_dims=10, n_neighbors=10, n_epochs=100)
    visualize["lle"].update(n_points=200, pca_dims=10, n_neighbors=10)
    params["pictures"].update(samples_per_class=3, gallery_images=8)


def tiny_settings(params: dict) -> None:
    """The tiny settings of every stage."""
    tiny_features(params)
    tiny_classify(params)
    tiny_cnn(params)
    tiny_sweeps(params)
    tiny_visualize(params)
