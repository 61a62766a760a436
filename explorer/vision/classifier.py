"""The loaded classifier (``Pretrained``) and the process cache: ``load_pretrained(name)`` resolves
the file (already in ``$TORCH_HOME/hub/checkpoints`` -> no network; else torch.hub's download,
hash-checked), loads it and returns a model in eval mode on ``best_device()``, cached per process.

The DenseNet, GoogLeNet and Inception v3 weights load into the project's own live-built models
(its presets, with torchvision's module names), so the model the Build pages show is the one that
classifies.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import BinaryIO

import torch
from PIL import Image
from torch import nn

from .download import fetch_weights, forget_failures, missing_file_error, weights_path
from .loading import load_uploaded_weights, load_weights
from .preprocess import Preprocess
from .weights import PretrainedSpec, spec_of

CACHE_SIZE = 3  # models kept in memory per process (a DenseNet-161 is ~110 MiB)


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


def pretrained_from_upload(name: str, data: bytes | BinaryIO, file_name: str = "weights.pth",
                           device: str | torch.device | None = None) -> Pretrained:
    """``load_uploaded_weights`` as a ready-to-run classifier (the registry's preprocessing, labels
    and Grad-CAM layers); not cached here: the caller owns it."""
    module = load_uploaded_weights(name, data, file_name, device)
    return _pretrained(spec_of(name), module, next(module.parameters()).device)


def _pretrained(spec: PretrainedSpec, module: nn.Module, device: torch.device) -> Pretrained:
    return Pretrained(spec.name, module, spec.preprocess, list(spec.categories), spec.default_cam_layer,
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
                raise missing_file_error(name, path)
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
    forget_failures()
