"""Grad-CAM's fast path (issue #31): no autograd before the target layer, maps equal to captum's.

``attribution.layer_gradcam`` runs the forward under ``no_grad`` up to the chosen layer and records
the graph only from its output on. Checked against captum itself (``LayerGradCam`` with
``relu_attributions=True``, ``GuidedGradCam``) on every family the app explains, and, without any
timing, that nothing before the layer is recorded: the regression that made Grad-CAM 2.3-2.9x a
forward pass was a forward recorded through every block."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
from captum.attr import GuidedGradCam, LayerGradCam

import explorer
from explorer.models.densenet import DenseNet, DenseNetConfig
from explorer.vision import attribution
from explorer.vision.attribution import Layer, layer_gradcam
from explorer.vision.images import load_sample


def captum_gradcam(module, x, layer, target):
    def forward(inputs):
        out = module(inputs)
        return out.gather(1, out.argmax(1, keepdim=True)) if target is None else out

    return LayerGradCam(forward, layer).attribute(x, target=0 if target is None else target,
                                                  relu_attributions=True).detach()


def frozen(module):
    torch.manual_seed(0)
    return module.eval().requires_grad_(False)


# (family, module maker, layers, input size): torchvision's own classes with seeded random weights
# (the maps depend only on the arithmetic), and this project's DenseNet as the Train page builds it.
FAMILIES = {
    "densenet121": (lambda: torchvision.models.densenet121(), ["features.denseblock3", "features.norm5"], 96),
    "googlenet": (lambda: torchvision.models.googlenet(aux_logits=False, init_weights=True),
                  ["inception4e", "inception5b"], 96),
    "inception_v3": (lambda: torchvision.models.inception_v3(aux_logits=False, init_weights=True),
                     ["Mixed_6e", "Mixed_7c"], 139),
    "resnet50": (lambda: torchvision.models.resnet50(), ["layer3", "layer4"], 96),
    "resnext50_32x4d": (lambda: torchvision.models.resnext50_32x4d(), ["layer4"], 96),
    "trained densenet": (lambda: DenseNet(DenseNetConfig(block_config=(2, 2, 2), growth_rate=12, num_init_features=24,
                                                         stem="cifar", input_size=32, num_classes=10)),
                         ["features.denseblock2", "features.norm5"], 32),
}


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_maps_equal_captums_on_every_family(family):
    make, layers, size = FAMILIES[family]
    module = frozen(make())
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(1))
    compared = 0
    for name in layers:
        layer = module.get_submodule(name)
        for target in (None, 1):
            cam, logits, index, shape = layer_gradcam(module, x, layer, target)
            assert len(shape) == 4 and shape[0] == 1 and shape[2:] == tuple(cam.shape[2:])
            expected = captum_gradcam(module, x, layer, target)
            assert cam.shape == expected.shape
            assert torch.allclose(cam, expected, rtol=0, atol=1e-5 * max(1.0, float(expected.abs().max())))
            assert index == (int(logits.argmax(1)) if target is None else target)
            compared += float(expected.max()) > 0
    assert compared >= 1  # at least one map that is not all zero


@pytest.mark.slow
def test_lite0_pretrained_maps_equal_captums(lite0):
    image = load_sample("chelsea")
    x = lite0.transforms(image).unsqueeze(0)
    for name in ("bn2", "blocks.4", "blocks.6"):
        layer = lite0.module.get_submodule(name)
        result = explorer.explain(lite0, image, layer=name, target=281)  # the app's path: explain()
        expected = captum_gradcam(lite0.module, x, layer, 281)[0].sum(0).numpy()
        assert float(expected.max()) > 0
        assert np.allclose(result.raw, expected, rtol=0, atol=1e-5 * float(expected.max()))


@pytest.mark.slow
@pytest.mark.parametrize("family", ["densenet121", "resnet50"])
def test_guided_gradcam_equals_captums(family):
    make, layers, size = FAMILIES[family]
    module = frozen(make())
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(2))

    class Model:  # what the runner reads of a Pretrained
        cam_layers = layers

    Model.module = module
    layer = Layer(layers[-1], module.get_submodule(layers[-1]))
    ours, logits, index = attribution.METHODS["guided_gradcam"].run(Model, x, None, layer, 0)
    expected = GuidedGradCam(module, layer.module).attribute(x, target=index, interpolate_mode="bilinear")
    expected = expected[0].detach().abs().sum(0).numpy()
    assert float(expected.max()) > 0
    assert np.allclose(ours, expected, rtol=0, atol=1e-5 * float(expected.max()))


def test_nothing_before_the_layer_is_recorded():
    """Every leaf module before the layer runs with grad mode off, every one after it with grad mode
    on; the caller's grad mode is the same afterwards (on, and inside an outer no_grad)."""
    module = frozen(torchvision.models.resnet18())
    x = torch.randn(1, 3, 64, 64)
    order, modes = [], {}
    leaves = [(n, m) for n, m in module.named_modules() if not any(True for _ in m.children())]

    def seen(name):
        def hook(_module, _inputs, _output):  # returns None: the output stays as it is
            order.append(name)
            modes[name] = torch.is_grad_enabled()
        return hook

    hooks = [m.register_forward_hook(seen(n)) for n, m in leaves]
    try:
        layer_gradcam(module, x, module.layer3, None)
    finally:
        for hook in hooks:
            hook.remove()
    first_after = next(i for i, n in enumerate(order) if n.startswith("layer4"))
    before, after = order[:first_after], order[first_after:]
    assert any(n.startswith("layer3") for n in before) and "fc" in after
    assert not any(modes[n] for n in before), [n for n in before if modes[n]]
    assert all(modes[n] for n in after), [n for n in after if not modes[n]]
    assert torch.is_grad_enabled()
    with torch.no_grad():
        cam, _logits, _index, shape = layer_gradcam(module, x, module.layer3, None)
        assert not torch.is_grad_enabled()
    assert cam.shape == (1, 1, 4, 4) and shape == (1, 256, 4, 4)


def test_a_layer_with_no_single_tensor_output_is_refused_in_one_line(lite0):
    from explorer.errors import ConfigError

    class Pair(torch.nn.Module):
        def forward(self, x):
            return x, x

    module = frozen(torch.nn.Sequential(Pair()))
    cam, logits, index, shape = layer_gradcam(torch.nn.Sequential(module[0], _First(), torch.nn.Flatten(),
                                                           torch.nn.LazyLinear(3)), torch.randn(1, 2, 2, 2),
                                       module[0], None)
    assert cam is None and shape == () and logits.shape == (1, 3)
    with pytest.raises(ConfigError):
        attribution._check_spatial("Grad-CAM", lite0, Layer("pair", module[0]), ())


class _First(torch.nn.Module):
    def forward(self, pair):
        return pair[0]
