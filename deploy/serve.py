"""Serve the app as N Streamlit replicas behind nginx (`make serve`): one process per core by default.

Streamlit runs every session's script in one process under one GIL, so one process uses one core.
This starts N replicas on 127.0.0.1 (ports from --base-port), warms each (every page visited once
through the websocket protocol, so the first real visitor finds imports done and caches filled),
then nginx on --address:--port with WebSocket pass-through, session affinity (a cookie), the
security headers and /_stcore/metrics closed. Ctrl-C stops everything.

    .venv/bin/python deploy/serve.py [--replicas N] [--port 8080] [--address 127.0.0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WARM_PAGES = ("home", "densenet", "inception", "compare", "explain", "learn")  # learn: its shared panels (#24)


def free_port(address: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def security_include() -> str:
    """The security headers, included in each location: a location with its own add_header (the
    affinity cookie) inherits none from the server block. deploy/nginx-security.conf is the
    server-level snippet for one process on port 8501 (its locations proxy there), so the
    replicas use deploy/security-headers.conf and close the metrics in the template."""
    return f"include {HERE / 'security-headers.conf'};"


def render_config(run_dir: Path, listen: str, ports: list[int]) -> Path:
    """nginx.conf for these replicas, written into ``run_dir`` (also nginx's pid and temp folder)."""
    text = (HERE / "nginx.conf.template").read_text()
    servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=0;" for port in ports)
    index = "\n".join(f"        127.0.0.1:{port} {i + 1};" for i, port in enumerate(ports))
    for field, value in {"RUN": str(run_dir), "MIME_TYPES": "/etc/nginx/mime.types", "SERVERS": servers,
                         "REPLICA_INDEX": index,
                         "LISTEN": listen, "SECURITY": "            " + security_include()}.items():
        text = text.replace(f"@@{field}@@", value)
    path = run_dir / "nginx.conf"
    path.write_text(text)
    return path


def wait_healthy(url: str, timeout: float = 180) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not become healthy within {timeout:.0f} s")


def start_replica(port: int, cpus: set[int] | None = None, env: dict | None = None,
                  log=subprocess.DEVNULL, root: Path = ROOT) -> subprocess.Popen:
    """One Streamlit process of the app in ``root`` (another checkout: a benchmark's 'before'),
    started as `make run` starts it (run_streamlit.command)."""
    from run_streamlit import command

    line = command("--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
                   root=root)
    return subprocess.Popen(line, cwd=root, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})},
                            preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)


def warm_up(url: str) -> None:
    """Visit every page once: imports, plotly's validators and the default profiles get loaded."""
    from stclient import visit

    async def run() -> None:
        for page in WARM_PAGES:
            await visit(url, page, timeout=300)

    asyncio.run(run())


def stop(processes) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def deployment(replicas: int, port: int | None = None, address: str = "127.0.0.1", warm: bool = True,
               cpus: set[int] | None = None, env: dict | None = None):
    """Replicas + nginx running; yields the public URL. ``cpus`` pins every process to those cores."""
    if not os.path.exists(NGINX):
        raise RuntimeError("nginx not found (apt-get install nginx)")
    port = port or free_port(address)
    ports = [free_port() for _ in range(replicas)]
    processes: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="explorer-nginx-") as run:
        run_dir = Path(run)
        try:
            processes += [start_replica(p, cpus, env) for p in ports]
            for p in ports:
                wait_healthy(f"http://127.0.0.1:{p}")
            if warm:
                for p in ports:
                    warm_up(f"http://127.0.0.1:{p}")
            conf = render_config(run_dir, f"{address}:{port}", ports)
            processes.append(subprocess.Popen([NGINX, "-e", str(run_dir / "error.log"), "-p", str(run_dir), "-c",
                                               str(conf), "-g", "daemon off;"],
                                              preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None))
            url = f"http://{address}:{port}"
            wait_healthy(url, 30)
            yield url
        finally:
            stop(processes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=len(os.sched_getaffinity(0)),
                        help="Streamlit processes (default: one per core)")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--address", default="127.0.0.1", help="where nginx listens (0.0.0.0: every interface)")
    args = parser.parse_args()
    if args.replicas < 1:
        print("--replicas: must be at least 1")
        return 2
    try:
        with deployment(args.replicas, args.port, args.address) as url:
            print(f"{args.replicas} replica(s) behind nginx at {url} (Ctrl-C stops)", flush=True)
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    except RuntimeError as error:
        print(error)
        return 2


if __name__ == "__main__":
    sys.exit(main())
