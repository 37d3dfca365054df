"""Every architecture: its shapes, a real training step that lowers the loss, and what freezing keeps fixed."""

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import yaml
from torch import nn

from fmnist.backbones import BACKBONES
from fmnist.backbones.weights import sha256_of
from fmnist.catalog import CNN_ARCHS
from fmnist.cnn.loop import TrainingData, make_trainer, seed_everything, train_one_epoch
from fmnist.cnn.nets import Residual, Scale, build_net, conv_bn_relu, count_parameters
from fmnist.cnn.recipes import effective_recipe, input_pipeline
from fmnist.errors import PipelineError
from fmnist.recipe import Recipe
from tests.support.idx_files import synthetic_split

REPO = Path(__file__).resolve().parents[2]
STEPS = 6


class Recording:
    """A Logger that keeps the batch losses."""

    def __init__(self) -> None:
        self.losses: list[float] = []

    def batch(self, step: int, loss: float) -> None:
        self.losses.append(loss)

    def epoch(self, epoch: int, values: dict) -> None:
        pass


def fixed_batch_loss(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """The loss on (x, y) in training mode (batch norms on the batch's statistics) without dropout, so that two
    calls differ by the weights only."""
    net.train()
    for module in net.modules():
        if isinstance(module, nn.Dropout):
            module.eval()
    with torch.no_grad():
        return float(F.cross_entropy(net(x), y))


@pytest.fixture(scope="module")
def params():
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    for arch in (
        name for name, record in CNN_ARCHS.items() if record.imagenet_input
    ):  # small inputs; random weights where ImageNet's cannot be had offline
        params["cnn"][arch].update(input_size=32)
        if arch != "efficientnet_lite0":
            params["cnn"][arch]["weights"] = "random"
    return params


def settings_and_recipe(arch: str, params: dict) -> tuple[dict, Recipe]:
    settings = params["cnn"][arch]
    recipe = effective_recipe(arch, params["model"], settings).__dict__
    recipe.update(epochs=STEPS, batch_size=16, schedule="constant", label_smoothing=0.0, channels_last=False)
    return settings, Recipe.from_params(recipe)


@pytest.mark.parametrize("arch", list(CNN_ARCHS))
def test_every_arch_maps_a_batch_to_ten_logits(arch, params):
    settings, recipe = settings_and_recipe(arch, params)
    pipeline = input_pipeline(arch, settings, recipe)
    images = torch.randint(0, 256, (3, 28, 28), dtype=torch.uint8)
    seed_everything(0)
    net = build_net(arch, settings).eval()
    for x in (pipeline.train(images, torch.Generator().manual_seed(0)), pipeline.eval(images)):
        assert net(x).shape == (3, 10)


@pytest.mark.parametrize("arch", list(CNN_ARCHS))
def test_every_arch_takes_optimizer_steps_that_lower_the_loss_on_a_fixed_batch(arch, params):
    """`STEPS` epochs of one batch each (the same 16 images, no augmentation) through the training loop: every
    trainable tensor moves, and the loss on that batch goes down."""
    settings, recipe = settings_and_recipe(arch, params)
    settings = {**settings, "augment": False}
    images, labels = synthetic_split(16, seed=0)
    data = TrainingData(
        torch.from_numpy(images),
        torch.from_numpy(labels.astype("int64")),
        torch.arange(16).numpy(),
        torch.arange(0).numpy(),
        input_pipeline(arch, settings, recipe),
    )
    seed_everything(0)
    net = build_net(arch, settings)
    x, y = data.pipeline.eval(data.images), data.labels
    loss_before = fixed_batch_loss(net, x, y)
    before = {name: p.detach().clone() for name, p in net.named_parameters() if p.requires_grad}
    logger = Recording()
    trainer = make_trainer(net, 16, recipe, torch.device("cpu"), logger, arch)
    generator = torch.Generator().manual_seed(0)
    for epoch in range(1, STEPS + 1):
        train_one_epoch(trainer, data, generator, epoch)
    assert len(logger.losses) == STEPS
    assert fixed_batch_loss(net, x, y) < loss_before
    moved = {name for name, p in net.named_parameters() if name in before and not torch.equal(p, before[name])}
    assert moved == set(before)


def test_frozen_parts_keep_their_weights_and_batch_norm_statistics(params):
    resnet = build_net("resnet18", {**params["cnn"]["resnet18"], "freeze": "backbone"})
    assert {n for n, p in resnet.named_parameters() if p.requires_grad} == {"net.fc.weight", "net.fc.bias"}
    vgg = build_net("vgg16_bn", params["cnn"]["vgg16_bn"])
    assert not any(p.requires_grad for p in vgg.net.features.parameters())
    assert all(p.requires_grad for p in vgg.net.classifier.parameters())
    lite0 = build_net("efficientnet_lite0", {**params["cnn"]["efficientnet_lite0"], "freeze": "backbone"})
    for net, trainable in ((resnet, resnet.net.fc), (vgg, vgg.net.classifier), (lite0, lite0.net.classifier)):
        net.train()
        assert trainable.training
        frozen_norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        assert frozen_norms and not any(m.training for m in frozen_norms)
        statistics = [m.running_mean.clone() for m in frozen_norms]
        net(torch.randn(4, 3, 32, 32))
        assert all(torch.equal(m.running_mean, s) for m, s in zip(frozen_norms, statistics, strict=True))


def test_full_fine_tuning_trains_every_layer(params):
    lite0 = build_net("efficientnet_lite0", params["cnn"]["efficientnet_lite0"])
    assert params["cnn"]["efficientnet_lite0"]["freeze"] == "none"
    assert all(p.requires_grad for p in lite0.parameters())


def test_resnet9_takes_its_widths_from_its_channels_setting():
    net = build_net("resnet9", {"channels": [4, 8, 12, 16], "stage1_stride": 1})
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [4, 8, 8, 8, 12, 16, 16, 16]
    linear = next(m for m in net.modules() if isinstance(m, nn.Linear))
    assert linear.in_features == 16
    assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def map_sides(net: nn.Module) -> list[int]:
    """The side of each convolution's output map, in order, for one 28 x 28 image."""
    sides = []
    hooks = [
        m.register_forward_hook(lambda m, i, out: sides.append(out.shape[-1]))
        for m in net.modules()
        if isinstance(m, nn.Conv2d)
    ]
    net(torch.zeros(1, 1, 28, 28))
    for hook in hooks:
        hook.remove()
    return sides


def test_resnet9_stage1_stride_2_downsamples_with_its_conv_in_place_of_the_max_pool():
    pooled = build_net("resnet9", {"channels": [4, 8, 12, 16], "stage1_stride": 1}).eval()
    strided = build_net("resnet9", {"channels": [4, 8, 12, 16], "stage1_stride": 2}).eval()
    assert map_sides(pooled) == [28, 28, 14, 14, 14, 7, 3, 3]
    assert map_sides(strided) == [28, 14, 14, 14, 14, 7, 3, 3]  # stage 1's conv maps 14 x 14, not 28 x 28
    assert sum(isinstance(m, nn.MaxPool2d) for m in strided.modules()) == 2
    assert [c.stride for c in strided.modules() if isinstance(c, nn.Conv2d)][:2] == [(1, 1), (2, 2)]
    assert count_parameters(strided) == count_parameters(pooled)  # the same weights, half the work


# Each small net's structure, beyond its output shape: the layers in order (with kernels, strides, paddings, widths
# and dropout rates) and the parameter count worked out from the architecture its docstring describes.


def conv(cin: int, cout: int, k: int, bias: bool = True) -> int:
    return cin * cout * k * k + (cout if bias else 0)


def linear(fin: int, fout: int, bias: bool = True) -> int:
    return fin * fout + (fout if bias else 0)


def bn(channels: int) -> int:
    return 2 * channels  # weight and bias (the running statistics are buffers)


def cbr(cin: int, cout: int) -> int:
    """conv_bn_relu: a 3 x 3 convolution without bias and its batch norm."""
    return conv(cin, cout, 3, bias=False) + bn(cout)


LENET5 = conv(1, 6, 5) + conv(6, 16, 5) + conv(16, 120, 5) + linear(120, 84) + linear(84, 10)
SETTINGS_AND_COUNTS = {
    "mlp": ({"hidden": [512, 512], "dropout": 0.3}, linear(784, 512) + linear(512, 512) + linear(512, 10)),
    "dense2": ({"hidden": 5}, linear(784, 5) + linear(5, 10)),
    "cnn1": ({"filters": 32, "kernel": 2}, conv(1, 32, 2) + linear(32 * 27 * 27, 10)),
    "lenet5": ({"activation": "relu", "pool": "avg"}, LENET5),
    "lenet5_bn": ({"activation": "relu", "pool": "avg"}, LENET5 + bn(6) + bn(16) + bn(120) + bn(84)),
    "convnet_bn": (
        {"channels": [16, 32], "convs_per_block": 2, "kernel": 3, "fc": [256, 128], "dropout": 0.35},
        cbr(1, 16)
        + cbr(16, 16)
        + cbr(16, 32)
        + cbr(32, 32)  # 28 -> 14 -> 7
        + linear(32 * 7 * 7, 256)
        + linear(256, 128)
        + linear(128, 10),
    ),
    "resnet9": (
        {"channels": [16, 32, 64, 128], "stage1_stride": 1},
        cbr(1, 16)
        + cbr(16, 32)
        + 2 * cbr(32, 32)
        + cbr(32, 64)
        + cbr(64, 128)
        + 2 * cbr(128, 128)
        + linear(128, 10, bias=False),
    ),
}


def test_the_classic_lenet5_has_its_61706_parameters():
    assert LENET5 == 61_706  # LeCun et al.'s count for this layout (C5 as a 5 x 5 convolution)
    assert count_parameters(build_net("lenet5", {"activation": "tanh", "pool": "avg"})) == 61_706


@pytest.mark.parametrize("arch", list(SETTINGS_AND_COUNTS))
def test_each_small_net_has_the_parameter_count_of_its_architecture(arch):
    settings, expected = SETTINGS_AND_COUNTS[arch]
    assert count_parameters(build_net(arch, settings)) == expected


def test_convnet_bn_convolutions_follow_its_kernel_setting_and_have_no_bias():
    settings = {"channels": [4, 8], "convs_per_block": 1, "kernel": 5, "fc": [16], "dropout": 0.5}
    expected = conv(1, 4, 5, bias=False) + bn(4) + conv(4, 8, 5, bias=False) + bn(8)
    expected += linear(8 * 7 * 7, 16) + linear(16, 10)
    net = build_net("convnet_bn", settings)
    assert count_parameters(net) == expected
    assert net.eval()(torch.zeros(2, 1, 28, 28)).shape == (2, 10)  # "same" padding: 28 x 28 maps into the pools


def describe(module: nn.Module) -> list[str]:
    """The layers of a net in order, residual blocks bracketed, with what defines each."""
    if isinstance(module, Residual):
        return ["Residual[", *describe(module.body), "]"]
    if isinstance(module, nn.Sequential):
        return [line for child in module for line in describe(child)]
    if isinstance(module, nn.Conv2d):
        (k, _), (s, _), (p, _) = module.kernel_size, module.stride, module.padding
        bias = "" if module.bias is not None else " nobias"
        return [f"Conv2d {module.in_channels}>{module.out_channels} k{k} s{s} p{p}{bias}"]
    if isinstance(module, nn.Linear):
        return [f"Linear {module.in_features}>{module.out_features}{'' if module.bias is not None else ' nobias'}"]
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return [f"{type(module).__name__} {module.num_features}"]
    if isinstance(module, nn.Dropout):
        return [f"Dropout {module.p}"]
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        return [f"{type(module).__name__} k{module.kernel_size} s{module.stride}"]
    if isinstance(module, Scale):
        return [f"Scale {module.factor}"]
    assert not list(module.children()), type(module)
    return [type(module).__name__]


def cbr_layers(cin: int, cout: int, stride: int = 1) -> list[str]:
    return [f"Conv2d {cin}>{cout} k3 s{stride} p1 nobias", f"BatchNorm2d {cout}", "ReLU"]


LAYERS = {
    "mlp": (
        {"hidden": [512, 256], "dropout": 0.3},
        ["Flatten", "Linear 784>512", "ReLU", "Dropout 0.3", "Linear 512>256", "ReLU", "Dropout 0.3", "Linear 256>10"],
    ),
    "dense2": ({"hidden": 5}, ["Flatten", "Linear 784>5", "ReLU", "Linear 5>10"]),
    "cnn1": ({"filters": 32, "kernel": 2}, ["Conv2d 1>32 k2 s1 p0", "ReLU", "Flatten", "Linear 23328>10"]),
    "lenet5": (
        {"activation": "tanh", "pool": "max"},
        ["Conv2d 1>6 k5 s1 p2", "Tanh", "MaxPool2d k2 s2", "Conv2d 6>16 k5 s1 p0", "Tanh", "MaxPool2d k2 s2"]
        + ["Conv2d 16>120 k5 s1 p0", "Tanh", "Flatten", "Linear 120>84", "Tanh", "Linear 84>10"],
    ),
    "lenet5_bn": (
        {"activation": "relu", "pool": "avg"},
        ["Conv2d 1>6 k5 s1 p2", "BatchNorm2d 6", "ReLU", "AvgPool2d k2 s2"]
        + ["Conv2d 6>16 k5 s1 p0", "BatchNorm2d 16", "ReLU", "AvgPool2d k2 s2"]
        + ["Conv2d 16>120 k5 s1 p0", "BatchNorm2d 120", "ReLU", "Flatten"]
        + ["Linear 120>84", "BatchNorm1d 84", "ReLU", "Linear 84>10"],
    ),
    "convnet_bn": (
        {"channels": [16, 32], "convs_per_block": 2, "kernel": 3, "fc": [256, 128], "dropout": 0.35},
        cbr_layers(1, 16)
        + cbr_layers(16, 16)
        + ["MaxPool2d k2 s2"]
        + cbr_layers(16, 32)
        + cbr_layers(32, 32)
        + ["MaxPool2d k2 s2", "Flatten"]
        + ["Dropout 0.35", "Linear 1568>256", "ReLU", "Dropout 0.35", "Linear 256>128", "ReLU"]
        + ["Dropout 0.35", "Linear 128>10"],
    ),
    "resnet9": (
        {"channels": [16, 32, 64, 128], "stage1_stride": 1},
        cbr_layers(1, 16)
        + cbr_layers(16, 32)
        + ["MaxPool2d k2 s2"]
        + ["Residual[", *cbr_layers(32, 32), *cbr_layers(32, 32), "]"]
        + cbr_layers(32, 64)
        + ["MaxPool2d k2 s2"]
        + cbr_layers(64, 128)
        + ["MaxPool2d k2 s2"]
        + ["Residual[", *cbr_layers(128, 128), *cbr_layers(128, 128), "]"]
        + ["GlobalMaxPool", "Linear 128>10 nobias", "Scale 0.125"],
    ),
    "resnet9 stride 2": (
        {"channels": [4, 8, 12, 16], "stage1_stride": 2},
        cbr_layers(1, 4)
        + cbr_layers(4, 8, stride=2)
        + ["Residual[", *cbr_layers(8, 8), *cbr_layers(8, 8), "]"]
        + cbr_layers(8, 12)
        + ["MaxPool2d k2 s2"]
        + cbr_layers(12, 16)
        + ["MaxPool2d k2 s2"]
        + ["Residual[", *cbr_layers(16, 16), *cbr_layers(16, 16), "]"]
        + ["GlobalMaxPool", "Linear 16>10 nobias", "Scale 0.125"],
    ),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_each_small_net_has_the_layers_of_its_architecture_in_order(name):
    settings, expected = LAYERS[name]
    assert describe(build_net(name.split()[0], settings)) == expected


def test_the_boosted_lenet5s_members_are_lenet5_bns_when_batch_norm_is_set():
    settings = {"activation": "relu", "pool": "avg"}
    assert describe(build_net("lenet5_boosted", {**settings, "batch_norm": True})) == LAYERS["lenet5_bn"][1]
    assert "BatchNorm2d 6" not in describe(build_net("lenet5_boosted", {**settings, "batch_norm": False}))


def test_a_residual_block_adds_its_input_to_its_body():
    torch.manual_seed(0)
    block = Residual(conv_bn_relu(4, 4), conv_bn_relu(4, 4)).eval()
    x = torch.randn(2, 4, 6, 6)
    assert torch.allclose(block(x), x + block.body(x))
    assert not torch.allclose(block(x), block.body(x))


def test_a_train_cnn_backbone_loads_its_local_weights_file_checked_by_its_sha256(params, tmp_path):
    torch.manual_seed(0)
    state = BACKBONES["resnet18"].construct().state_dict()
    path = tmp_path / "resnet18.pth"
    torch.save(state, path)
    settings = {**params["cnn"]["resnet18"], "weights": "imagenet", "weights_file": str(path)}
    net = build_net("resnet18", {**settings, "weights_sha256": sha256_of(path)})
    assert torch.equal(net.conv1.weight, state["conv1.weight"])
    with pytest.raises(PipelineError, match="cnn.resnet18.weights_sha256"):
        build_net("resnet18", {**settings, "weights_sha256": "0" * 64})


def test_the_logit_scale_multiplies_by_its_factor():
    x = torch.randn(3, 10)
    assert torch.equal(Scale(0.125)(x), x * 0.125)


@pytest.mark.parametrize(
    "arch, settings",
    [
        ("mlp", {"hidden": [64, 64], "dropout": 0.5}),
        ("convnet_bn", {"channels": [4, 8], "convs_per_block": 1, "kernel": 3, "fc": [32], "dropout": 0.5}),
    ],
)
def test_dropout_drops_in_train_mode_only(arch, settings):
    torch.manual_seed(0)
    net = build_net(arch, settings)
    x = torch.randn(8, 1, 28, 28)
    net.eval()
    assert torch.equal(net(x), net(x))  # scoring is deterministic
    without_dropout = nn.Sequential(*[m for m in net if not isinstance(m, nn.Dropout)]).eval()
    assert torch.equal(net(x), without_dropout(x))  # and dropout is the identity there
    # In train mode each dropout zeroes about half of its inputs (p = 0.5) and scales the rest by 2.
    net.train()
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.eval()  # batch statistics aside: dropout is what differs between the passes
    dropouts = [m for m in net if isinstance(m, nn.Dropout)]
    seen = []
    hooks = [m.register_forward_hook(lambda m, i, out: seen.append((i[0], out))) for m in dropouts]
    first, second = net(x), net(x)
    for hook in hooks:
        hook.remove()
    assert not torch.equal(first, second)
    for inputs, out in seen:
        zeroed = ((out == 0) & (inputs != 0)).float().sum() / (inputs != 0).float().sum()
        assert 0.35 < float(zeroed) < 0.65
        kept = out != 0
        assert torch.allclose(out[kept], 2 * inputs[kept])
