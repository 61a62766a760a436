"""Compare architectures side by side: size, compute, memory, accuracy and measured speed.

Three kinds of entries share one row shape (``ComparisonRow``):

- the project's own presets (every architecture in the registry) and the user's builds use the
  analytic profile (``explorer.profile``): pure arithmetic;
- torchvision models the project does not describe itself (ResNet-50, ResNeXt-50, MobileNetV2,
  EfficientNet-B0, ...) are *measured* once per input size: ``FlopCounterMode`` on a meta copy
  (MACs = FLOPs / 2), ``sum(numel)`` for params, and the bytes autograd saves in a real CPU
  training forward. Saved bytes are exactly linear in the batch (per-image maps plus a constant:
  BatchNorm's per-channel batch statistics), so two forwards at batches 2 and 3 give every batch
  size; the tests check the line at a third batch. Results are cached in-process and on disk.

ImageNet accuracy, weights tag and weights file size come from torchvision's installed weights
metadata (``get_model_weights(name).DEFAULT.meta``): nothing is downloaded.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import statistics
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from ..models.registry import ARCHITECTURES, all_presets, architecture_of, best_device, build_model, profile
from ..errors import ConfigError, ExplorerError
from .measure import count_flops, saved_activation_bytes
from ..models.specs import FLOAT_BYTES
from ..units import format_bytes, format_count, format_macs

# The torchvision models the issue compares, in display order.
TORCHVISION_MODELS = ("densenet121", "densenet169", "densenet201", "densenet161", "googlenet", "inception_v3",
                      "resnet50", "resnext50_32x4d", "mobilenet_v2", "efficientnet_b0")

# How torchvision ships each model with its weights (``googlenet`` drops its aux heads on load;
# ``inception_v3`` keeps AuxLogits, which eval skips). init_weights=False: the values are irrelevant.
_BUILD_KWARGS = {"googlenet": {"aux_logits": False, "init_weights": False},
                 "inception_v3": {"init_weights": False}}

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

MAX_BATCH = 4096
MAX_INPUT = 1024
MIN_INPUT = {"inception_v3": 75, "googlenet": 15}  # torchvision's meta["min_size"]; others 32 here
_DEFAULT_MIN_INPUT = 32


# --- torchvision metadata (installed, no download) --------------------------------------------

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


# --- measured numbers for torchvision models ---------------------------------------------------

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
    return Path(os.environ.get("EXPLORER_CACHE_DIR") or Path.home() / ".cache" / "cnn-explorer")


def _cache_file() -> Path:
    import torchvision

    return cache_dir() / f"measured-torch{torch.__version__}-tv{torchvision.__version__}.json"


def _read_disk() -> dict:
    try:
        data = json.loads(_cache_file().read_text())
        return data if data.get("version") == _CACHE_VERSION else {}
    except (OSError, ValueError):
        return {}


def _write_disk(measured: Measured) -> None:
    path = _cache_file()
    try:
        data = _read_disk() or {"version": _CACHE_VERSION, "models": {}}
        data["models"][f"{measured.name}@{measured.input_size}"] = asdict(measured)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(path)
    except OSError:
        pass  # a read-only home only costs a re-measurement next time


def clear_cache(disk: bool = False) -> None:
    """Forget measured numbers (in-process; also on disk with ``disk=True``)."""
    _MEASURED.clear()
    if disk:
        try:
            _cache_file().unlink()
        except OSError:
            pass


def is_cached(name: str, input_size: int) -> bool:
    return (name, input_size) in _MEASURED or f"{name}@{input_size}" in _read_disk().get("models", {})


def _torchvision_model(name: str) -> nn.Module:
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
        raise ConfigError("input_size", f"{name} needs an integer input size from {low} to {MAX_INPUT} px, "
                          f"got {input_size!r}")


def measure_torchvision(name: str, input_size: int | None = None) -> Measured:
    """Params, MACs, training activation bytes and stages of a torchvision model; cached."""
    if name not in TORCHVISION_MODELS:
        raise ConfigError("model", f"unknown torchvision model {name!r}; choose from {', '.join(TORCHVISION_MODELS)}")
    if input_size is None:
        input_size = torchvision_info(name).input_size
    check_input_size(name, input_size)
    key = (name, input_size)
    with _MEASURE_LOCK:
        if key in _MEASURED:
            return _MEASURED[key]
        stored = _read_disk().get("models", {}).get(f"{name}@{input_size}")
        if stored is not None:
            stored["stages"] = tuple(tuple(s) for s in stored["stages"])
            _MEASURED[key] = Measured(**stored)
            return _MEASURED[key]
        with torch.device("meta"):
            model = _torchvision_model(name)
        params = sum(p.numel() for p in model.parameters())
        macs = count_flops(model, (1, 3, input_size, input_size)) // 2
        stages = _measure_stages(model, input_size)
        # Saved bytes need real storages. Batch 2 and 3 (batch 1 cannot train Inception v3's aux
        # head, whose BatchNorm sees a 1x1 map) give the per-image slope and the constant.
        cpu_model = _torchvision_model(name)
        small, large = (saved_activation_bytes(cpu_model, (b, 3, input_size, input_size)) for b in (2, 3))
        del cpu_model
        per_image = large - small
        measured = Measured(name, input_size, params, macs, per_image, small - 2 * per_image, stages)
        _MEASURED[key] = measured
        _write_disk(measured)
        return measured


# --- what is compared ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One thing to compare: a project config (preset or user build) or a measured torchvision model."""

    name: str
    kind: str  # "preset", "build" or "torchvision"
    config: object | None = None  # the project config for presets and builds

    @property
    def arch(self) -> str:
        return architecture_of(self.config).name if self.config is not None else _FAMILY.get(self.name, self.name)

    @property
    def native_input_size(self) -> int:
        if self.config is not None:
            return int(self.config.input_size)
        return torchvision_info(self.name).input_size


