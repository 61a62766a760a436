"""Job functions for the job tests; module-level so that pool and Ray workers can import them."""

from __future__ import annotations

import os
import time

from explorer.errors import ExplorerError
from explorer.jobs import report


def pid() -> int:
    return os.getpid()


def sleeper(seconds: float, steps: int = 10) -> int:
    """Sleeps in steps, reporting progress with its worker's pid as the text."""
    for step in range(steps):
        report(step / steps, str(os.getpid()))
        time.sleep(seconds / steps)
    report(1.0, str(os.getpid()))
    return os.getpid()


def allocate(nbytes: int) -> int:
    """Fills nbytes of memory (every page touched), returns their sum's check value."""
    block = b"\x01" * nbytes
    return block.count(1) if nbytes < 2**20 else len(block)


def burn_cpu(seconds: float) -> float:
    end = time.process_time() + seconds
    x = 0
    while time.process_time() < end:
        x += 1
    return float(x)


def refuse(message: str) -> None:
    raise ExplorerError(message)


def broken() -> None:
    return 1 / 0


def stoppable(seconds: float) -> dict:
    """Counts steps until its user presses Stop (``Job.stop``), reporting the count so far and
    the last five steps as its payload; returns what it counted."""
    from explorer.jobs import stop_requested

    steps, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        if stop_requested():
            return {"steps": steps, "stopped": True}
        steps += 1
        report(min(steps / 1000, 0.99), str(os.getpid()), {"steps": steps, "last": list(range(steps))[-5:]})
        time.sleep(0.02)
    return {"steps": steps, "stopped": False}
