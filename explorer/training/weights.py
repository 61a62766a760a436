"""``safetensors`` files of trained DenseNets: the weights under the live model's module names
(torchvision's: ``features.denseblock1.denselayer1.conv1.weight``) and, in the metadata, the
config, the class names and the input normalisation as JSON.

Loading reads and checks the header before any tensor: the size, the metadata, then every key,
shape and dtype against the model the config builds; each refusal is one line.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass

import torch

from ..i18n import N_
from ..errors import ExplorerError
from ..sharing import read_json
from ..models.densenet import DenseNet, DenseNetConfig

MAX_FILE_BYTES = 256 * 2**20  # as the app's upload limit
MAX_HEADER_BYTES = 16 * 2**20
FORMAT = "explorer-densenet/1"


class WeightsFileError(ExplorerError):
    """A weights file that cannot be loaded; the message names the file and the first problem."""


@dataclass
class LoadedModel:
    model: DenseNet  # eval mode, on the CPU
    config: DenseNetConfig
    classes: list[str]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    info: dict  # everything else the metadata held (val_accuracy, epochs, data set)


def save_model(state_dict: dict[str, torch.Tensor], config: DenseNetConfig, classes: list[str],
               mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), **info) -> bytes:
    """The file's bytes. ``info`` (JSON-able: val_accuracy, epochs...) rides along in the metadata."""
    from safetensors.torch import save

    tensors = {name: t.detach().to("cpu").contiguous() for name, t in state_dict.items()}
    meta = {"format": FORMAT, "arch": "densenet", "config": config.to_dict(), "classes": list(classes),
            "mean": list(mean), "std": list(std), "info": info}
    return save(tensors, metadata={"explorer": json.dumps(meta)})


def _header(data: bytes, name: str) -> dict:
    if len(data) < 8:
        raise WeightsFileError(N_("{name}: not a safetensors file (too short)"), name=name)
    (length,) = struct.unpack("<Q", data[:8])
    if length > min(MAX_HEADER_BYTES, len(data) - 8):
        raise WeightsFileError(N_("{name}: not a safetensors file (bad header length)"), name=name)
    header = read_json(data[8:8 + length], lambda why: WeightsFileError(
        N_("{name}: not a safetensors file (unreadable header)"), name=name))
    if not isinstance(header, dict):
        raise WeightsFileError(N_("{name}: not a safetensors file (header is not an object)"), name=name)
    return header


_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
           "I64": torch.int64, "I32": torch.int32}


@dataclass
class ModelFileInfo:
    """What a weights file says about its model, read from the header alone (no tensor loaded)."""

    config: DenseNetConfig
    classes: list[str]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    info: dict  # everything else the metadata held (val_accuracy, epochs, data set)


def read_info(data: bytes, name: str = "model.safetensors") -> ModelFileInfo:
    """The config, classes and normalisation in a ``save_model`` file's metadata: cheap (the
    header only), for showing what a kept file holds; ``load_model`` checks the tensors too."""
    return _read_info(data, name)[0]


def _read_info(data: bytes, name: str) -> tuple[ModelFileInfo, dict]:
    if len(data) > MAX_FILE_BYTES:  # a reader may have stopped at the limit: the size is not known
        raise WeightsFileError(N_("{name}: the file is over the {limit} MiB limit"),
                               name=name, limit=f"{MAX_FILE_BYTES / 2**20:.0f}")
    header = _header(bytes(data[:8 + MAX_HEADER_BYTES]), name)
    raw = (header.get("__metadata__") or {}).get("explorer")
    if not isinstance(raw, str):
        raise WeightsFileError(N_("{name}: no explorer metadata (config); save it with `python -m explorer train` "
                                  "or the Train page"),
                               name=name)
    meta = read_json(raw, lambda why: WeightsFileError(N_("{name}: unreadable explorer metadata"), name=name))
    try:
        if meta.get("format") != FORMAT or meta.get("arch") != "densenet":
            raise WeightsFileError(N_("{name}: metadata format {found} is not {expected}"),
                                   name=name, found=repr(meta.get("format")), expected=repr(FORMAT))
        config = DenseNetConfig.from_dict(meta["config"])
        classes = [str(c)[:100] for c in meta["classes"]]
        mean = tuple(float(v) for v in meta.get("mean", (0, 0, 0)))
        std = tuple(float(v) for v in meta.get("std", (1, 1, 1)))
    except WeightsFileError:
        raise
    except ExplorerError as error:
        raise WeightsFileError(N_("{name}: bad config in the metadata: {error}"), name=name, error=error) from None
    except (KeyError, TypeError, ValueError, AttributeError):
        raise WeightsFileError(N_("{name}: unreadable explorer metadata"), name=name) from None
    if len(classes) != config.num_classes:
        raise WeightsFileError(N_("{name}: {n_classes} class names for {num_classes} classes"),
                               name=name, n_classes=len(classes), num_classes=config.num_classes)
    _check_normalisation(name, mean, std)
    return ModelFileInfo(config, classes, mean, std, _plain_info(meta.get("info"))), header


