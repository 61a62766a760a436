"""The torchvision models the explorer compares with, and their published numbers: read from the
installed weights metadata (``get_model_weights(name)``, every version's ``meta``); nothing is
downloaded.

Accuracy comes in two recipes. ``IMAGENET1K_V1`` weights were trained with the original papers'
recipes; torchvision's newer versions (``IMAGENET1K_V2``, 2021: longer training, heavy
augmentation) exist only for some models (ResNet-50 76.13 -> 80.86 %). Comparing a V2 number with
a V1 number measures the recipe as much as the architecture, so comparisons use the original
recipe unless asked otherwise. Where a paper reports its own figure and it differs from the
torchvision port, ``PAPER_ACCURACY`` cites it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import N_

# The torchvision models the issue compares, in display order.
TORCHVISION_MODELS = ("densenet121", "densenet169", "densenet201", "densenet161", "googlenet", "inception_v3",
                      "resnet50", "resnext50_32x4d", "mobilenet_v2", "efficientnet_b0")

ORIGINAL_WEIGHTS = "IMAGENET1K_V1"  # torchvision's tag for weights trained with the paper's recipe
RECIPES = ("original", "newest")  # which accuracy a comparison uses; "original" is like with like

# The key idea of each family in one line; a project architecture falls back to its arch name.
KEY_IDEAS = {
    "densenet": N_("concatenation: each layer reads all earlier maps of its block"),
    "googlenet": N_("multi-branch: parallel 1x1/3x3/5x5/pool branches, 1x1 reductions"),
    "inception_v3": N_("multi-branch with factorised convs (n x n -> 1 x n + n x 1)"),
    "resnet": N_("residual addition: y = F(x) + x, bottleneck blocks"),
    "resnext": N_("grouped convs (32 groups) inside residual bottlenecks"),
    "mobilenet_v2": N_("depthwise separable convs, inverted residuals, linear bottlenecks"),
    "efficientnet": N_("depthwise separable MBConv + squeeze-excitation, compound scaling"),
}

# Each torchvision model's family (a key of the key ideas above); DenseNets by their name's prefix.
FAMILY = {"resnet50": "resnet", "resnext50_32x4d": "resnext", "mobilenet_v2": "mobilenet_v2",
          "efficientnet_b0": "efficientnet", "googlenet": "googlenet", "inception_v3": "inception_v3"}


@dataclass(frozen=True)
class Accuracy:
    """ImageNet-1K accuracy of one torchvision weights version, at its own crop."""

    weights: str  # torchvision's tag, e.g. "IMAGENET1K_V1"
    top1: float
    top5: float
    file_mb: float  # meta["_file_size"], in MB as torchvision documents it
    file_name: str

    @property
    def recipe(self) -> str:
        """People's words for the training recipe behind these weights."""
        return "original recipe" if self.weights == ORIGINAL_WEIGHTS else f"newer recipe ({self.weights})"


@dataclass(frozen=True)
class PaperAccuracy:
    """A paper's own ImageNet figure, where it differs from the torchvision port."""

    top1: float
    top5: float
    how: str  # the evaluation protocol, e.g. "single crop, 299 px"
    source: str


# Only figures read from the paper itself; top-1 = 100 - the printed top-1 error.
PAPER_ACCURACY = {
    "inception_v3": PaperAccuracy(78.8, 94.4, "single crop, 299 px",
                                  N_("Szegedy et al., Rethinking the Inception Architecture for Computer Vision, "
                                     "CVPR 2016 (abstract: 21.2 % top-1 and 5.6 % top-5 error, single frame)")),
}


@dataclass(frozen=True)
class TorchvisionInfo:
    name: str
    weights: str  # the DEFAULT weights tag, e.g. "IMAGENET1K_V2"
    input_size: int  # the crop the weights were evaluated at
    num_params: int
    gmacs: float  # meta["_ops"]: torchvision's "GFLOPS", which are MACs
    top1: float  # of the DEFAULT weights
    top5: float
    file_mb: float  # meta["_file_size"], in MB as torchvision documents it
    file_name: str
    original: Accuracy  # IMAGENET1K_V1: the paper's training recipe
    newer: Accuracy | None = None  # torchvision's newest other ImageNet-1K weights, where there are any
    paper: PaperAccuracy | None = None

    def accuracy(self, recipe: str = "original") -> Accuracy:
        """The accuracy a comparison uses: the original recipe (like with like) or the newest weights."""
        if recipe not in RECIPES:
            raise ValueError(f"recipe must be one of {RECIPES}, got {recipe!r}")
        return self.newer if recipe == "newest" and self.newer is not None else self.original


def _accuracy(weights) -> Accuracy:
    metrics = weights.meta["_metrics"]["ImageNet-1K"]
    return Accuracy(weights.name, float(metrics["acc@1"]), float(metrics["acc@5"]),
                    float(weights.meta["_file_size"]), weights.url.rsplit("/", 1)[-1])


def torchvision_info(name: str) -> TorchvisionInfo | None:
    """The published numbers of every ImageNet-1K weights version, or None for a name torchvision
    has no weights for."""
    if name not in TORCHVISION_MODELS:
        return None
    from torchvision.models import get_model_weights

    enum = get_model_weights(name)
    default = enum.DEFAULT
    versions = [w for w in enum if w.name.startswith("IMAGENET1K_")]
    original = next(w for w in versions if w.name == ORIGINAL_WEIGHTS)
    newer = [w for w in versions if w is not original]
    crop = original.transforms().crop_size[0]
    best = _accuracy(default)
    return TorchvisionInfo(name, default.name, int(crop), int(default.meta["num_params"]), float(default.meta["_ops"]),
                           best.top1, best.top5, best.file_mb, best.file_name, _accuracy(original),
                           _accuracy(newer[-1]) if newer else None, PAPER_ACCURACY.get(name))


def key_idea(name: str, arch: str | None = None) -> str:
    if arch is not None:
        return KEY_IDEAS.get(arch, arch)
    family = FAMILY.get(name) or ("densenet" if name.startswith("densenet") else name)
    return KEY_IDEAS.get(family, family)
