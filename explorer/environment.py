"""The server's settings from its environment: every ``EXPLORER_*`` variable is read here, and only
here, by one accessor each (``VARIABLES`` lists them with their defaults, as the README's table does).

Each accessor reads its variable when it is called, so a test or a benchmark can set one for the
process it starts (the job layer reads its limits once, when it is imported). Numbers go through one
parser, ``number``: a value that is not a finite number counts as unset, and the default applies;
whole numbers are truncated (``EXPLORER_WORKERS=2.5``: 2 workers). Nothing here imports torch.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

MiB = 2**20


@dataclass(frozen=True)
class Variable:
    name: str
    default: str  # as the README's table says it
    meaning: str


VARIABLES = (
    Variable("EXPLORER_WORKERS", "one per core, at most 4", "job worker processes of the local pool (at least 1)"),
    Variable("EXPLORER_SPARE_WORKERS", "1", "idle workers kept started, to replace a killed one at once"),
    Variable("EXPLORER_JOB_MAX_BYTES", "3/4 of the machine's memory / workers", "the most memory one job may take"),
    Variable("EXPLORER_JOB_MAX_SECONDS", "600", "the most CPU seconds one job may take"),
    Variable("EXPLORER_JOB_MEMORY_FACTOR", "1.5", "a job's memory limit is its estimate x this + the headroom"),
    Variable("EXPLORER_JOB_HEADROOM_BYTES", "536870912 (512 MiB)", "added to every job's memory limit"),
    Variable("EXPLORER_RAY_ADDRESS", "unset: the local pool", "run jobs as tasks on this Ray cluster (host:port)"),
    Variable("EXPLORER_SESSION_UPLOADS", "8", "files one session may hold at once"),
    Variable("EXPLORER_SESSION_UPLOAD_BYTES", "314572800 (300 MiB)", "bytes one session may hold at once"),
    Variable("EXPLORER_TRAIN_THREADS", "unset: the cores no other process runs on",
             "torch threads of a training job (0: the worker's share of the cores)"),
    Variable("EXPLORER_CACHE_DIR", "~/.cache/cnn-explorer", "where measured torchvision costs are kept between runs"),
    Variable("EXPLORER_GC_FREEZE", "1", "0: deploy/run_streamlit.py leaves the start-up objects to the collector"),
)


def number(name: str, default, low: float | None = None):
    """The variable ``name`` as a number (at least ``low``), or ``default`` when it is unset or not
    a finite number."""
    try:
        value = float(os.environ[name])
    except (KeyError, ValueError):
        return default
    if not math.isfinite(value):
        return default
    return value if low is None else max(low, value)


def machine_memory() -> int:
    """The machine's memory in bytes (8 GiB where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):  # not Linux-like: assume a small machine
        return 8 * 2**30


# --- the job layer (explorer.jobs) ----------------------------------------------------------------

def workers() -> int:
    """EXPLORER_WORKERS: job worker processes of the local pool; default one per core, at most 4; at least 1."""
    return int(number("EXPLORER_WORKERS", min(4, os.cpu_count() or 1), low=1))


def spare_workers() -> int:
    """EXPLORER_SPARE_WORKERS: idle workers kept started to replace a killed one at once; default 1."""
    return int(number("EXPLORER_SPARE_WORKERS", 1))


def job_max_bytes() -> int:
    """EXPLORER_JOB_MAX_BYTES: the most memory one job may take beyond its worker's own; default the
    machine's memory shared by the workers, keeping a quarter for the server and the system."""
    return int(number("EXPLORER_JOB_MAX_BYTES", 0.75 * machine_memory() / workers()))


def job_max_seconds() -> float:
    """EXPLORER_JOB_MAX_SECONDS: the most CPU seconds one job may take; default 600."""
    return number("EXPLORER_JOB_MAX_SECONDS", 600.0)


def job_memory_factor() -> float:
    """EXPLORER_JOB_MEMORY_FACTOR: a job's memory limit is its estimate x this + the headroom; default
    1.5 (0: the headroom alone, for a test that makes jobs go over their limit)."""
    return number("EXPLORER_JOB_MEMORY_FACTOR", 1.5)


def job_headroom_bytes() -> int:
    """EXPLORER_JOB_HEADROOM_BYTES: added to every job's memory limit; default 512 MiB."""
    return int(number("EXPLORER_JOB_HEADROOM_BYTES", 512 * MiB))


def ray_address() -> str:
    """EXPLORER_RAY_ADDRESS: run jobs as tasks on this Ray cluster (host:port); "" (default): the local pool."""
    return os.environ.get("EXPLORER_RAY_ADDRESS", "").strip()


def session_uploads() -> int:
    """EXPLORER_SESSION_UPLOADS: files one session may hold at once; default 8."""
    return int(number("EXPLORER_SESSION_UPLOADS", 8))


def session_upload_bytes() -> int:
    """EXPLORER_SESSION_UPLOAD_BYTES: bytes one session may hold at once; default 300 MiB."""
    return int(number("EXPLORER_SESSION_UPLOAD_BYTES", 300 * MiB))


# --- training, measurements, start-up -------------------------------------------------------------

def train_threads() -> int | None:
    """EXPLORER_TRAIN_THREADS: torch threads of a training job, at least 0 (0: the worker's share of
    the cores); None (default): the cores no other process runs on (``training.work.training_threads``)."""
    value = number("EXPLORER_TRAIN_THREADS", None, low=0)
    return None if value is None else int(value)


def cache_dir() -> Path:
    """EXPLORER_CACHE_DIR: where measured numbers are kept between runs; default ~/.cache/cnn-explorer."""
    return Path(os.environ.get("EXPLORER_CACHE_DIR") or Path.home() / ".cache" / "cnn-explorer")


def gc_freeze() -> bool:
    """EXPLORER_GC_FREEZE: whether deploy/run_streamlit.py moves the start-up objects out of the garbage
    collector's reach; "0" turns it off, any other value (default "1") leaves it on."""
    return os.environ.get("EXPLORER_GC_FREEZE", "1") != "0"