def _plain_info(info) -> dict:
    """The metadata's ``info`` as pages may show it: text (at most 100 characters) and finite
    numbers only, and a validation accuracy only as a fraction from 0 to 1 (a file could hold
    nested objects, NaN, or "val_accuracy": "high")."""
    if not isinstance(info, dict):
        return {}
    kept = {}
    for key, value in list(info.items())[:32]:
        if isinstance(value, str):
            kept[str(key)[:40]] = value[:100]
        elif isinstance(value, (int, float)) and math.isfinite(value):
            kept[str(key)[:40]] = value
    accuracy = kept.get("val_accuracy")
    if accuracy is not None and (isinstance(accuracy, (bool, str)) or not 0 <= accuracy <= 1):
        del kept["val_accuracy"]
    return kept


# The input normalisation, per RGB channel of pixels scaled to 0-1: a training set's mean is in 0-1
# and its std is at least MIN_STD (``training.data`` clamps it there: a constant channel has std 0).
MIN_STD, MAX_NORMALISATION = 1e-3, 1e3


def _check_normalisation(name: str, mean: tuple, std: tuple) -> None:
    """Refuse, with one line, a normalisation no training made: std 0 divides every image by zero,
    a NaN mean makes every probability NaN."""
    if len(mean) != 3 or len(std) != 3:
        raise WeightsFileError(N_("{name}: the normalisation needs 3 means and 3 stds (one per RGB channel); "
                                  "the metadata has {n_mean} and {n_std}"), name=name, n_mean=len(mean), n_std=len(std))
    if not all(math.isfinite(v) and abs(v) <= MAX_NORMALISATION for v in mean):
        raise WeightsFileError(N_("{name}: the normalisation's mean {mean} must be 3 numbers from {low} to {high}"),
                               name=name, mean=_numbers(mean), low=f"{-MAX_NORMALISATION:g}",
                               high=f"{MAX_NORMALISATION:g}")
    if not all(math.isfinite(v) and MIN_STD <= v <= MAX_NORMALISATION for v in std):
        raise WeightsFileError(N_("{name}: the normalisation's std {std} must be 3 numbers from {low} to {high}"),
                               name=name, std=_numbers(std), low=f"{MIN_STD:g}", high=f"{MAX_NORMALISATION:g}")


def _numbers(values: tuple) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in values) + ")"


def load_model(data: bytes, name: str = "model.safetensors") -> LoadedModel:
    """Rebuild the model a ``save_model`` file describes and load its weights (strictly)."""
    from safetensors.torch import load

    file_info, header = _read_info(data, name)
    config, classes, mean, std = file_info.config, file_info.classes, file_info.mean, file_info.std

    from ..models.registry import build_model, materialize

    model = build_model(config, device="meta")  # checks the weights budget before allocating
    expected = model.state_dict()
    entries = {k: v for k, v in header.items() if k != "__metadata__"}
    missing = sorted(set(expected) - set(entries))
    unexpected = sorted(set(entries) - set(expected))
    if missing:
        raise WeightsFileError(N_("{name}: missing {n_missing} tensor(s), e.g. {example}"),
                               name=name, n_missing=len(missing), example=missing[0])
    if unexpected:
        raise WeightsFileError(N_("{name}: {n_unexpected} unexpected tensor(s), e.g. {example}"),
                               name=name, n_unexpected=len(unexpected), example=unexpected[0])
    for key, tensor in expected.items():
        entry = entries[key]
        shape = list(entry.get("shape", [])) if isinstance(entry, dict) else None
        if shape != list(tensor.shape):
            raise WeightsFileError(N_("{name}: {key} has shape {shape}, the config needs {needed}"),
                                   name=name, key=key, shape=shape, needed=list(tensor.shape))
        dtype = _DTYPES.get(entry.get("dtype"))
        if dtype != tensor.dtype:
            raise WeightsFileError(N_("{name}: {key} is {found}, expected {expected}"),
                                   name=name, key=key, found=entry.get("dtype"), expected=tensor.dtype)
    try:
        state = load(bytes(data))
    except Exception as error:  # noqa: BLE001 - safetensors raises its own SafetensorError
        raise WeightsFileError(N_("{name}: cannot read the tensors ({why})"),
                               name=name, why=str(error).splitlines()[0][:120]) from None
    model = materialize(model, "cpu")
    model.load_state_dict(state, strict=True)
    for key, tensor in state.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise WeightsFileError(N_("{name}: {key} holds NaN or infinite values"), name=name, key=key)
    return LoadedModel(model.eval(), config, classes, mean, std, file_info.info)
