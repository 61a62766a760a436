"""What runs inside a worker process (a pool worker or a Ray worker): one job at a time, under
limits set on the process itself, with a cache of loaded models that outlives the job.

Limits set here are the fuse that cannot be late: ``RLIMIT_AS`` makes an allocation beyond the
job's memory fail inside the job, and ``RLIMIT_CPU`` makes the kernel stop the process when its
CPU time runs out, even in the middle of a C decoder that never returns to Python. The pool (or
the Ray driver) adds a wall-clock watchdog and, for the pool, a resident-memory check.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import math
import os
import pickle
import resource
import time
from typing import Any, Callable

from .limits import JobError, JobLimitError, Limits

_reporter: Callable[[float, str, Any], None] | None = None
_stop_check: Callable[[], bool] | None = None
_models: dict[Any, tuple[Any, int]] = {}  # key -> (model, resident bytes it added), least recently used first
_models_bytes = 0  # resident bytes the cached models added (they are not a leak)
MAX_MODELS = 4  # a worker keeps this many (users' own weights are models too: the cache must not grow)


def report(fraction: float, text: str = "", payload: Any = None) -> None:
    """Tell the job's user how far it got (0-1), and optionally a small picklable ``payload``
    (a training's history so far: each report carries the whole of it, since reports may be
    dropped when they come faster than 20 a second); does nothing outside a job."""
    if _reporter is not None:
        _reporter(min(max(float(fraction), 0.0), 1.0), str(text), payload)


def stop_requested() -> bool:
    """Whether the job's user asked it to finish early and return what it has (``Job.stop``,
    the page's Stop button); a job that can keep its work so far polls this. False outside a job."""
    return _stop_check is not None and _stop_check()


def cached_model(key: Any, make: Callable[[], Any]) -> Any:
    """A model (or anything costly to build) kept by this worker for its next jobs."""
    global _models_bytes
    if key in _models:
        _models[key] = _models.pop(key)  # now the most recently used
        return _models[key][0]
    while len(_models) >= MAX_MODELS:
        _, added = _models.pop(next(iter(_models)))  # the value is (model, bytes)
        _models_bytes -= added
    before = resident_bytes()
    model = make()
    added = max(resident_bytes() - before, 0)
    _models[key] = (model, added)
    _models_bytes += added
    return model


def resident_bytes(pid: int | None = None) -> int:
    """Resident set size of a process (this one by default), from /proc."""
    with open(f"/proc/{pid or 'self'}/statm") as file:
        return int(file.read().split()[1]) * resource.getpagesize()


def _mapped_bytes() -> int:
    with open("/proc/self/statm") as file:
        return int(file.read().split()[0]) * resource.getpagesize()


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def resolve(fn: Callable | str) -> Callable:
    """A callable, or "package.module:function"."""
    if callable(fn):
        return fn
    module, _, name = fn.partition(":")
    return getattr(importlib.import_module(module), name)


def _is_memory_error(error: BaseException) -> bool:
    text = str(error).lower()
    return isinstance(error, MemoryError) or (isinstance(error, RuntimeError) and (
        "can't allocate memory" in text or "not enough memory" in text or "can't start new thread" in text))


def _portable(error: BaseException) -> BaseException:
    """The error itself if it survives pickling, otherwise a JobError with its message."""
    try:
        copy = pickle.loads(pickle.dumps(error))
        if type(copy) is type(error) and str(copy) == str(error):
            return error
    except Exception:  # noqa: BLE001 - custom __init__ signatures do not unpickle
        pass
    return JobError(str(error))


def run_limited(fn: Callable | str, args: tuple, kwargs: dict, limits: Limits,
                reporter: Callable[[float, str, Any], None] | None = None,
                stop_check: Callable[[], bool] | None = None) -> tuple[str, Any]:
    """Run one job under its limits. Returns ("ok", value), ("error", ExplorerError to raise),
    ("memory", message) or ("crash", message); the last two mean the worker should be replaced.

    A GPU job gets no address-space limit (CUDA maps far more address space than it uses); the
    pool's resident-memory check still applies to it."""
    from ..errors import ExplorerError

    global _reporter, _stop_check
    as_soft, as_hard = resource.getrlimit(resource.RLIMIT_AS)
    cpu_soft, cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)
    threads = _torch_threads()
    _reporter, _stop_check = reporter, stop_check
    try:
        if limits.threads and threads:
            _set_torch_threads(limits.threads)
        memory = _mapped_bytes() + limits.memory_bytes
        if not limits.gpu:
            resource.setrlimit(resource.RLIMIT_AS, (memory if as_hard == resource.RLIM_INFINITY
                                                    else min(memory, as_hard), as_hard))
        cpu = math.ceil(_cpu_seconds() + limits.cpu_seconds)
        resource.setrlimit(resource.RLIMIT_CPU, (cpu if cpu_hard == resource.RLIM_INFINITY
                                                 else min(cpu, cpu_hard), cpu_hard))
        try:
            return "ok", resolve(fn)(*args, **kwargs)
        except ExplorerError as error:
            return "error", _portable(error)
        except BaseException as error:  # noqa: BLE001 - reported as one line, the worker is replaced
            if _is_memory_error(error):
                return "memory", str(error)
            return "crash", f"{type(error).__name__}: {error}"
    finally:
        _reporter, _stop_check = None, None
        if limits.threads and threads:
            _set_torch_threads(threads)
        resource.setrlimit(resource.RLIMIT_AS, (as_soft, as_hard))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_soft, cpu_hard))
        gc.collect()
        trim_memory()


