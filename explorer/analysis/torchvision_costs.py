"""What a torchvision model the project does not describe itself costs, *measured* once per input
size: ``FlopCounterMode`` on a meta copy (MACs = FLOPs / 2), ``sum(numel)`` for params, and the
bytes autograd saves in a real CPU training forward. Saved bytes are exactly linear in the batch
(per-image maps plus a constant: BatchNorm's per-channel batch statistics), so two forwards at
batches 2 and 3 give every batch size; the tests check the line at a third batch. Results are
cached in-process and on disk.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from ..i18n import N_
from ..errors import ConfigError
from .measure import count_flops, saved_activation_bytes
from .reference import TORCHVISION_MODELS, torchvision_info

# How torchvision ships each model with its weights (``googlenet`` drops its aux heads on load;
# ``inception_v3`` keeps AuxLogits, which eval skips). init_weights=False: the values are irrelevant.
_BUILD_KWARGS = {"googlenet": {"aux_logits": False, "init_weights": False},
                 "inception_v3": {"init_weights": False}}

# Narrower than limits.INPUT_SIZE: measuring a torchvision model trains it at batch 3 (about 5 GB
# of saved activations for ResNet-50 at 1024 px).
MAX_INPUT = 1024
MIN_INPUT = {"inception_v3": 75, "googlenet": 15}  # torchvision's meta["min_size"]; others 32 here
_DEFAULT_MIN_INPUT = 32
COMMON_INPUT = (max(MIN_INPUT.values()), MAX_INPUT)  # one input size for all models: every one accepts these

@dataclass(frozen=True)
class Measured:
    """What a torchvision model costs at one input size, measured once."""

    name: str
    input_size: int
    params: int
    macs: int  # FlopCounterMode total / 2
    activation_per_image: int  # saved bytes that scale with the batch
    activation_constant: int  # saved bytes that do not (BatchNorm batch statistics)
    stages: tuple[tuple[str, int, int], ...]  # (module, output channels, output height)

    def activation_bytes(self, batch_size: int) -> int:
        return self.activation_per_image * batch_size + self.activation_constant


_MEASURED: dict[tuple[str, int], Measured] = {}
_MEASURE_LOCK = threading.Lock()
_CACHE_VERSION = 2


def cache_dir() -> Path:
    """Where measured numbers are kept between runs: $EXPLORER_CACHE_DIR or ~/.cache/cnn-explorer."""
    from ..environment import cache_dir as configured

    return configured()


def _cache_file() -> Path:
    import torchvision

    return cache_dir() / f"measured-torch{torch.__version__}-tv{torchvision.__version__}.json"


def _valid_entry(key: object, value: object) -> Measured | None:
    """A cached entry as a ``Measured``, or None when anything about its shape is wrong."""
    fields = ("name", "input_size", "params", "macs", "activation_per_image", "activation_constant", "stages")
    if not isinstance(value, dict) or set(value) != set(fields):
        return None
    numbers = [value[f] for f in fields[1:6]]
    if (value["name"] not in TORCHVISION_MODELS or key != f"{value['name']}@{value['input_size']}"
            or not all(type(n) is int and n >= 0 for n in numbers) or not isinstance(value["stages"], list)):
        return None
    stages = []
    for stage in value["stages"]:
        if (not isinstance(stage, list) or len(stage) != 3 or not isinstance(stage[0], str)
                or not all(type(n) is int and n > 0 for n in stage[1:])):
            return None
        stages.append(tuple(stage))
    return Measured(**{**value, "stages": tuple(stages)})


def _read_disk() -> dict[str, Measured]:
    """The valid entries of the cache file. A file of the wrong shape (another version, a partial
    write, someone's edit) is rewritten with what was valid in it, so one bad file costs a
    re-measurement, never a blank page or a crash."""
    path = _cache_file()
    try:
        text = path.read_text()
    except (OSError, ValueError):
        return {}
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = None
    models = data.get("models") if isinstance(data, dict) and data.get("version") == _CACHE_VERSION else None
    valid = {}
    for key, value in (models.items() if isinstance(models, dict) else ()):
        measured = _valid_entry(key, value)
        if measured is not None:
            valid[key] = measured
    if not isinstance(models, dict) or len(valid) != len(models):
        _write_entries(valid)
    return valid


def _write_entries(entries: dict[str, Measured]) -> None:
    path = _cache_file()
    data = {"version": _CACHE_VERSION, "models": {key: asdict(m) for key, m in entries.items()}}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(path)
    except OSError:
        pass  # a read-only or missing cache folder only costs a re-measurement next time


def _write_disk(measured: Measured) -> None:
    _write_entries({**_read_disk(), f"{measured.name}@{measured.input_size}": measured})


def clear_cache(disk: bool = False) -> None:
    """Forget measured numbers (in-process; also on disk with ``disk=True``)."""
    _MEASURED.clear()
    if disk:
        try:
            _cache_file().unlink()
        except OSError:
            pass


def is_cached(name: str, input_size: int) -> bool:
    return (name, input_size) in _MEASURED or f"{name}@{input_size}" in _read_disk()


def torchvision_model(name: str) -> nn.Module:
    """A torchvision model, untrained, built as this module measures it (``latency`` times the same)."""
    import torchvision

    return torchvision.models.get_model(name, weights=None, **_BUILD_KWARGS.get(name, {}))


def _stage_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Top-level stages: the children, descending into a ``features`` Sequential."""
    stages = []
    for name, child in model.named_children():
        if name == "features" and isinstance(child, nn.Sequential):
            stages += [(f"features.{n}", m) for n, m in child.named_children()]
        elif name not in ("AuxLogits", "aux1", "aux2"):
            stages.append((name, child))
    return stages


def _measure_stages(model: nn.Module, input_size: int) -> tuple[tuple[str, int, int], ...]:
    """Output channels and height of every stage that outputs a feature map (traced on meta)."""
    found: list[tuple[str, int, int]] = []
    handles = []
    for name, module in _stage_modules(model):
        def hook(_m, _inp, out, name=name):
            if isinstance(out, torch.Tensor) and out.dim() == 4:
                shape = (int(out.shape[1]), int(out.shape[2]))
                if not found or found[-1][1:] != shape:  # BN and ReLU stages change nothing
                    found.append((name, *shape))
        handles.append(module.register_forward_hook(hook))
    try:
        model.eval()
        with torch.no_grad():
            model(torch.empty(1, 3, input_size, input_size, device="meta"))
    finally:
        for handle in handles:
            handle.remove()
    return tuple(found)


def check_input_size(name: str, input_size: int) -> None:
    low = MIN_INPUT.get(name, _DEFAULT_MIN_INPUT)
    if isinstance(input_size, bool) or not isinstance(input_size, int) or not low <= input_size <= MAX_INPUT:
        raise ConfigError("input_size", N_("{name} needs an integer input size from {low} to {limit} px, got "
                                            "{input_size}"),
                          name=name, low=low, limit=MAX_INPUT, input_size=repr(input_size))


def remember(measured: Measured) -> Measured:
    """Keep numbers measured elsewhere (a worker process of the job layer) in this process too, so
    that a read-only cache folder costs no second measurement."""
    with _MEASURE_LOCK:
        _MEASURED[(measured.name, measured.input_size)] = measured
    return measured


@functools.lru_cache(maxsize=256)  # a page asks again on every rerun while a model waits to be measured
def measure_bytes(name: str, input_size: int) -> int:
    """Memory ``measure_torchvision`` needs, estimated on a meta copy before anything is allocated:
    the weights, and at batch 3 every leaf module's output, half as much again. The outputs are
    0.9x (EfficientNet-B0) to 1.5x (ResNet-50) what autograd saves; the half covers that and the
    maps being computed beside the saved ones."""
    check_input_size(name, input_size)
    with torch.device("meta"):
        model = torchvision_model(name)
    per_image = 0

    def hook(_module, _inputs, out):
        nonlocal per_image
        for t in (out if isinstance(out, (tuple, list)) else (out,)):
            if isinstance(t, torch.Tensor):
                per_image += t.numel() * t.element_size()

    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(hook) for m in leaves]
    try:
        model.eval()(torch.empty(1, 3, input_size, input_size, device="meta"))  # aux heads: small
    finally:
        for handle in handles:
            handle.remove()
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    return weights + 3 * per_image * 3 // 2


