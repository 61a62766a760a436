"""DenseNets trained in this app (or uploaded as ``safetensors``) as classifiers that ``explain``
can use: their own classes, input size and normalisation come from the file's metadata
(``weights.save_model``), their Grad-CAM layers from their config.

``read_info`` reads only the file's JSON header (what a page needs to offer the classes and
layers without loading any tensor); ``trained_classifier`` makes the ready-to-run ``Pretrained``
from a loaded file (in a job: loading is heavy work).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..vision.classifier import Pretrained
from ..vision.preprocess import Preprocess
from ..vision.weights import densenet_layers

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
    return densenet_layers(blocks)


def read_info(data: bytes, name: str = "model.safetensors") -> TrainedInfo:
    """The metadata of a ``save_model`` file (header only, ``training.weights.read_info``) as a
    classifier's classes, input size and Grad-CAM layers, or its one-line ``WeightsFileError``."""
    from .weights import read_info as read_file_info

    file_info = read_file_info(data, name)
    config = file_info.config
    layers = cam_layers(len(config.block_config))
    return TrainedInfo(name, tuple(file_info.classes), config.input_size, layers, DEFAULT_CAM_LAYER, file_info.info)


def trained_classifier(data: bytes, name: str = "model.safetensors") -> Pretrained:
    """Load a ``save_model`` file (strictly, ``weights.load_model``) as a classifier: the
    image's shorter side resized to the model's input size and centre-cropped to a square (the
    training images were square), normalised with the training set's mean and std."""
    from .weights import load_model

    loaded = load_model(data, name)
    size = loaded.config.input_size
    layers = cam_layers(len(loaded.config.block_config))
    return Pretrained(name, loaded.model.eval(), Preprocess(size, size, tuple(loaded.mean), tuple(loaded.std)),
                      list(loaded.classes), DEFAULT_CAM_LAYER, list(layers), torch.device("cpu"))
