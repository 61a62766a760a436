"""Attribution methods, one record each: what it shows, how it runs, whether it takes a layer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import ConfigError
from .classifier import Pretrained

@dataclass(frozen=True)
class Method:
    title: str
    note: str  # what it shows and what it costs, for the page and `--help`


METHODS: dict[str, Method] = {
    "gradcam": Method("Grad-CAM", "Where the chosen layer's features support the class; coarse (the layer's "
                      "grid, e.g. 7x7), about the cost of one forward pass."),
    "guided_gradcam": Method("Guided Grad-CAM", "Grad-CAM times guided backpropagation: pixel-level edges "
                             "that support the class; about one forward and one full backward pass."),
    "integrated_gradients": Method("Integrated Gradients", "Each pixel's share of the class score, integrated "
                                   "from a blank image; fine-grained and noisy; ~32 forward+backward passes "
                                   "(seconds on a CPU)."),
    "occlusion": Method("Occlusion", "How much the class score drops when a grey square hides each region; "
                        "model-agnostic; ~100-200 forward passes (slowest: tens of seconds on a CPU)."),
}


# --- the attributions ---------------------------------------------------------------------

def _top(logits: torch.Tensor, categories: list[str], k: int = 5) -> list[tuple[int, str, float]]:
    probs = logits.detach().float().softmax(1)[0]
    values, indices = probs.topk(min(k, probs.numel()))
    return [(int(i), categories[int(i)], float(v)) for v, i in zip(values, indices)]


def _gradcam(model: Pretrained, x: torch.Tensor, target: int | None, layer: torch.nn.Module):
    """One forward pass gives the predictions and the map: with no target the forward function
    returns the top logit itself (its gradient is that of the argmax class)."""
    from captum.attr import LayerGradCam

    seen: dict[str, torch.Tensor] = {}

    def forward(inputs: torch.Tensor) -> torch.Tensor:
        logits = model.module(inputs)
        seen["logits"] = logits.detach()
        if target is None:
            return logits.gather(1, logits.argmax(1, keepdim=True))
        return logits

    cam = LayerGradCam(forward, layer).attribute(x, target=0 if target is None else target,
                                                 relu_attributions=True)
    if cam.dim() != 4:
        raise ConfigError("layer", f"Grad-CAM needs a layer with (N, C, H, W) output; got {tuple(cam.shape)}")
    logits = seen["logits"]
    index = int(logits.argmax(1)) if target is None else target
    return cam[0].sum(0).detach().float().cpu().numpy(), logits, index


def _forward_logits(model: Pretrained, x: torch.Tensor, target: int | None):
    with torch.no_grad():
        logits = model.module(x)
    return logits, int(logits.argmax(1)) if target is None else target


def _input_map(attr: torch.Tensor) -> np.ndarray:
    return attr[0].detach().float().abs().sum(0).cpu().numpy()


def _guided_gradcam(model, x, target, layer, **_):
    from captum.attr import GuidedGradCam

    logits, index = _forward_logits(model, x, target)
    attr = GuidedGradCam(model.module, layer).attribute(x, target=index, interpolate_mode="bilinear")
    return _input_map(attr), logits, index


def _integrated_gradients(model, x, target, layer, ig_steps: int = 32, **_):
    from captum.attr import IntegratedGradients

    logits, index = _forward_logits(model, x, target)
    attr = IntegratedGradients(model.module).attribute(x, baselines=torch.zeros_like(x), target=index,
                                                       n_steps=ig_steps, internal_batch_size=8)
    return _input_map(attr), logits, index


def _occlusion(model, x, target, layer, window: int | None = None, **_):
    from captum.attr import Occlusion

    logits, index = _forward_logits(model, x, target)
    window = window or max(4, min(x.shape[-2:]) // 7)  # 32 px at 224
    stride = max(1, window * 3 // 4)  # 126 windows on a 224 x 336 input
    attr = Occlusion(model.module).attribute(x, sliding_window_shapes=(x.shape[1], window, window),
                                             strides=(x.shape[1], stride, stride), baselines=0, target=index,
                                             perturbations_per_eval=8)
    return np.maximum(attr[0, 0].detach().float().cpu().numpy(), 0), logits, index


