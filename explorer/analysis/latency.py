"""Measured forward latency of the compared models, made to be trusted on a shared machine.

- Memory first: every request is estimated on a meta copy and refused before anything is
  allocated when it cannot fit (one line saying what to reduce).
- Warm-up runs, then *interleaved rounds* (A B C A B C ...): drift on a busy machine (another
  user's job, a CPU clocking down) hits every model alike instead of whichever ran last.
- The median of the rounds with its spread (the interquartile range); a spread wider than
  ``WIDE_SPREAD`` of the median is flagged, and fewer than ``MIN_ROUNDS`` rounds give no spread.
- A time budget, a progress callback and a stop flag checked before every forward, so a page can
  show a progress bar and a Cancel button, and a worker-process job layer can run it unchanged
  (plain data in, plain data out, no UI).
- ``torch.inference_mode`` in eval mode; the device and its thread count go with every result.
"""

from __future__ import annotations

import functools
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from ..i18n import ENGLISH, N_, Message
from ..errors import BudgetError, ConfigError, ExplorerError
from ..models.registry import best_device, build_model
from ..models.specs import FLOAT_BYTES
from ..units import format_bytes
from .compare import ComparisonRow, Entry
from .reference import TORCHVISION_MODELS
from .torchvision_costs import torchvision_model, check_input_size

MAX_LATENCY_BATCH = 256
DEFAULT_BUDGET_S = 25.0  # the default selection (ten models, two batches) finishes well under 30 s
WIDE_SPREAD = 0.25  # interquartile range above this share of the median: say the numbers are noisy
MIN_ROUNDS = 3  # fewer rounds have no meaningful spread: no speed advice from them
OFFERED_ROUNDS = (1, 50)  # the rounds a page offers for one measurement
# A forward holds a layer's input and output and, in concatenating or branching models, one more
# map of about the same size (DenseNet's concatenated block input): three of the largest map.
LIVE_MAPS = 3


@dataclass(frozen=True)
class Latency:
    name: str
    batch_size: int
    input_size: int
    device: str
    threads: int
    times_ms: tuple[float, ...]  # one entry per timed round, after the warm-up

    @property
    def rounds(self) -> int:
        return len(self.times_ms)

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
    def q1_ms(self) -> float:
        return self._quartiles()[0]

    @property
    def q3_ms(self) -> float:
        return self._quartiles()[1]

    def _quartiles(self) -> tuple[float, float]:
        if len(self.times_ms) < 2:
            return self.times_ms[0], self.times_ms[0]
        q1, _, q3 = statistics.quantiles(self.times_ms, n=4, method="inclusive")
        return q1, q3

    @property
    def spread(self) -> float:
        """The interquartile range as a share of the median."""
        return (self.q3_ms - self.q1_ms) / self.median_ms

    @property
    def enough_rounds(self) -> bool:
        return self.rounds >= MIN_ROUNDS

    @property
    def noisy(self) -> bool:
        """Too few rounds to know the spread, or a spread too wide to rank models by."""
        return not self.enough_rounds or self.spread > WIDE_SPREAD

    @property
    def images_per_s(self) -> float:
        return 1000.0 * self.batch_size / self.median_ms

    @property
    def label(self) -> str:
        return where_measured(self.device, self.threads)


def where_measured(device: str, threads: int, _=ENGLISH) -> str:
    """'cpu, 1 thread' / 'cpu, 2 threads' in the reader's language."""
    return _.ngettext("{device}, {n} thread", "{device}, {n} threads", threads).format(device=device, n=threads)


def clearly_slower(slow: Latency, fast: Latency) -> bool:
    """True only when neither is ``noisy`` (enough rounds, a spread narrow enough to rank by) and
    their spreads (interquartile ranges) do not overlap with ``slow`` above: the only case in which
    advice may call one model slower. The one rule for speed advice: a result the page or the CLI
    flags as a wide spread ("no speed advice is drawn from these") is never ranked."""
    return not slow.noisy and not fast.noisy and slow.q1_ms > fast.q3_ms


def latency_key(name: str, batch_size: int, input_size: int, device: str | None = None) -> tuple:
    """What a latency depends on: cache results under this key (model, batch, size, device, threads)."""
    return (name, batch_size, input_size, str(device or best_device()), torch.get_num_threads())


