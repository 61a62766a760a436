"""DenseNets trained in this app (or uploaded as ``safetensors``) as classifiers that ``explain``
can use: their own classes, input size and normalisation come from the file's metadata
(``training.weights.save_model``), their Grad-CAM layers from their config.

``read_info`` reads only the file's JSON header (what a page needs to offer the classes and
layers without loading any tensor); ``trained_classifier`` makes the ready-to-run ``Pretrained``
from a loaded file (in a job: loading is heavy work).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import torch

from ..i18n import N_
from ..errors import ExplorerError
from .classifier import Pretrained
from .preprocess import Preprocess
from .weights import _densenet_layers

DEFAULT_CAM_LAYER = "features.relu5"  # after the last BatchNorm, before the pooling, as for torchvision's


@dataclass(frozen=True)
class TrainedInfo:
    """What a trained model's file says about it, without its tensors."""

    name: str  # the file's name
    classes: tuple[str, ...]
    input_size: int
    cam_layers: tuple[str, ...]
    default_cam_layer: str
    info: dict  # val_accuracy, epochs, data set... as the file holds them


def cam_layers(blocks: int) -> tuple[str, ...]:
    """Every dense block and transition, then ``features.relu5`` (the last block's map)."""
    return _densenet_layers(blocks)


def read_info(data: bytes, name: str = "model.safetensors") -> TrainedInfo:
    """The metadata of a ``save_model`` file (header only), or its one-line ``WeightsFileError``."""
    from ..models.densenet import DenseNetConfig
    from ..training.weights import FORMAT, MAX_FILE_BYTES, MAX_HEADER_BYTES, WeightsFileError, _header

    if len(data) > MAX_FILE_BYTES:
        raise WeightsFileError(N_("{name}: the file is {size} MiB; the limit is {limit} MiB"),
                               name=name, size=f"{len(data) / 2**20:.0f}", limit=f"{MAX_FILE_BYTES / 2**20:.0f}")
    header = _header(bytes(data[:8 + MAX_HEADER_BYTES]), name)
    raw = (header.get("__metadata__") or {}).get("explorer")
    if not isinstance(raw, str):
        raise WeightsFileError(N_("{name}: no explorer metadata (config); save it with `python -m explorer train` "
                                  "or the Train page"),
                               name=name)
    try:
        meta = json.loads(raw)
        if meta.get("format") != FORMAT:
            raise WeightsFileError(N_("{name}: metadata format {found} is not {expected}"),
                                   name=name, found=repr(meta.get("format")), expected=repr(FORMAT))
        config = DenseNetConfig.from_dict(meta["config"])
        classes = tuple(str(c)[:100] for c in meta["classes"])
        info = meta.get("info") if isinstance(meta.get("info"), dict) else {}
    except WeightsFileError:
        raise
    except ExplorerError as error:
        raise WeightsFileError(N_("{name}: bad config in the metadata: {error}"), name=name, error=error) from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        raise WeightsFileError(N_("{name}: unreadable explorer metadata"), name=name) from None
    if len(classes) != config.num_classes:
        raise WeightsFileError(N_("{name}: {n_classes} class names for {num_classes} classes"),
                               name=name, n_classes=len(classes), num_classes=config.num_classes)
    layers = cam_layers(len(config.block_config))
    return TrainedInfo(name, classes, config.input_size, layers, DEFAULT_CAM_LAYER, info)


def trained_classifier(data: bytes, name: str = "model.safetensors") -> Pretrained:
    """Load a ``save_model`` file (strictly, ``training.weights.load_model``) as a classifier: the
    image's shorter side resized to the model's input size and centre-cropped to a square (the
    training images were square), normalised with the training set's mean and std."""
    from ..training.weights import load_model

    loaded = load_model(data, name)
    size = loaded.config.input_size
    layers = cam_layers(len(loaded.config.block_config))
    return Pretrained(name, loaded.model.eval(), Preprocess(size, size, tuple(loaded.mean), tuple(loaded.std)),
                      list(loaded.classes), DEFAULT_CAM_LAYER, list(layers), torch.device("cpu"))
