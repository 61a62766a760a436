"""Polling: wait until a condition holds, or fail the test after a time."""

from __future__ import annotations

import time


def wait_for(predicate, seconds: float = 120.0, step: float = 0.05):
    """``predicate()``'s first true value, asked every ``step`` seconds; AssertionError after ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {seconds} s")
