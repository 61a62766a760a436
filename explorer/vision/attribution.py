"""Attribution methods as data: one ``Method`` record each (what it shows, how it runs, whether it
takes a layer, how its map is scaled), and the runners behind them.

- ``gradcam``: captum's ``LayerGradCam`` with ``relu_attributions=True`` (``layer_gradcam`` computes
  the same map without autograd before the layer), i.e. the paper's map
  ReLU(sum_k alpha_k A^k), alpha_k = mean gradient of the class score (pre-softmax) over the
  layer's k-th map (Selvaraju et al. 2017). captum's default keeps negative values, which is not
  the paper's map. Coarse (the layer's resolution), about one forward pass.
- ``guided_gradcam``: Grad-CAM times guided backpropagation: pixel-sharp, class-discriminative.
- ``integrated_gradients``: gradients averaged along the path from a black image (in normalised
  units: the mean colour) to the input (Sundararajan et al. 2017); ``ig_steps`` passes.
- ``occlusion``: how much the class score drops when a grey square hides each region; one
  forward pass per window position, model-agnostic.

Integrated Gradients and Occlusion run their steps in batches sized to ``memory_budget``: one
forward pass measures the model's activations per image, and the batch is what fits (estimate
before allocating); an input whose single step does not fit is refused with one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError
from ..i18n import N_
from ..units import format_bytes
from .classifier import Pretrained

MEMORY_BUDGET = 3 * 2**29  # 1.5 GiB: what the batched steps of one attribution may add (IG, Occlusion)
MAX_BATCH = 8  # steps at once on small inputs (more gains little speed and costs memory)
# Peak memory per batched image, as a multiple of the activations one forward pass writes
# (measured on EfficientNet-Lite0 at 224 px and 224 x 2240, CPU: IG 0.82-0.91x with backward,
# Occlusion 0.23-0.31x under no_grad; rounded up).
IG_PEAK_PER_ACTIVATION = 1.0
OCCLUSION_PEAK_PER_ACTIVATION = 0.5
MAX_IG_STEPS = 512

Runner = Callable[..., "tuple[np.ndarray, torch.Tensor, int]"]


@dataclass(frozen=True)
class Layer:
    name: str
    module: nn.Module


@dataclass(frozen=True)
class Method:
    """One attribution method. ``run(model, x, target, layer, budget, **options)`` returns the raw
    map (layer or input grid), the logits and the explained class."""

    title: str
    note: str  # what it shows and what it costs, for the page and `--help`
    run: Runner
    takes_layer: bool  # Grad-CAM family: the map lives on a chosen layer's grid
    percentile: float | None  # the raw map is scaled to [0, 1] by this percentile (None: its maximum)


# --- helpers ------------------------------------------------------------------------------

def top_predictions(logits: torch.Tensor, categories: list[str], k: int = 5) -> list[tuple[int, str, float]]:
    probs = logits.detach().float().softmax(1)[0]
    values, indices = probs.topk(min(k, probs.numel()))
    return [(int(i), categories[int(i)], float(v)) for v, i in zip(values, indices)]


def _check_spatial(title: str, model: Pretrained, layer: Layer, shape: tuple[int, ...]) -> None:
    if len(shape) != 4:
        raise ConfigError("layer", N_("{title} needs a layer with (N, C, H, W) output; {name} gives {shape}; "
                                      "choose one of {layers}"),
                          title=title, name=layer.name, shape=shape, layers=", ".join(model.cam_layers))


def forward_measured(model: Pretrained, x: torch.Tensor, layer: Layer | None = None):
    """(logits, bytes of activations per image, the layer's output shape) from one no-grad pass:
    the activations are the outputs of every leaf module (what a backward pass keeps)."""
    total, shape = [0], []
    hooks = [m.register_forward_hook(lambda m, i, o: total.__setitem__(0, total[0] + _bytes(o)))
             for m in model.module.modules() if not any(True for _ in m.children())]
    if layer is not None:
        hooks.append(layer.module.register_forward_hook(lambda m, i, o: shape.append(tuple(o.shape))))
    try:
        with torch.no_grad():
            logits = model.module(x)
    finally:
        for hook in hooks:
            hook.remove()
    return logits, total[0] // x.shape[0], shape[0] if shape else None


def _bytes(output) -> int:
    if isinstance(output, torch.Tensor):
        return output.numel() * output.element_size()
    if isinstance(output, (tuple, list)):
        return sum(_bytes(o) for o in output)
    return 0


def batch_that_fits(title: str, x: torch.Tensor, per_step: float, fixed: float, budget: int, steps: int) -> int:
    """How many steps to run at once so that ``fixed + batch * per_step`` stays within ``budget``;
    a one-line refusal when a single step does not fit."""
    if fixed + per_step > budget:
        h, w = x.shape[-2:]
        raise ConfigError("image", N_("{title} on this {w}x{h} input needs about {need} even one step at a time, "
                                      "over its {budget} budget; use a smaller image or Grad-CAM"),
                          title=title, w=w, h=h, need=format_bytes(fixed + per_step), budget=format_bytes(budget))
    return max(1, min(steps, MAX_BATCH, int((budget - fixed) // per_step)))


# --- the runners --------------------------------------------------------------------------

def layer_gradcam(module: nn.Module, x: torch.Tensor, layer: nn.Module, target: int | None):
    """captum's ``LayerGradCam(...).attribute(x, target, relu_attributions=True)`` for one image,
    without autograd before ``layer``: Grad-CAM needs gradients only from the layer's output to
    the class score, so the forward runs under ``no_grad`` up to the layer and records the graph
    from its output on (a forward hook turns grad mode on there). Recording every block of the
    forward cost 2.3-2.9x a plain forward pass (issue #31); this costs about one forward pass and a
    backward from the output to the layer.

    Returns (map (N, 1, h, w), logits, the explained class (with no target, the top logit's), the
    layer's output shape); the map is None when the layer's output is not one tensor."""
    seen: list[torch.Tensor] = []

    def start_recording(_module, _inputs, output):
        if not isinstance(output, torch.Tensor):
            return None
        torch.set_grad_enabled(True)  # for the rest of the forward; the no_grad block below restores it
        activation = output.detach().requires_grad_(True)
        seen.append(activation)
        return activation.clone()  # what the next layers get: an in-place op on it leaves ours intact

    with torch.no_grad():
        handle = layer.register_forward_hook(start_recording)
        try:
            logits = module(x)
        finally:
            handle.remove()
        if not seen:  # the layer's output is not one tensor: no map (the caller says which layers work)
            return None, logits.detach(), int(logits.argmax(1)) if target is None else target, ()
        index = int(logits.argmax(1)) if target is None else target
        activation = seen[-1]
        (gradient,) = torch.autograd.grad(logits[:, index].unbind(), activation)
    # captum's arithmetic, in its order, so the maps agree to float rounding
    weights = torch.mean(gradient, dim=tuple(range(2, gradient.dim())), keepdim=True)
    cam = torch.relu(torch.sum(weights * activation.detach(), dim=1, keepdim=True))
    return cam, logits.detach(), index, tuple(activation.shape)


def _gradcam(model: Pretrained, x: torch.Tensor, target: int | None, layer: Layer, budget: int, **_):
    """One forward pass gives the predictions and the map (``layer_gradcam``)."""
    cam, logits, index, shape = layer_gradcam(model.module, x, layer.module, target)
    _check_spatial("Grad-CAM", model, layer, shape)
    return cam[0].sum(0).float().cpu().numpy(), logits, index


def _input_map(attr: torch.Tensor) -> np.ndarray:
    return attr[0].detach().float().abs().sum(0).cpu().numpy()


def _guided_gradcam(model, x, target, layer: Layer, budget: int, **_):
    """captum's ``GuidedGradCam`` (bilinear): guided backpropagation times the Grad-CAM map brought
    to the input's size, with that map from ``layer_gradcam`` (no autograd before the layer; its
    forward also gives the predictions)."""
    from captum.attr import GuidedBackprop, LayerAttribution

    cam, logits, index, shape = layer_gradcam(model.module, x, layer.module, target)
    _check_spatial("Guided Grad-CAM", model, layer, shape)  # captum would fail with an IndexError
    guided = GuidedBackprop(model.module).attribute(x, target=index)
    attr = guided * LayerAttribution.interpolate(cam, tuple(x.shape[2:]), interpolate_mode="bilinear")
    return _input_map(attr), logits, index


def _integrated_gradients(model, x, target, layer, budget: int, ig_steps: int = 32, **_):
    from captum.attr import IntegratedGradients

    if not 1 <= ig_steps <= MAX_IG_STEPS:
        raise ConfigError("ig_steps", N_("must be from 1 to {limit}, got {ig_steps}"),
                          limit=MAX_IG_STEPS, ig_steps=ig_steps)
    logits, per_image, _shape = forward_measured(model, x)
    index = int(logits.argmax(1)) if target is None else target
    # captum keeps every step's scaled input and gradient until it sums them
    fixed = 3 * ig_steps * x[0].numel() * x.element_size()
    batch = batch_that_fits("Integrated Gradients", x, IG_PEAK_PER_ACTIVATION * per_image, fixed, budget, ig_steps)
    attr = IntegratedGradients(model.module).attribute(x, baselines=torch.zeros_like(x), target=index,
                                                       n_steps=ig_steps, internal_batch_size=batch)
    return _input_map(attr), logits, index


def occlusion_grid(x: torch.Tensor, window: int | None) -> tuple[int, int, int]:
    """(window, stride, number of window positions) on the input ``x``."""
    h, w = x.shape[-2:]
    window = window or max(4, min(h, w) // 7)  # 32 px at 224
    if not 1 <= window <= min(h, w):
        raise ConfigError("window", N_("must be from 1 to {most} px (the input is {w}x{h}), got {window}"),
                          most=min(h, w), w=w, h=h, window=window)
    stride = max(1, window * 3 // 4)  # 126 windows on a 224 x 336 input
    positions = ((h - window) // stride + 1) * ((w - window) // stride + 1)
    return window, stride, positions


def _occlusion(model, x, target, layer, budget: int, window: int | None = None, **_):
    from captum.attr import Occlusion

    window, stride, positions = occlusion_grid(x, window)
    logits, per_image, _shape = forward_measured(model, x)
    index = int(logits.argmax(1)) if target is None else target
    per_step = OCCLUSION_PEAK_PER_ACTIVATION * per_image + 2 * x[0].numel() * x.element_size()
    batch = batch_that_fits("Occlusion", x, per_step, 4 * x.numel() * x.element_size(), budget, positions)
    attr = Occlusion(model.module).attribute(x, sliding_window_shapes=(x.shape[1], window, window),
                                             strides=(x.shape[1], stride, stride), baselines=0, target=index,
                                             perturbations_per_eval=batch)
    return np.maximum(attr[0, 0].detach().float().cpu().numpy(), 0), logits, index


METHODS: dict[str, Method] = {
    "gradcam": Method(
        N_("Grad-CAM"), N_("Where the chosen layer's features support the class; coarse (the layer's grid, "
                           "e.g. 7x7), about the cost of one forward pass."),
        _gradcam, takes_layer=True, percentile=None),
    "guided_gradcam": Method(
        N_("Guided Grad-CAM"), N_("Grad-CAM times guided backpropagation: pixel-level edges that support the "
                                  "class; about one forward and one full backward pass."),
        _guided_gradcam, takes_layer=True, percentile=99.5),
    "integrated_gradients": Method(
        N_("Integrated Gradients"), N_("Each pixel's share of the class score, integrated from a blank image; "
                                       "fine-grained and noisy; ~32 forward+backward passes (seconds on a CPU)."),
        _integrated_gradients, takes_layer=False, percentile=99.5),
    "occlusion": Method(
        N_("Occlusion"), N_("How much the class score drops when a grey square hides each region; "
                            "model-agnostic; ~100-200 forward passes (slowest: tens of seconds on a CPU)."),
        _occlusion, takes_layer=False, percentile=None),
}


def method_of(name: str) -> Method:
    if name not in METHODS:
        raise ConfigError("method", N_("unknown method {name}; choose one of {methods}"),
                          name=repr(name), methods=", ".join(METHODS))
    return METHODS[name]
