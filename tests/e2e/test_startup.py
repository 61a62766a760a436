"""How the app starts (issue #23): `make run` and the replicas of `make serve` through one start-up
path (deploy/run_streamlit.py: imports done, gc frozen, the app's navigation from the first run), and
every page run on a fresh machine: empty measurement cache (EXPLORER_CACHE_DIR), empty weights
folder (TORCH_HOME), nothing cached in the process or its job workers.
The browser's side (a fresh server's first paint, every page at 390 px) is tests/e2e/test_browser_fresh.py."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy"))

import run_streamlit  # noqa: E402
import serve  # noqa: E402


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_make_run_and_the_replicas_start_the_same_way(monkeypatch):
    made = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    (line,) = [shlex.split(line) for line in made.splitlines() if "run_streamlit.py" in line]
    assert line[1:] == ["deploy/run_streamlit.py", "run", "streamlit_app.py", "--server.address", "127.0.0.1",
                        "--server.port", "8501"]
    expected = run_streamlit.command("--server.address", "127.0.0.1", "--server.port", "8501")
    assert (ROOT / line[1]).resolve() == Path(expected[1]).resolve() and line[2:] == expected[2:]

    started = []
    monkeypatch.setattr(serve.subprocess, "Popen", lambda command, **kwargs: started.append((command, kwargs)))
    serve.start_replica(8601)
    ((command, kwargs),) = started
    assert command == [sys.executable, str(ROOT / "deploy" / "run_streamlit.py"), "run", "streamlit_app.py",
                       "--server.address", "127.0.0.1", "--server.port", "8601", "--server.headless", "true"]
    assert Path(kwargs["cwd"]).resolve() == ROOT


START_UP = """
import gc, json, sys
sys.path.insert(0, "deploy")
import run_streamlit
line = run_streamlit.start_up()
from streamlit.runtime.pages_manager import PagesManager
print(json.dumps({"line": line, "frozen": gc.get_freeze_count(), "pages_directory": PagesManager.uses_pages_directory,
                  "modules": [m for m in ("torch", "plotly.graph_objects", "pandas", "explorer.charts.densenet",
                                          "explorer.charts.inception") if m in sys.modules]}))
"""


@pytest.mark.slow
def test_start_up_imports_freezes_and_takes_the_navigation():
    """What the server process holds once start_up is done: the heavy modules imported, their objects
    frozen (gc.freeze: full collections skip them; Python held ~420k then), and Streamlit told that
    the app has its own navigation (no v1 list of the files in pages/ for the first visitor)."""
    done = subprocess.run([sys.executable, "-c", START_UP], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["modules"] == ["torch", "plotly.graph_objects", "pandas", "explorer.charts.densenet",
                                "explorer.charts.inception"]
    assert state["frozen"] > 200_000 and state["pages_directory"] is False
    assert state["line"].startswith("explorer start-up: imports done in ")
    assert state["line"].endswith(f"{state['frozen']:,} objects frozen")


# --- every page on a fresh machine ---------------------------------------------------------------

PAGE_FILES = {"home": "streamlit_app.py", **{page: f"pages/{page}.py" for page in (
    "densenet", "inception", "compare", "explain", "train", "learn", "practice", "glossary")}}


class _FreshPool:
    """The job back end of a fresh server, sized as the server's (workers, torch threads each) but
    with no spare: new worker processes, started on the first job, so they see this test's
    environment and have nothing loaded or measured yet."""

    def __init__(self):
        self.pool = None

    def __getattr__(self, name):
        if self.pool is None:
            from explorer.jobs.pool import LocalPool

            self.pool = LocalPool(spares=0)
        return getattr(self.pool, name)


@pytest.fixture
def cold(monkeypatch, tmp_path):
    """Empty EXPLORER_CACHE_DIR and TORCH_HOME; the process's caches emptied; fresh job workers."""
    import streamlit as st

    from explorer import jobs
    from explorer.analysis import torchvision_costs
    from explorer.vision import classifier

    monkeypatch.setenv("EXPLORER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    st.cache_data.clear()
    st.cache_resource.clear()
    torchvision_costs.clear_cache()
    classifier.clear_cache()
    fresh = _FreshPool()
    old = jobs.set_runner(fresh)
    yield tmp_path
    jobs.set_runner(old)
    if fresh.pool is not None:
        fresh.pool.shutdown()
    torchvision_costs.clear_cache()


@pytest.mark.slow
@pytest.mark.parametrize("page", list(PAGE_FILES))
def test_every_page_runs_on_a_fresh_machine(cold, page):
    app = AppTest.from_file(str(ROOT / PAGE_FILES[page]), default_timeout=300).run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    assert app.title, "the page drew nothing"