@dataclass
class LatencyRun:
    """What one measurement produced, and why it ended where it did."""

    results: list[Latency]
    rounds: int  # complete rounds timed (a round cut by Cancel is dropped, so all models stay alike)
    planned_rounds: int
    warmup: int
    device: str
    threads: int
    elapsed_s: float
    stopped: str | None = None  # None (all rounds ran), "cancelled" or "budget"
    budget_s: float = DEFAULT_BUDGET_S
    noisy: list[str] = field(default_factory=list)  # "name @ batch" of results with a wide spread

    @property
    def summary(self) -> str:
        return run_summary(self)


def run_summary(run: LatencyRun, _=ENGLISH) -> str:
    """One line on how a run went: its rounds, warm-up, time, device and threads, and why it ended."""
    how = _.ngettext("{rounds} interleaved round", "{rounds} interleaved rounds", run.rounds).format(
        rounds=run.rounds) + " " + _.ngettext(
        "after {warmup} warm-up run each, in {seconds} s on {device} with {threads}",
        "after {warmup} warm-up runs each, in {seconds} s on {device} with {threads}", run.warmup).format(
        warmup=run.warmup, seconds=f"{run.elapsed_s:.1f}", device=run.device,
        threads=_.ngettext("{n} thread", "{n} threads", run.threads).format(n=run.threads))
    if run.rounds == 0 and run.stopped == "budget":
        return _("No round was timed: building and warming up the models took the whole {budget} s time budget "
                 "({seconds} s on {device}). Choose fewer or smaller models or batches, or raise the budget.").format(
            budget=f"{run.budget_s:.0f}", seconds=f"{run.elapsed_s:.1f}", device=run.device)
    if run.rounds == 0 and run.stopped == "cancelled":
        return _("Cancelled before any round was timed.")
    if run.stopped == "cancelled":
        return _("Cancelled after {how}.").format(how=how)
    if run.stopped == "budget":
        return _("Stopped by the {budget} s time budget after {how} (of {planned} planned); choose fewer models or "
                 "batches, or raise the budget.").format(budget=f"{run.budget_s:.0f}", how=how,
                                                         planned=run.planned_rounds)
    return _("Median of {how}.").format(how=how)


def _live_model(entry: Entry, input_size: int, device: torch.device) -> nn.Module:
    if entry.config is not None:
        config = entry.config if input_size == entry.config.input_size else entry.config.replace(input_size=input_size)
        try:
            return build_model(config, device)
        except (ExplorerError, NotImplementedError, TypeError):
            if entry.kind != "preset" or entry.name not in TORCHVISION_MODELS:
                raise ConfigError("model", N_("{name} is profile-only: it cannot be run to time it"), name=entry.name) from None
            # A profile-only preset of a torchvision model (Inception v3): time torchvision's.
    with torch.device(device):
        return torchvision_model(entry.name)


def largest_map_bytes(model: nn.Module, input_size: int) -> int:
    """Bytes of the largest tensor any module outputs for one image, traced on a meta copy."""
    largest = FLOAT_BYTES * 3 * input_size * input_size
    handles = []

    def hook(_module, _inputs, out):
        nonlocal largest
        for t in (out if isinstance(out, (tuple, list)) else (out,)):
            if isinstance(t, torch.Tensor):
                largest = max(largest, t[0].numel() * t.element_size())

    for module in model.modules():
        handles.append(module.register_forward_hook(hook))
    try:
        with torch.inference_mode():
            model.eval()(torch.empty(1, 3, input_size, input_size, device="meta"))
    finally:
        for handle in handles:
            handle.remove()
    return largest


