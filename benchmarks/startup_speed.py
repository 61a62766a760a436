"""The first visitor of a freshly started replica: how long until their page has run and is drawn.

For each round a replica is started as `make serve` starts one (deploy/run_streamlit.py, no warm-up
visit), and once it answers its health check one visitor opens a page: through the websocket
protocol (deploy/stclient.py: request -> the script's run finished, the server's share) and then,
in a new Chromium, the same page (navigation start -> sliders drawn and the page quiet for 500 ms).
``--before DIR`` measures another checkout (an earlier commit) in the same run, rounds interleaved.

    .venv/bin/python benchmarks/startup_speed.py [--rounds 3] [--page densenet] [--before DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import serve  # noqa: E402
from rerun_speed import ARGS, CHROMIUM, FIRST_VISIT_INIT, SLIDER, first_visit  # noqa: E402
from stclient import visit  # noqa: E402


def one_round(root: Path, page: str, browser) -> tuple[float, float, float]:
    """(seconds to healthy, protocol first run, browser first visit) of a fresh replica of ``root``."""
    port = serve.free_port()
    started = time.perf_counter()
    process = serve.start_replica(port, root=root)
    try:
        url = f"http://127.0.0.1:{port}"
        serve.wait_healthy(url)
        healthy = time.perf_counter() - started
        t0 = time.perf_counter()
        with ThreadPoolExecutor(1) as thread:  # Playwright's sync API holds this thread's event loop
            thread.submit(asyncio.run, visit(url, page, timeout=300)).result()
        protocol = time.perf_counter() - t0
        # a second replica process would be needed for a browser-only number: the protocol visit above
        # already paid the process's first-run costs, so the browser sees a fresh session on a replica
        # that has served one page
        drawn = first_visit(browser, f"{url}/{page}", SLIDER[page])
        return healthy, protocol, drawn
    finally:
        serve.stop([process])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--page", default="densenet", choices=sorted(SLIDER))
    parser.add_argument("--before", type=Path)
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        print("Chromium not found at /usr/bin/chromium (apt-get install chromium)")
        return 2
    from playwright.sync_api import sync_playwright

    roots = {"app": ROOT, **({"before": args.before.resolve()} if args.before else {})}
    results = {which: [] for which in roots}
    print(f"load average at the start: {os.getloadavg()} on {os.cpu_count()} cores")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(args.rounds):
            for which, root in roots.items():
                results[which].append(one_round(root, args.page, browser))
        browser.close()
    for which, rounds in results.items():
        healthy, protocol, drawn = (statistics.median(r[i] for r in rounds) for i in range(3))
        print(f"{which:<7} /{args.page}: healthy after {healthy:.1f} s; first visitor's run (protocol) "
              f"{1000 * protocol:.0f} ms; the next visitor's page drawn (Chromium, new visitor) {1000 * drawn:.0f} ms "
              f"(medians of {len(rounds)})")
    print(f"load average at the end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
