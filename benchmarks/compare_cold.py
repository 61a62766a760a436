"""Compare's first visit on a fresh machine: no measurement cache (a new, empty EXPLORER_CACHE_DIR).

A new server (``deploy/serve.py``'s replica) and a new Chromium tab at 1400 x 1000 open /compare
(or ``--path``), after ``--warm``'s page if given; printed: seconds from navigation to the table's first cell, seconds until every
model's numbers are filled in (no "measuring" left in the table, the script idle), the error
boxes and tracebacks seen on the way. Target (issue #23): the table within 3 s, no error.

    .venv/bin/python benchmarks/compare_cold.py [--path '/compare?size=131'] [--warm /densenet]
        [--root OTHER_CHECKOUT]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy"))

import serve  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]
ERRORS = """() => [...document.querySelectorAll('[data-testid="stAlertContentError"], [data-testid="stException"]')]
    .map(e => e.innerText.slice(0, 120))"""
IDLE = """() => { const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.dataset.testScriptState === 'notRunning'; }"""
SETTLED = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const table = document.querySelector('[data-testid="stTable"]');
  return app && app.dataset.testScriptState !== 'running' && table && !/measuring/i.test(table.innerText)
    && !document.querySelector('[data-testid="stStatusWidget"]');
}"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--path", default="/compare")
    parser.add_argument("--root", default=str(ROOT), help="the checkout to serve (an earlier one: 'before')")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--cache", default="", help="a measurement cache to use instead of an empty one (a warm "
                                                   "machine, for comparison)")
    parser.add_argument("--warm", default="", help="a page to visit first (say /densenet): the server's imports "
                                                  "done, as on a served replica, the cache still empty")
    arguments = parser.parse_args()

    from playwright.sync_api import sync_playwright

    cache = arguments.cache or tempfile.mkdtemp(prefix="explorer-cold-")
    port = serve.free_port()
    server = serve.start_replica(port, env={"EXPLORER_CACHE_DIR": cache}, root=Path(arguments.root))
    url = f"http://127.0.0.1:{port}"
    try:
        serve.wait_healthy(url)
        print(f"load average at the start: {os.getloadavg()} on {os.cpu_count()} cores; cache {cache}"
              + ("" if arguments.cache else " (empty)"))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            if arguments.warm:
                page.goto(url + arguments.warm)
                page.wait_for_function(IDLE, timeout=arguments.timeout * 1000)
                page.wait_for_timeout(1000)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
            start = time.monotonic()
            page.goto(url + arguments.path)
            errors: set[str] = set()
            table_at = done_at = error_at = idle_at = None
            while time.monotonic() - start < arguments.timeout:
                found = page.evaluate(ERRORS)
                errors.update(found)
                if found and error_at is None:
                    error_at = time.monotonic() - start
                if idle_at is None and page.evaluate(IDLE):
                    idle_at = time.monotonic() - start
                if table_at is None and page.locator('[data-testid="stTable"] td').count():
                    table_at = time.monotonic() - start
                if page.evaluate(SETTLED):
                    done_at = time.monotonic() - start
                    break
                page.wait_for_timeout(100)
            errors.update(page.evaluate(ERRORS))
            show = lambda t: f"{t:6.1f} s" if t is not None else "  never"  # noqa: E731
            print(f"{arguments.path}: table shown {show(table_at)} (target <= 3 s: "
                  f"{'PASS' if table_at is not None and table_at <= 3 else 'FAIL'}), every number filled in "
                  f"{show(done_at)}; first script run over {show(idle_at)}; errors seen: {len(errors)}"
                  + (f", the first at {show(error_at)}" if errors else ""))
            for text in sorted(errors):
                print("   ", " ".join(text.split()))
            if done_at is not None:  # the same page for a next visitor: every number cached, imports done
                again = browser.new_page(viewport={"width": 1400, "height": 1000})
                start = time.monotonic()
                again.goto(url + arguments.path)
                again.locator('[data-testid="stTable"] td').first.wait_for(timeout=arguments.timeout * 1000)
                print(f"{arguments.path}, the next visitor (all cached): table shown {time.monotonic() - start:6.1f} s")
            browser.close()
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
