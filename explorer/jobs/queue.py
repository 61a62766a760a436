"""Bounds on heavy work, shared by every session of one server process.

Model runs, explanations, latency measurements and traces go through ``HEAVY_WORK``: at most
``EXPLORER_HEAVY_SLOTS`` (default 2, one per core here) run at once; the others wait in line and
are told their place, so a class of students cannot start 30 forward passes at the same moment.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from ..errors import ExplorerError


class BusyError(ExplorerError):
    """Waited too long for a free slot."""


class WorkQueue:
    def __init__(self, slots: int, max_wait_s: float = 300.0) -> None:
        if slots < 1:
            raise ValueError("slots must be at least 1")
        self.slots = slots
        self.max_wait_s = max_wait_s
        self._free = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self._running = 0
        self._waiting = 0

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return self._waiting

    @contextmanager
    def slot(self, on_wait: Callable[[int], None] | None = None) -> Iterator[None]:
        """Hold one slot while the body runs; ``on_wait(place_in_line)`` is called if it must wait."""
        if not self._free.acquire(blocking=False):
            with self._lock:
                self._waiting += 1
                place = self._waiting
            try:
                if on_wait is not None:
                    on_wait(place)
                acquired = self._free.acquire(timeout=self.max_wait_s)
            finally:
                with self._lock:
                    self._waiting -= 1
            if not acquired:
                raise BusyError(f"the server is busy (all {self.slots} slots taken for {self.max_wait_s:.0f} s); "
                                f"try again in a minute")
        with self._lock:
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
            self._free.release()


HEAVY_WORK = WorkQueue(int(os.environ.get("EXPLORER_HEAVY_SLOTS", "2")))