def available_memory(device: torch.device) -> int:
    """Half of what the device has free now: room for the server and the other users."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0] // 2
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (AttributeError, ValueError, OSError):
        return 4 * 2**30


@functools.lru_cache(maxsize=256)
def latency_memory(entry: Entry, batch_size: int, input_size: int) -> tuple[int, int]:
    """(weights bytes, per-image bytes) a timed forward of ``entry`` needs, estimated on meta
    (remembered: a page estimates before every measurement, and entries are frozen)."""
    model = _live_model(entry, input_size, torch.device("meta"))
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    return weights, LIVE_MAPS * largest_map_bytes(model, input_size)


def latency_need(jobs: list[tuple[Entry, int, int]]) -> tuple[int, tuple]:
    """Bytes a measurement of ``jobs`` needs: all models' weights (they stay loaded while the
    rounds interleave) plus the largest forward's maps; and that worst (entry, batch, size,
    per-image bytes, all weights)."""
    weights, per_images, peak, worst = {}, {}, 0, None
    for entry, batch, size in jobs:
        if (entry.name, size) not in weights:  # one meta trace per model and size, whatever the batches
            weights[(entry.name, size)], per_images[(entry.name, size)] = latency_memory(entry, 1, size)
        per_image = per_images[(entry.name, size)]
        if per_image * batch >= peak:
            peak, worst = per_image * batch, (entry, batch, size, per_image)
    return sum(weights.values()) + peak, (*worst, sum(weights.values()))


def check_latency_memory(jobs: list[tuple[Entry, int, int]], limit: int) -> int:
    """Refuse, before allocating, what cannot fit (one line saying what to reduce); returns the
    bytes needed."""
    need, (entry, batch, size, per_image, weights) = latency_need(jobs)
    if need > limit:
        fits = (limit - weights) // per_image
        advice = (Message(N_("reduce the batch to {fits} or the input size"), fits=fits) if fits >= 1
                  else Message(N_("reduce the input size or choose fewer models")))
        raise BudgetError(N_("timing {name} at batch {batch} and {size} px needs about {need} of memory, over the "
                             "{limit} available: {advice}"), name=entry.name, batch=batch, size=size,
                          need=format_bytes(need), limit=format_bytes(limit), advice=advice)
    return need


def _check_request(jobs, warmup: int, rounds: int, budget_s: float) -> None:
    for _entry, batch, _size in jobs:
        if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_LATENCY_BATCH:
            raise ConfigError("batch_size", N_("latency batch must be an integer from 1 to {high}, got {value}"),
                              high=MAX_LATENCY_BATCH, value=repr(batch))
    if not 1 <= rounds <= 100 or not 0 <= warmup <= 20:
        raise ConfigError("repeats", N_("rounds must be 1 to 100 and warm-up 0 to 20"))
    if not 1 <= budget_s <= 600:
        raise ConfigError("budget", N_("the time budget must be 1 to 600 s, got {value}"), value=repr(budget_s))


def check_latency_request(requests: list[tuple[Entry, int, int | None]], device: torch.device,
                          warmup: int = 1, rounds: int = 7, budget_s: float = DEFAULT_BUDGET_S,
                          memory_limit: int | None = None) -> list[tuple[Entry, int, int]]:
    """Refuse a bad request with one line, before anything slow or large happens (cheap: meta
    copies only); returns the jobs with their input sizes resolved."""
    if not requests:
        raise ConfigError("models", N_("choose at least one model to time"))
    jobs = [(entry, batch, entry.native_input_size if size is None else size) for entry, batch, size in requests]
    _check_request(jobs, warmup, rounds, budget_s)
    for entry, _batch, size in jobs:
        if entry.config is None:
            check_input_size(entry.name, size)
    check_latency_memory(jobs, available_memory(device) if memory_limit is None else memory_limit)
    return jobs


class _Pace:
    """Seconds per unit of size of one kind of step, the slowest seen so far: what the next step of
    that kind is predicted to take (nothing before the first)."""

    def __init__(self) -> None:
        self.per_unit = 0.0

    def predict(self, units: int) -> float:
        return self.per_unit * units

    def record(self, seconds: float, units: int) -> None:
        self.per_unit = max(self.per_unit, seconds / max(units, 1))


def measure_latencies(requests: list[tuple[Entry, int, int | None]], device: str | torch.device | None = None,
                      warmup: int = 1, rounds: int = 7, budget_s: float = DEFAULT_BUDGET_S,
                      memory_limit: int | None = None,
                      progress: Callable[[int, int, str], None] | None = None,
                      should_stop: Callable[[], bool] | None = None,
                      clock: Callable[[], float] = time.perf_counter) -> LatencyRun:
    """Time forwards of every ``(entry, batch, input_size)`` in interleaved rounds.

    ``progress(done, total, text)`` is called before every forward; ``should_stop()`` is checked
    before every forward (Cancel). The budget bounds the whole job: no model build, warm-up forward
    or round starts that is predicted to end past ``budget_s`` (a build or warm-up from the slowest
    of its kind so far per byte of what it handles, ``_Pace``; a round from the previous round, or
    half the cold warm-up), so the wait past it is a misprediction, not a queue of steps (issue #24:
    a 60 s budget ran 93 s and timed nothing). A round cut short (Cancel, budget) is dropped, so
    every model has the same number of rounds, taken in the same conditions.
    """
    start = clock()  # the budget covers everything the user waits for: checks, building, warm-up, rounds
    device = torch.device(device) if device is not None else best_device()
    total = len(requests) * (warmup + rounds)
    if progress is not None:
        progress(0, total, "estimating memory")
    jobs = check_latency_request(requests, device, warmup, rounds, budget_s, memory_limit)
    done, stopped, last = 0, None, [0.0] * len(jobs)  # last: each forward's seconds on ``clock``
    times: list[list[float]] = [[] for _ in jobs]

    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def step(text: str, predicted_s: float = 0.0) -> str | None:
        """Before every model build and forward: Cancel, then the budget, with the step's predicted
        time (a step that would end past it is not started)."""
        if should_stop is not None and should_stop():
            return "cancelled"
        if clock() - start + predicted_s > budget_s:
            return "budget"
        if progress is not None:
            progress(done, total, text)
        return None

    # A step's size: a build's weights; a forward's weights and maps (the memory estimate's figures).
    footprint = {(entry.name, size): latency_memory(entry, 1, size) for entry, _batch, size in jobs}
    builds, warmups = _Pace(), _Pace()
    models = {}
    for entry, _batch, size in jobs:
        if (entry.name, size) not in models:
            weights = footprint[(entry.name, size)][0]
            stopped = step(f"building {entry.name}", builds.predict(weights))
            if stopped:
                break
            began = clock()
            models[(entry.name, size)] = _live_model(entry, size, device).eval()
            builds.record(clock() - began, weights)
    inputs = [torch.randn(batch, 3, size, size, device=device) for _entry, batch, size in jobs] if not stopped else []

    def forward(i: int) -> float:
        entry, _batch, size = jobs[i]
        sync()
        t0 = time.perf_counter()
        models[(entry.name, size)](inputs[i])
        sync()
        return 1000.0 * (time.perf_counter() - t0)

    completed = 0
    with torch.inference_mode():
        for _ in range(warmup if stopped is None else 0):
            for i, (entry, batch, size) in enumerate(jobs):
                weights, per_image = footprint[(entry.name, size)]
                stopped = step(f"warming up {entry.name} at batch {batch}", warmups.predict(weights + per_image * batch))
                if stopped:
                    break
                began = clock()
                forward(i)
                last[i] = clock() - began
                warmups.record(last[i], weights + per_image * batch)
                done += 1
            if stopped:
                break
        for r in range(rounds if stopped is None else 0):
            # A cold warm-up run takes about twice a warm one; later rounds predict the next.
            if clock() - start + sum(last) * (1.0 if completed else 0.5) > budget_s:
                stopped = "budget"
                break
            this_round, took = [], []
            for i, (entry, batch, _size) in enumerate(jobs):
                stopped = step(f"round {r + 1} of {rounds}: {entry.name} at batch {batch}")
                if stopped:
                    break
                began = clock()
                this_round.append(forward(i))
                took.append(clock() - began)
                done += 1
            if stopped:
                break
            for i, ms in enumerate(this_round):
                times[i].append(ms)
            last, completed = took, completed + 1
    if progress is not None and stopped is None:
        progress(total, total, "done")
    label_device, threads = str(device), torch.get_num_threads()
    results = [Latency(entry.name, batch, size, label_device, threads, tuple(t))
               for (entry, batch, size), t in zip(jobs, times) if t]
    return LatencyRun(results, completed, rounds, warmup, label_device, threads, clock() - start, stopped, budget_s,
                      [f"{x.name} @ batch {x.batch_size}" for x in results if x.noisy])


def measure_latency(entry: Entry, batch_size: int = 1, input_size: int | None = None,
                    device: str | torch.device | None = None, warmup: int = 1, repeats: int = 7,
                    progress: Callable[[int, int, str], None] | None = None) -> Latency:
    """One model alone (the CLI's ``--repeats`` with no budget): ``measure_latencies`` of one job."""
    run = measure_latencies([(entry, batch_size, input_size)], device, warmup, repeats, budget_s=600,
                            progress=progress)
    return run.results[0]


def with_latency(rows: list[ComparisonRow], latencies: dict, batch_size: int | None = None) -> list[ComparisonRow]:
    """Fill ``latency_ms`` (median) and its spread from latencies keyed by ``latency_key``, at
    ``batch_size`` (default: each row's own batch)."""
    for row in rows:
        found = latencies.get(latency_key(row.name, batch_size or row.batch_size, row.input_size))
        row.latency_ms = found.median_ms if found is not None else None
        row.latency_q1_ms = found.q1_ms if found is not None else None
        row.latency_q3_ms = found.q3_ms if found is not None else None
    return rows
