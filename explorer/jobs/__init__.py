"""Bounds on heavy work shared by every user of one server: the job layer.

It is infrastructure only and knows no model: the work and its cost estimates live with their
domain (``vision.work``, ``analysis.work``, ``training.work``). Heavy work runs as a job outside
the server process::

    from explorer.vision import work

    job = submit(work.explain_pretrained, image, "densenet121", "gradcam", None, None,
                 cost=work.explain_cost(image.size, "gradcam"), session=sid)
    job.position(), job.wait_estimate(), job.progress()   # for the page while it waits
    value = job.result(timeout)                           # or the job's one-line error
    job.stop()                                            # finish early, keeping the work so far
    job.cancel(); cancel_session(sid)

Each job gets memory and time limits from its estimated cost (``limits.limits_for``; refused with
one line when it cannot fit) and runs in a worker process that keeps loaded models between jobs
(``worker.cached_model``); a job calls ``report(fraction, text, payload)`` to show progress
(``payload``: a small picklable value such as a training's history so far, read back as
``job.progress().payload``). A job that can return its work so far polls ``stop_requested()``,
which ``job.stop()`` turns true (the page's Stop; unlike Cancel it kills nothing). Over its
limits or cancelled, its worker is killed and replaced; the other jobs run on.

The pages use ``pages.ui.jobs.run_job``, which also cancels a job when the script run that asked for it
is interrupted (Cancel, another widget, the session closing); ``sessions.watch_sessions`` cancels
the jobs of sessions the server no longer has, whatever they were doing.

Where jobs run: by default a pool of local worker processes started on first use (``pool``);
with ``EXPLORER_RAY_ADDRESS`` set, tasks on that Ray cluster (``ray_backend``).
"""

from __future__ import annotations

import atexit
import threading
from typing import Any, Callable

from .. import environment
from .job import Job, Progress
from .limits import (Estimate, GiB, JobCancelled, JobError, JobLimitError, JobLost, JobRefused, Limits, MiB,
                     limits_for)
from .worker import cached_model, report, stop_requested

__all__ = ["Estimate", "GiB", "Job", "JobCancelled", "JobError", "JobLimitError", "JobLost", "JobRefused",
           "Limits", "MiB", "Progress", "cached_model", "cancel_session", "limits_for", "pending_sessions", "report",
           "runner", "set_runner", "stop_requested", "submit"]

_runner = None
_runner_lock = threading.Lock()


def runner():
    """The process-wide back end, started on first use."""
    global _runner
    with _runner_lock:
        if _runner is None:
            address = environment.ray_address()
            if address:
                from .ray_backend import RayRunner

                _runner = RayRunner(address)
            else:
                from .pool import LocalPool

                _runner = LocalPool()
            atexit.register(_runner.shutdown)
        return _runner


def set_runner(new) -> Any:
    """Replace the process-wide back end (tests); returns the old one, which the caller shuts down."""
    global _runner
    with _runner_lock:
        old, _runner = _runner, new
    return old


_pending: dict[int, Job] = {}  # jobs not yet over, by id (for ``pending_sessions``)
_pending_lock = threading.Lock()


def submit(fn: Callable | str, *args, cost: Estimate, session: str | None = None, **kwargs) -> Job:
    """Queue ``fn(*args, **kwargs)`` as a job; ``fn`` is a module-level function or "module:name"."""
    job = runner().submit(fn, args, kwargs, cost, session)
    if session is not None:
        with _pending_lock:
            for done in [i for i, j in _pending.items() if j.done()]:
                del _pending[done]
            _pending[job.id] = job
    return job


def pending_sessions() -> set[str]:
    """The sessions that have a job queued or running (``sessions.sweep`` checks them)."""
    with _pending_lock:
        for done in [i for i, j in _pending.items() if j.done()]:
            del _pending[done]
        return {j.session for j in _pending.values()}


def cancel_session(session: str) -> int:
    """Cancel every queued or running job of a session (it went away); returns how many."""
    return runner().cancel_session(session) if _runner is not None else 0
