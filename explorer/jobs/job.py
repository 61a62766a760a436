"""A submitted job as its caller sees it: progress, place in line, result, cancel."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from .limits import Estimate, JobCancelled, Limits

_ids = itertools.count(1)


@dataclass(frozen=True)
class Progress:
    state: str  # "queued", "running", "done", "failed", "cancelled"
    fraction: float  # 0-1, as the job last reported
    text: str
    payload: Any = None  # what the job last reported besides (e.g. a training's history so far)


class Job:
    """Handle on one job. Thread-safe; its back end fills it in."""

    def __init__(self, fn: Callable | str, args: tuple, kwargs: dict, cost: Estimate, limits: Limits,
                 session: str | None, backend) -> None:
        self.id = next(_ids)
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.cost, self.limits, self.session = cost, limits, session
        self.submitted = time.monotonic()
        self.started: float | None = None
        self._backend = backend
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._state, self._fraction, self._text, self._payload = "queued", 0.0, "", None
        self._stop_requested = False
        self._value: Any = None
        self._error: BaseException | None = None

    # --- what callers use ----------------------------------------------------------------------
    def progress(self) -> Progress:
        with self._lock:
            return Progress(self._state, self._fraction, self._text, self._payload)

    def position(self) -> int:
        """1 for the next job to start, 2 behind it...; 0 once it runs or is over."""
        return self._backend.position(self) if self._state == "queued" else 0

    def wait_estimate(self) -> float:
        """Seconds until it is likely to start (0 once running)."""
        return self._backend.wait_estimate(self) if self._state == "queued" else 0.0

    def done(self) -> bool:
        return self._done.is_set()

    def result(self, timeout: float | None = None) -> Any:
        """The job's value; raises its one-line error, or ``TimeoutError`` if not over in time."""
        if not self._done.wait(timeout):
            raise TimeoutError(f"job {self.id} is still {self._state}")
        if self._error is not None:
            raise self._error
        return self._value

    def cancel(self) -> None:
        """Stop it (its worker is killed and replaced if it was running); no-op once over."""
        if not self.done():
            self._backend.cancel(self)

    def stop(self) -> None:
        """Ask it to finish early and return what it has so far (a training keeps the model trained
        up to now): the job sees ``jobs.stop_requested()`` turn true. Unlike ``cancel`` nothing is
        killed; a job that never asks simply runs to its end. A job still queued is cancelled
        (it has nothing to keep)."""
        if self.done():
            return
        with self._lock:
            self._stop_requested = True
            queued = self._state == "queued"
        if queued:
            self._backend.cancel(self)
        else:
            self._backend.stop(self)

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    # --- what back ends use --------------------------------------------------------------------
    def _start(self) -> None:
        with self._lock:
            self.started = time.monotonic()
            self._state = "running"

    def _report(self, fraction: float, text: str, payload: Any = None) -> None:
        with self._lock:
            if self._state == "running":
                self._fraction, self._text = fraction, text
                if payload is not None:
                    self._payload = payload

    def _finish(self, value: Any = None, error: BaseException | None = None) -> bool:
        """Settle the job once; later calls (a kill racing a result) are ignored."""
        with self._lock:
            if self._done.is_set():
                return False
            self._value, self._error = value, error
            self._state = ("done" if error is None else
                           "cancelled" if isinstance(error, JobCancelled) else "failed")
            if error is None:
                self._fraction = 1.0
        self._done.set()
        return True

    def __repr__(self) -> str:
        name = self.fn if isinstance(self.fn, str) else getattr(self.fn, "__qualname__", repr(self.fn))
        return f"Job({self.id}, {name}, {self._state})"


def wait_until_free(free_in: list[float], ahead: list[float]) -> float:
    """Seconds until a slot is free for a job behind ``ahead`` (estimated seconds of the queued
    jobs before it), given when each slot frees up: a greedy schedule, as the queue runs."""
    free = list(free_in) or [0.0]
    heapq.heapify(free)
    for seconds in ahead:
        heapq.heappush(free, heapq.heappop(free) + seconds)
    return free[0]
