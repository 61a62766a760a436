"""The server's ``EXPLORER_*`` settings: read in one place (``explorer.environment``), one parser,
a value that does not parse falls back to the default, and the README lists every one."""

import os
import re
from pathlib import Path

import pytest

from explorer import environment

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(monkeypatch):
    for variable in environment.VARIABLES:
        monkeypatch.delenv(variable.name, raising=False)
    return monkeypatch


def test_defaults(env):
    assert environment.workers() == max(1, min(4, os.cpu_count() or 1))
    assert environment.spare_workers() == 1
    assert environment.job_max_bytes() == int(0.75 * environment.machine_memory() / environment.workers())
    assert environment.job_max_seconds() == 600.0
    assert environment.job_memory_factor() == 1.5
    assert environment.job_headroom_bytes() == 512 * 2**20
    assert environment.ray_address() == ""
    assert environment.session_uploads() == 8
    assert environment.session_upload_bytes() == 300 * 2**20
    assert environment.train_threads() is None
    assert environment.cache_dir() == Path.home() / ".cache" / "cnn-explorer"
    assert environment.gc_freeze() is True


def test_values_and_bounds(env):
    env.setenv("EXPLORER_WORKERS", "2.5")
    assert environment.workers() == 2  # whole numbers are truncated
    assert environment.job_max_bytes() == int(0.75 * environment.machine_memory() / 2)
    env.setenv("EXPLORER_WORKERS", "0")
    assert environment.workers() == 1  # at least one
    env.setenv("EXPLORER_JOB_MAX_BYTES", "1e9")
    env.setenv("EXPLORER_JOB_MEMORY_FACTOR", "0")
    env.setenv("EXPLORER_RAY_ADDRESS", " head:6379 ")
    env.setenv("EXPLORER_SESSION_UPLOAD_BYTES", str(3 * 2**20))
    env.setenv("EXPLORER_TRAIN_THREADS", "-2")
    env.setenv("EXPLORER_CACHE_DIR", "/tmp/measured")
    env.setenv("EXPLORER_GC_FREEZE", "0")
    assert environment.job_max_bytes() == 10**9 and environment.job_memory_factor() == 0.0
    assert environment.ray_address() == "head:6379" and environment.session_upload_bytes() == 3 * 2**20
    assert environment.train_threads() == 0  # at least 0 (0: the worker's share of the cores)
    assert environment.cache_dir() == Path("/tmp/measured") and environment.gc_freeze() is False
    env.setenv("EXPLORER_GC_FREEZE", "no")
    assert environment.gc_freeze() is True  # only "0" turns it off


@pytest.mark.parametrize("value", ["", "many", "nan", "inf", "1,5"])
def test_a_value_that_does_not_parse_falls_back_to_the_default(env, value):
    for name in ("EXPLORER_WORKERS", "EXPLORER_SPARE_WORKERS", "EXPLORER_JOB_MAX_SECONDS", "EXPLORER_SESSION_UPLOADS",
                 "EXPLORER_TRAIN_THREADS", "EXPLORER_CACHE_DIR"):
        env.setenv(name, value)
    assert environment.workers() == max(1, min(4, os.cpu_count() or 1))
    assert environment.spare_workers() == 1 and environment.job_max_seconds() == 600.0
    assert environment.session_uploads() == 8 and environment.train_threads() is None
    if value == "":
        assert environment.cache_dir() == Path.home() / ".cache" / "cnn-explorer"


READS = re.compile(r"""(environ\s*(\.get\s*\(|\[)|getenv\s*\()\s*["']EXPLORER_""")


def test_no_other_file_reads_an_explorer_variable():
    files = [path for folder in ("explorer", "pages", "deploy", "benchmarks") for path in (ROOT / folder).rglob("*.py")]
    files.append(ROOT / "streamlit_app.py")
    readers = sorted(str(path.relative_to(ROOT)) for path in files if READS.search(path.read_text(encoding="utf-8")))
    assert readers == ["explorer/environment.py"]
    assert {m.group(0) for m in re.finditer(r"EXPLORER_[A-Z_]+", (ROOT / "explorer" / "environment.py").read_text())} \
        == {variable.name for variable in environment.VARIABLES}


def test_the_readme_lists_every_variable_with_its_default():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(" `"): line for line in readme.splitlines() if line.startswith("| `EXPLORER_")}
    assert set(rows) == {variable.name for variable in environment.VARIABLES}
    for variable in environment.VARIABLES:
        assert variable.default in rows[variable.name], variable.name