def _torch_threads() -> int:
    """torch's intra-op thread count, 0 when torch is not loaded (a job that never needed it)."""
    import sys

    torch = sys.modules.get("torch")
    return torch.get_num_threads() if torch is not None else 0


def _set_torch_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)


def trim_memory() -> None:
    """Give freed heap pages back to the system (glibc keeps them otherwise)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def should_recycle(start_bytes: int, slack: int = 256 * 2**20) -> bool:
    """True when this worker holds more than it started with plus its cached models: the memory a
    finished job left behind only comes back when the process exits."""
    return resident_bytes() > start_bytes + _models_bytes + slack


def memory_message(limits: Limits) -> str:
    from ..i18n import N_, Message
    from ..units import format_bytes

    return Message(N_("this job went over its memory limit of {size} and was stopped; reduce its size and try "
                      "again"), size=format_bytes(limits.memory_bytes))


def time_message(limits: Limits, cpu: bool = False) -> str:
    from ..i18n import N_, Message

    if cpu:
        return Message(N_("this job went over its CPU-time limit of {seconds} s and was stopped; reduce its size "
                          "and try again"), seconds=f"{limits.cpu_seconds:.0f}")
    return Message(N_("this job went over its time limit of {seconds} s and was stopped; reduce its size and try "
                      "again"), seconds=f"{limits.seconds:.0f}")


# --- the pool's worker process ---------------------------------------------------------------

WORKER_NICENESS = 10  # CFS gives a nice-10 thread about a tenth of a nice-0 one's share when they compete


def _lower_priority() -> None:
    """Jobs yield the CPU to the server: a rerun (a slider step) is waited for by a person now,
    a job by its progress bar. With the server first, a job may use every idle core."""
    try:
        os.nice(WORKER_NICENESS)
    except OSError:
        pass


def pool_worker(conn, threads: int) -> None:
    """Main loop of a pool worker (a fresh interpreter): receive ("run", id, fn, args, kwargs,
    limits), answer ("progress", id, fraction, text, payload) and ("done", id, status, value,
    recycle); exit on None or when recycling. ("stop", id) during a job makes
    ``stop_requested()`` true for it; one that arrives after its job ended is ignored."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    _lower_priority()
    try:
        import torch

        torch.set_num_threads(threads)  # workers share the cores; oversubscribing them only slows all
    except ImportError:
        pass
    start = resident_bytes()
    conn.send(("ready", os.getpid(), start))
    last_progress = 0.0
    while True:
        message = conn.recv()
        if message is None:
            return
        if message[0] == "stop":  # its job is already over
            continue
        _, job_id, fn, args, kwargs, limits = message
        stopping = False

        def reporter(fraction: float, text: str, payload: Any) -> None:
            nonlocal last_progress
            now = time.monotonic()
            if now - last_progress >= 0.05 or fraction >= 1.0:  # a tight loop must not flood the pipe
                last_progress = now
                conn.send(("progress", job_id, fraction, text, payload))

        def stop_check() -> bool:
            nonlocal stopping
            while not stopping and conn.poll():  # during a job the pool sends nothing but "stop"
                message = conn.recv()
                stopping = message is None or (message[0] == "stop" and message[1] == job_id)
            return stopping

        status, value = run_limited(fn, args, kwargs, limits, reporter, stop_check)
        recycle = status in ("memory", "crash") or should_recycle(start)
        try:
            conn.send(("done", job_id, status, value, recycle))
        except Exception as error:  # noqa: BLE001 - e.g. an unpicklable result
            conn.send(("done", job_id, "crash", f"the result cannot be sent back ({error})", recycle))
        if recycle:
            return


def raise_for(status: str, value: Any, limits: Limits) -> Any:
    """The job's value, or the one-line error its status stands for (used by both back ends)."""
    if status == "ok":
        return value
    if status == "error":
        raise value
    if status == "memory":
        raise JobLimitError(memory_message(limits))
    from ..i18n import N_

    raise JobError(N_("the job failed unexpectedly ({why}); try again"), why=value)
