"""The torchvision models the explorer compares with, and their published numbers: read from the
installed weights metadata (``get_model_weights(name).DEFAULT.meta``); nothing is downloaded."""

from __future__ import annotations

from dataclasses import dataclass

# The torchvision models the issue compares, in display order.
TORCHVISION_MODELS = ("densenet121", "densenet169", "densenet201", "densenet161", "googlenet", "inception_v3",
                      "resnet50", "resnext50_32x4d", "mobilenet_v2", "efficientnet_b0")


# The key idea of each family in one line; a project architecture falls back to its arch name.
KEY_IDEAS = {
    "densenet": "concatenation: each layer reads all earlier maps of its block",
    "googlenet": "multi-branch: parallel 1x1/3x3/5x5/pool branches, 1x1 reductions",
    "inception_v3": "multi-branch with factorised convs (n x n -> 1 x n + n x 1)",
    "resnet": "residual addition: y = F(x) + x, bottleneck blocks",
    "resnext": "grouped convs (32 groups) inside residual bottlenecks",
    "mobilenet_v2": "depthwise separable convs, inverted residuals, linear bottlenecks",
    "efficientnet": "depthwise separable MBConv + squeeze-excitation, compound scaling",
}

_FAMILY = {"resnet50": "resnet", "resnext50_32x4d": "resnext", "mobilenet_v2": "mobilenet_v2",
           "efficientnet_b0": "efficientnet", "googlenet": "googlenet", "inception_v3": "inception_v3"}

@dataclass(frozen=True)
class TorchvisionInfo:
    name: str
    weights: str  # the DEFAULT weights tag, e.g. "IMAGENET1K_V2"
    input_size: int  # the crop the weights were evaluated at
    num_params: int
    gmacs: float  # meta["_ops"]: torchvision's "GFLOPS", which are MACs
    top1: float
    top5: float
    file_mb: float  # meta["_file_size"], in MB as torchvision documents it
    file_name: str


def torchvision_info(name: str) -> TorchvisionInfo | None:
    """The DEFAULT weights' published numbers, or None for a name torchvision has no weights for."""
    if name not in TORCHVISION_MODELS:
        return None
    from torchvision.models import get_model_weights

    weights = get_model_weights(name).DEFAULT
    meta = weights.meta
    metrics = meta["_metrics"]["ImageNet-1K"]
    crop = weights.transforms().crop_size[0]
    return TorchvisionInfo(name, weights.name, int(crop), int(meta["num_params"]), float(meta["_ops"]),
                           float(metrics["acc@1"]), float(metrics["acc@5"]), float(meta["_file_size"]),
                           weights.url.rsplit("/", 1)[-1])


def key_idea(name: str, arch: str | None = None) -> str:
    if arch is not None:
        return KEY_IDEAS.get(arch, arch)
    family = _FAMILY.get(name) or ("densenet" if name.startswith("densenet") else name)
    return KEY_IDEAS.get(family, family)