def measure_torchvision(name: str, input_size: int | None = None) -> Measured:
    """Params, MACs, training activation bytes and stages of a torchvision model; cached."""
    if name not in TORCHVISION_MODELS:
        raise ConfigError("model", N_("unknown torchvision model {name}; choose from {models}"),
                          name=repr(name), models=", ".join(TORCHVISION_MODELS))
    if input_size is None:
        input_size = torchvision_info(name).input_size
    check_input_size(name, input_size)
    key = (name, input_size)
    with _MEASURE_LOCK:
        if key in _MEASURED:
            return _MEASURED[key]
        stored = _read_disk().get(f"{name}@{input_size}")
        if stored is not None:
            _MEASURED[key] = stored
            return stored
        with torch.device("meta"):
            model = torchvision_model(name)
        params = sum(p.numel() for p in model.parameters())
        macs = count_flops(model, (1, 3, input_size, input_size)) // 2
        stages = _measure_stages(model, input_size)
        # Saved bytes need real storages. Batch 2 and 3 (batch 1 cannot train Inception v3's aux
        # head, whose BatchNorm sees a 1x1 map) give the per-image slope and the constant.
        cpu_model = torchvision_model(name)
        small, large = (saved_activation_bytes(cpu_model, (b, 3, input_size, input_size)) for b in (2, 3))
        del cpu_model
        per_image = large - small
        measured = Measured(name, input_size, params, macs, per_image, small - 2 * per_image, stages)
        _MEASURED[key] = measured
        _write_disk(measured)
        return measured