def config_from_build(build: dict):
    """Rebuild a config from the session's ``{"arch": ..., "config": {...}}`` shape."""
    try:
        arch = ARCHITECTURES[build["arch"]]
    except (KeyError, TypeError):
        raise ConfigError("comparison_builds", f"unknown architecture in build {build!r}") from None
    return arch.config_type.from_dict(dict(build["config"]))


def available_models(builds: dict | None = None) -> list[str]:
    """Every name that can be compared: torchvision models, then project presets, then builds."""
    names = list(TORCHVISION_MODELS)
    names += [n for n in all_presets() if n not in names]
    names += [n for n in (builds or {}) if n not in names]
    return names


def resolve_entry(name: str, builds: dict | None = None) -> Entry:
    """User builds win over presets, presets (analytic) over measuring torchvision."""
    builds = builds or {}
    if name in builds:
        return Entry(name, "build", config_from_build(builds[name]))
    presets = all_presets()
    if name in presets:
        return Entry(name, "preset", presets[name][1])
    if name in TORCHVISION_MODELS:
        return Entry(name, "torchvision")
    raise ConfigError("models", f"unknown model {name!r}; choose from {', '.join(available_models(builds))}")


# --- the table rows ----------------------------------------------------------------------------

@dataclass
class ComparisonRow:
    name: str
    source: str  # "analytic" (the project's profile) or "measured" (torchvision, traced/run once)
    arch: str
    key_idea: str
    input_size: int
    native_input_size: int
    batch_size: int  # for activation_bytes
    params: int
    macs: int
    flops: int
    param_bytes: int
    activation_bytes: int  # training activations autograd saves at batch_size
    top1: float | None = None  # ImageNet-1K, torchvision's DEFAULT weights
    top5: float | None = None
    weights: str | None = None  # torchvision weights tag
    weights_file_mb: float | None = None
    stages: tuple = field(default=(), repr=False)  # (name, out channels, height) per stage
    latency_ms: float | None = None  # median forward time at batch_size, when measured

    def to_json(self) -> dict:
        """The CLI's JSON shape (``null`` where unknown)."""
        return {"name": self.name, "params": self.params, "macs": self.macs, "flops": self.flops,
                "param_bytes": self.param_bytes, "activation_bytes": self.activation_bytes,
                "input_size": self.input_size, "top1": self.top1, "top5": self.top5,
                "latency_ms": self.latency_ms}


