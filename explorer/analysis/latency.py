"""Measured forward latency of the compared models."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from ..models.registry import best_device, build_model
from ..errors import ConfigError, ExplorerError
from .compare import ComparisonRow, Entry
from .reference import TORCHVISION_MODELS
from .torchvision_costs import _torchvision_model, check_input_size

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
