"""Every architecture: its shapes, a real training step that lowers the loss, and what freezing keeps fixed."""

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import yaml
from torch import nn

from fmnist.cnn.loop import Recipe, TrainingData, make_trainer, seed_everything, train_one_epoch
from fmnist.cnn.nets import build_net, count_parameters
from fmnist.cnn.recipes import effective_recipe, input_pipeline
from fmnist.names import ARCHS, IMAGENET_ARCHS
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
    for arch in IMAGENET_ARCHS:  # small inputs; random weights where ImageNet's cannot be had offline
        params["cnn"][arch].update(input_size=32)
        if arch != "efficientnet_lite0":
            params["cnn"][arch]["weights"] = "random"
    return params


def settings_and_recipe(arch: str, params: dict) -> tuple[dict, Recipe]:
    settings = params["cnn"][arch]
    recipe = effective_recipe(arch, params["model"], settings).__dict__
    recipe.update(epochs=STEPS, batch_size=16, schedule="constant", label_smoothing=0.0, channels_last=False)
    return settings, Recipe.from_params(recipe)


@pytest.mark.parametrize("arch", ARCHS)
def test_every_arch_maps_a_batch_to_ten_logits(arch, params):
    settings, recipe = settings_and_recipe(arch, params)
    pipeline = input_pipeline(arch, settings, recipe)
    images = torch.randint(0, 256, (3, 28, 28), dtype=torch.uint8)
    seed_everything(0)
    net = build_net(arch, settings).eval()
    for x in (pipeline.train(images, torch.Generator().manual_seed(0)), pipeline.eval(images)):
        assert net(x).shape == (3, 10)


@pytest.mark.parametrize("arch", ARCHS)
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
