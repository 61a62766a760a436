"""What a job may use: its estimated cost, the limits derived from it, and the errors users see.

A caller estimates a job's cost before anything is allocated (``Estimate``); ``limits_for`` turns
it into the memory and time the job may use, or refuses it with one line that says what to reduce.
The limits are generous multiples of the estimate (estimates are rough; a limit is a fuse, not a
budget) and are capped by what one worker may take on this server.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import environment
from ..errors import ExplorerError
from ..i18n import N_, Message

GiB = 2**30
MiB = 2**20


def default_workers() -> int:
    return environment.workers()


# One job may take at most this much memory beyond its worker's own (imports, cached models):
# the machine's memory shared by the workers, keeping a quarter for the server and the system.
MAX_JOB_BYTES = environment.job_max_bytes()
MAX_JOB_SECONDS = environment.job_max_seconds()
# limit = estimate x MEMORY_FACTOR + HEADROOM: estimates leave out allocator slack; HEADROOM covers
# Python objects, torch's per-op buffers and thread stacks. Both can be set (a small machine, or a
# test that makes jobs go over their limit on purpose: EXPLORER_JOB_MEMORY_FACTOR=0 gives every
# job the headroom alone).
MEMORY_FACTOR = environment.job_memory_factor()
HEADROOM = environment.job_headroom_bytes()
TIME_FACTOR = 4.0  # CPU-time limit = estimate x this + MIN_SECONDS: estimates come from other machines
BOUNDED_FACTOR = 1.25  # the same for a job that keeps its own time budget: slack for its last step
MIN_SECONDS = 10.0
# Wall-clock limit = CPU-time limit x WALL_FACTOR + WALL_EXTRA: waiting for a shared core is not the
# job's fault, and the kernel counts CPU time in whole seconds.
WALL_FACTOR = 2.0
WALL_EXTRA = 3.0


class JobError(ExplorerError):
    """A job that could not give its result; the message is one line for the user."""


class JobRefused(JobError):
    """Refused before it started: it cannot fit the server's limits."""


class JobLimitError(JobError):
    """Stopped because it went over its memory or time limit (its worker was replaced)."""


class JobCancelled(JobError):
    """Cancelled by its user, or because its session went away."""


class JobLost(JobError):
    """Its worker stopped during the job (killed from outside, crashed)."""


@dataclass(frozen=True)
class Estimate:
    """A job's expected cost: peak bytes it allocates and seconds it runs on one core.

    ``reduce`` names what the user can lower when the job is refused ("the batch size"; an
    ``i18n.Message`` to have it translated with the refusal).
    ``bounded``: the job stops itself within ``seconds`` (it polls a time budget, as training
    does), so its limit adds slack for its last step rather than a multiple. ``threads``: torch
    threads the job may use (0: its worker's share of the cores)."""

    bytes: int
    seconds: float
    gpu: bool = False
    reduce: str = "the input size"
    bounded: bool = False
    threads: int = 0


@dataclass(frozen=True)
class Limits:
    memory_bytes: int  # beyond the worker's own memory when the job starts
    seconds: float  # wall clock, from the job's start (catches jobs stuck waiting)
    cpu_seconds: float  # CPU time of the worker process (all its threads), from the job's start
    gpu: bool = False
    threads: int = 0  # torch threads during the job (0: leave the worker's setting)


def _reducible(text) -> Message:
    """What to reduce (an ``N_``-marked text) as a message, translated with the refusal."""
    return text if hasattr(text, "translated") else Message(text)


def limits_for(cost: Estimate, threads: int = 1, max_bytes: int | None = None,
               max_seconds: float | None = None, min_seconds: float = MIN_SECONDS) -> Limits:
    """The limits of a job of this cost, or ``JobRefused`` naming what to reduce."""
    from ..units import format_bytes

    max_bytes = MAX_JOB_BYTES if max_bytes is None else max_bytes
    max_seconds = MAX_JOB_SECONDS if max_seconds is None else max_seconds
    if cost.bytes < 0 or cost.seconds < 0:
        raise ValueError("a cost estimate cannot be negative")
    memory = int(cost.bytes * MEMORY_FACTOR) + HEADROOM
    if memory > max_bytes:
        most = format_bytes(max(max_bytes - HEADROOM, 0) / max(MEMORY_FACTOR, 0.01))
        raise JobRefused(N_("this needs about {needed} of memory; one job may use at most {most} here: reduce {what}"),
                         needed=format_bytes(cost.bytes), most=most, what=_reducible(cost.reduce))
    factor = BOUNDED_FACTOR if cost.bounded else TIME_FACTOR
    seconds = cost.seconds * factor + min_seconds
    if seconds > max_seconds:
        raise JobRefused(N_("this would take about {seconds} s; one job may run at most {most} s here: reduce {what}"),
                         seconds=f"{cost.seconds:.0f}", most=f"{max((max_seconds - min_seconds) / factor, 0):.0f}",
                         what=_reducible(cost.reduce))
    threads = max(1, cost.threads or threads)
    return Limits(memory_bytes=memory, seconds=seconds * WALL_FACTOR + WALL_EXTRA,
                  cpu_seconds=seconds * threads, gpu=cost.gpu, threads=cost.threads)


def longest_bounded_seconds(max_seconds: float | None = None, min_seconds: float = MIN_SECONDS) -> float:
    """The longest time budget a ``bounded`` job may ask for on this server."""
    max_seconds = MAX_JOB_SECONDS if max_seconds is None else max_seconds
    return max((max_seconds - min_seconds) / BOUNDED_FACTOR, 0.0)
