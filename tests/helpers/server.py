"""The app served as `make run` serves it (deploy/run_streamlit.py) on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"  # server logs and screenshots


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, log_name: str = "streamlit-server.log", env: dict | None = None,
                 plain: bool = False) -> subprocess.Popen:
    """The app served as `make run` serves it (deploy/run_streamlit.py), or with ``plain`` by a bare
    `streamlit run streamlit_app.py` (a host that runs the main script itself); ``env`` added to ours."""
    sys.path.insert(0, str(ROOT / "deploy"))
    from run_streamlit import command

    options = ("--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true")
    line = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", *options] if plain else command(*options)
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / log_name, "a")
    process = subprocess.Popen(line, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    process.log = log
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180  # the imports come before the health check now (seconds on a busy machine)
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return process
        except OSError:
            time.sleep(0.3)
    stop_server(process)
    pytest.fail("streamlit did not start within 180 s")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
    process.log.close()


@contextmanager
def served(log_name: str = "streamlit-server.log", env: dict | None = None, plain: bool = False):
    """The app's URL while a server started by ``start_server`` on a free port runs; stopped after."""
    port = free_port()
    process = start_server(port, log_name, env, plain)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(process)