TABLE_COLUMNS = ["name", "source", "arch", "input_size", "params", "macs", "flops", "param_bytes",
                 "activation_bytes", "batch_size", "top1", "top5", "weights", "weights_file_mb", "latency_ms",
                 "key_idea"]

# Which direction is better, for marking the best value of a column.
BETTER = {"params": min, "macs": min, "flops": min, "param_bytes": min, "activation_bytes": min,
          "top1": max, "top5": max, "weights_file_mb": min, "latency_ms": min}


def _accuracy_applies(entry: Entry, info: TorchvisionInfo | None, params: int) -> bool:
    """Published accuracy belongs to a project preset only when it *is* the torchvision model."""
    return info is not None and (entry.kind == "torchvision" or (entry.kind == "preset" and params == info.num_params))


def comparison_row(entry: Entry, batch_size: int = 1, input_size: int | None = None) -> ComparisonRow:
    """One row; ``input_size=None`` means the model's native input size."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_BATCH:
        raise ConfigError("batch_size", f"must be an integer from 1 to {MAX_BATCH}, got {batch_size!r}")
    native = entry.native_input_size
    size = native if input_size is None else input_size
    info = torchvision_info(entry.name)
    if entry.config is not None:
        config = entry.config if size == native else entry.config.replace(input_size=size)
        result = profile(config, batch_size=batch_size)  # MACs are per image, activations per batch
        params, macs, activation = result.params, result.macs, result.activation_bytes
        stages = tuple((b.name, b.out_channels, b.height) for b in result.blocks if b.kind not in ("head",))
        source = "analytic"
    else:
        measured = measure_torchvision(entry.name, size)
        params, macs, activation = measured.params, measured.macs, measured.activation_bytes(batch_size)
        stages, source = measured.stages, "measured"
    accuracy = _accuracy_applies(entry, info, params)
    return ComparisonRow(
        entry.name, source, entry.arch, key_idea(entry.name, entry.arch if entry.config is not None else None),
        size, native, batch_size, params, macs, 2 * macs, params * FLOAT_BYTES, activation,
        top1=info.top1 if accuracy else None, top5=info.top5 if accuracy else None,
        weights=info.weights if accuracy else None, weights_file_mb=info.file_mb if accuracy else None,
        stages=stages)


def comparison_rows(names: list[str], batch_size: int = 1, input_size: int | None = None,
                    builds: dict | None = None,
                    progress: Callable[[int, int, str], None] | None = None) -> list[ComparisonRow]:
    """Rows for ``names``; ``progress(done, total, name)`` is called before each row."""
    if not names:
        raise ConfigError("models", "choose at least one model to compare")
    entries = [resolve_entry(name, builds) for name in dict.fromkeys(names)]
    rows = []
    for i, entry in enumerate(entries):
        if progress is not None:
            progress(i, len(entries), entry.name)
        rows.append(comparison_row(entry, batch_size, input_size))
    if progress is not None:
        progress(len(entries), len(entries), "")
    return rows


def uncached(names: list[str], input_size: int | None = None, builds: dict | None = None) -> list[str]:
    """The names whose numbers still need a measurement (slow) before the table can be shown."""
    result = []
    for name in dict.fromkeys(names):
        entry = resolve_entry(name, builds)
        if entry.kind == "torchvision":
            size = entry.native_input_size if input_size is None else input_size
            if not is_cached(name, size):
                result.append(name)
    return result


def activation_curve(name: str, batch_sizes: list[int], input_size: int | None = None,
                     builds: dict | None = None) -> list[int]:
    """Training activation bytes at each batch size (analytic, or the measured line)."""
    entry = resolve_entry(name, builds)
    return [comparison_row(entry, b, input_size).activation_bytes for b in batch_sizes]


def best_values(rows: list[ComparisonRow]) -> dict[str, float]:
    """The best value of each comparable column (min or max, see ``BETTER``), over known values."""
    best = {}
    for column, pick in BETTER.items():
        values = [getattr(r, column) for r in rows if getattr(r, column) is not None]
        if values:
            best[column] = pick(values)
    return best


def table_records(rows: list[ComparisonRow]) -> list[dict]:
    return [{c: getattr(r, c) for c in TABLE_COLUMNS} for r in rows]


def rows_csv(rows: list[ComparisonRow]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=TABLE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in table_records(rows):
        writer.writerow({k: "" if v is None else v for k, v in record.items()})
    return buffer.getvalue()


# --- measured latency --------------------------------------------------------------------------

@dataclass(frozen=True)
class Latency:
    name: str
    batch_size: int
    input_size: int
    device: str
    threads: int
    times_ms: tuple[float, ...]  # one entry per timed run, after the warm-up

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def min_ms(self) -> float:
        return min(self.times_ms)

    @property
    def max_ms(self) -> float:
        return max(self.times_ms)

    @property
    def images_per_s(self) -> float:
        return 1000.0 * self.batch_size / self.median_ms

    @property
    def label(self) -> str:
        return f"{self.device}, {self.threads} threads"


def latency_key(name: str, batch_size: int, input_size: int, device: str | None = None) -> tuple:
    """What a latency depends on: cache results under this key (model, batch, size, device, threads)."""
    return (name, batch_size, input_size, str(device or best_device()), torch.get_num_threads())


def _live_model(entry: Entry, input_size: int, device: torch.device) -> nn.Module:
    if entry.config is not None:
        config = entry.config if input_size == entry.config.input_size else entry.config.replace(input_size=input_size)
        try:
            return build_model(config, device)
        except (ExplorerError, NotImplementedError, TypeError):
            if entry.kind != "preset" or entry.name not in TORCHVISION_MODELS:
                raise ConfigError("model", f"{entry.name} is profile-only: it cannot be run to time it") from None
            # A profile-only preset of a torchvision model (Inception v3): time torchvision's.
    with torch.device(device):
        return _torchvision_model(entry.name)


def measure_latency(entry: Entry, batch_size: int = 1, input_size: int | None = None,
                    device: str | torch.device | None = None, warmup: int = 2, repeats: int = 7,
                    progress: Callable[[int, int], None] | None = None) -> Latency:
    """Forward-pass time in eval mode without autograd: ``warmup`` untimed runs, then the
    median of ``repeats`` timed ones (CUDA is synchronised around each run)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= 256:
        raise ConfigError("batch_size", f"latency batch must be an integer from 1 to 256, got {batch_size!r}")
    if not 1 <= repeats <= 100 or not 0 <= warmup <= 20:
        raise ConfigError("repeats", "repeats must be 1 to 100 and warm-up 0 to 20")
    device = torch.device(device) if device is not None else best_device()
    size = entry.native_input_size if input_size is None else input_size
    if entry.config is None:
        check_input_size(entry.name, size)
    model = _live_model(entry, size, device).eval()
    x = torch.randn(batch_size, 3, size, size, device=device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times = []
    with torch.inference_mode():
        for i in range(warmup + repeats):
            sync()
            start = time.perf_counter()
            model(x)
            sync()
            if i >= warmup:
                times.append(1000.0 * (time.perf_counter() - start))
            if progress is not None:
                progress(i + 1, warmup + repeats)
    return Latency(entry.name, batch_size, size, str(device), torch.get_num_threads(), tuple(times))


def with_latency(rows: list[ComparisonRow], latencies: dict, batch_size: int | None = None) -> list[ComparisonRow]:
    """Fill ``latency_ms`` from latencies keyed by ``latency_key``, at ``batch_size`` (default:
    each row's own batch)."""
    for row in rows:
        found = latencies.get(latency_key(row.name, batch_size or row.batch_size, row.input_size))
        row.latency_ms = found.median_ms if found is not None else None
    return rows


# --- "which to choose": trade-offs stated from the numbers ---------------------------------------

def _ratio(a: float, b: float) -> str:
    r = a / b
    if r < 1:
        return f"about {_fraction_words(r)}" if _fraction_words(r) else f"{r:.2f}x"
    return f"{r:.1f}x"


def _fraction_words(r: float) -> str | None:
    for value, words in ((1 / 4, "a quarter"), (1 / 3, "a third"), (1 / 2, "half"), (2 / 3, "two thirds")):
        if abs(r - value) <= 0.04:
            return words
    return None


def tradeoffs(rows: list[ComparisonRow], latencies: dict | None = None, latency_batch: int = 1,
              limit: int = 8) -> list[str]:
    """Statements the numbers support: the leader in each column, then pairs where a model is much
    smaller than another yet costs more in memory or time (or the reverse)."""
    if not rows:
        return []
    latencies = latencies or {}
    found = {r.name: latencies.get(latency_key(r.name, latency_batch, r.input_size)) for r in rows}
    found = {k: v for k, v in found.items() if v is not None}
    lat = {k: v.median_ms for k, v in found.items()}
    b = rows[0].batch_size
    lines = []

    def leader(column, pick, text):
        known = [r for r in rows if getattr(r, column) is not None]
        if len(known) >= 2:
            best = pick(known, key=lambda r: getattr(r, column))
            lines.append(text(best))

    leader("top1", max, lambda r: f"Most accurate: {r.name} ({r.top1:.1f} % ImageNet top-1).")
    leader("params", min, lambda r: f"Fewest parameters: {r.name} ({format_count(r.params)}).")
    leader("macs", min, lambda r: f"Least compute: {r.name} ({format_macs(r.macs)} per image).")
    leader("activation_bytes", min, lambda r: f"Least training activation memory at batch {b}: {r.name} "
                                               f"({format_bytes(r.activation_bytes)}).")
    if len(lat) >= 2:
        fastest = min(lat, key=lat.get)
        lines.append(f"Fastest forward at batch {latency_batch}: {fastest} ({lat[fastest]:.1f} ms, "
                     f"{1000 * latency_batch / lat[fastest]:.0f} images/s).")
    scored = [r for r in rows if r.top1 is not None and r.macs > 0]
    if len(scored) >= 2:
        front = [r.name for r in scored if not any(
            o.top1 >= r.top1 and o.macs <= r.macs and (o.top1 > r.top1 or o.macs < r.macs) for o in scored)]
        lines.append(f"Best accuracy for their compute (no other model is both more accurate and cheaper): "
                     f"{', '.join(front)}.")

    pairs = []
    for small, big in itertools.permutations(rows, 2):
        if small.params * 1.5 > big.params:
            continue
        costs = []
        if small.activation_bytes > 1.1 * big.activation_bytes:
            costs.append(f"{_ratio(small.activation_bytes, big.activation_bytes)} its training activation "
                         f"memory ({format_bytes(small.activation_bytes)} vs {format_bytes(big.activation_bytes)} "
                         f"at batch {b})")
        if small.macs > 1.1 * big.macs:
            costs.append(f"{_ratio(small.macs, big.macs)} its MACs")
        if small.name in lat and big.name in lat and lat[small.name] > 1.1 * lat[big.name]:
            costs.append(f"a {lat[small.name] / lat[big.name]:.1f}x slower forward on "
                         f"{found[small.name].device} "
                         f"({lat[small.name]:.1f} vs {lat[big.name]:.1f} ms at batch {latency_batch})")
        if small.top1 is not None and big.top1 is not None and small.top1 < big.top1 - 0.5:
            costs.append(f"{big.top1 - small.top1:.1f} points lower top-1")
        if costs:
            text = (f"{small.name} has {_ratio(small.params, big.params)} of {big.name}'s parameters "
                    f"({format_count(small.params)} vs {format_count(big.params)}) but " + ", ".join(costs) + ".")
            pairs.append((len(costs), big.params / small.params, text))
    pairs.sort(key=lambda p: (-p[0], -p[1]))
    lines += [text for *_, text in pairs[: max(0, limit - len(lines))]]
    return lines
