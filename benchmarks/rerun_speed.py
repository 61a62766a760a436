"""Key press -> settled page, in Chromium, for the app's pages against Streamlit's floor, in one run.

The floor is benchmarks/floor_page.py: a bare page with the same sidebar (the navigation, language
switch, presentation toggle and the page's widgets) and one text line, served under Streamlit's
default settings (no project config: full GC after every run). The app is served as `make serve`
serves each replica (deploy/run_streamlit.py, the project's .streamlit/config.toml);
``--before DIR`` serves a second checkout (a git worktree of an earlier commit) beside it.
For each page, steps alternate between the servers (interleaved, so a burst of load on a shared
machine hits all); each step presses ArrowRight on one slider (a new value every time: no cache
hit is reused) and waits until the script has run and the DOM has been quiet for 500 ms. Settled =
the last DOM change - the key press. Per server it prints the median, the bytes the server sent per
rerun (websocket), and the server process's CPU per rerun; then the first visit of each page in a
new tab and by a new visitor (target <= 2 s on a warm server). Targets (issue #12): app/floor <= 1.5
on DenseNet and Inception, <= 2 on Compare and Explain; server CPU <= 25 ms per Build-page rerun.

    .venv/bin/python benchmarks/rerun_speed.py [--steps 9] [--pages densenet,inception,compare,explain]
        [--before /tmp/before-checkout] [--no-first-visit]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
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
SLIDER = {"densenet": "Growth rate k", "inception": "Input channels", "compare": "Steps per axis",
          "explain": "Overlay opacity"}
TARGET = {"densenet": 1.5, "inception": 1.5, "compare": 2.0, "explain": 2.0}
QUIET_MS = 500

WATCH = """() => {
  const p = window.__perf = {last: performance.now(), t0: null, sawRun: false};
  const app = () => document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => {
    p.last = performance.now();
    if (app() && app().dataset.testScriptState === 'running') p.sawRun = true;
  }).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
  document.addEventListener('keydown', e => { if (p.t0 === null) p.t0 = performance.now(); }, true);
}"""
# The server's answer is seen on the websocket (a fast rerun may never show the 'running' state).
WS_WATCH = """
const Native = window.WebSocket;
window.__ws = {last: 0, bytes: 0};
window.WebSocket = function (...args) {
  const socket = new Native(...args);
  socket.addEventListener('message', (e) => {
    window.__ws.last = performance.now();
    window.__ws.bytes += e.data.byteLength || e.data.size || e.data.length || 0;
  });
  return socket;
};
window.WebSocket.prototype = Native.prototype;
Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
"""
SETTLED = f"""() => {{
  const p = window.__perf, app = document.querySelector('[data-testid="stApp"]');
  const state = app && app.dataset.testScriptState;
  const quiet = performance.now() - Math.max(p.last, window.__ws.last);
  return p.t0 !== null && window.__ws.last > p.t0 && state !== 'running' && quiet > {QUIET_MS};
}}"""


# A new visitor: from navigation start until the page is interactive (script run finished, its slider
# drawn) and quiet; performance.now() counts from navigation start.
FIRST_VISIT_INIT = """
window.__first = {last: 0};
new MutationObserver(() => { window.__first.last = performance.now(); })
  .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
"""


def first_visit(browser, url: str, label: str, context=None) -> float:
    """Seconds until a new tab's first page is interactive (the warm server's first-visit cost): in a
    new browser context (a new visitor, empty HTTP cache) or a new tab of ``context``."""
    own = context is None
    if own:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.add_init_script(FIRST_VISIT_INIT)
    page = context.new_page()
    page.goto(url)
    page.locator('[data-testid="stSlider"]', has_text=label).first.wait_for(timeout=120_000)
    page.wait_for_function(f"""() => {{
      const app = document.querySelector('[data-testid="stApp"]');
      return app && app.dataset.testScriptState === 'notRunning'
        && performance.now() - window.__first.last > {QUIET_MS};
    }}""", polling=25, timeout=120_000)
    seconds = page.evaluate("() => window.__first.last") / 1000
    page.close()
    if own:
        context.close()
    return seconds


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(page) -> None:
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=180_000)
    page.wait_for_timeout(QUIET_MS)


def step(page, label: str) -> tuple[float, int]:
    """Press ArrowRight on the slider; (seconds until the page settled, bytes the server sent)."""
    page.bring_to_front()  # a page in the background gets throttled timers and frames
    page.wait_for_timeout(QUIET_MS)
    page.evaluate("() => { window.__perf.t0 = null; window.__perf.sawRun = false; window.__ws.bytes = 0; }")
    slider = page.locator('[data-testid="stSlider"]', has_text=label).get_by_role("slider").first
    slider.press("ArrowRight")
    try:
        page.wait_for_function(SETTLED, polling=25, timeout=60_000)
    except Exception:
        print("did not settle:", page.url, page.evaluate("() => JSON.stringify([window.__perf, document.querySelector("
              "'[data-testid=\"stApp\"]').dataset.testScriptState, window.__ws, performance.now()])"))
        raise
    seconds, sent = page.evaluate("() => [window.__perf.last - window.__perf.t0, window.__ws.bytes]")
    return seconds / 1000, sent


def measure_page(browser, name: str, urls: dict[str, str], servers: dict, steps: int) -> dict:
    """Interleaved steps on each server's page; per server: median ms, (min, max), KB per rerun, and
    the server's CPU ms per rerun (the floor's too)."""
    pages = {}
    for which, url in urls.items():
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.add_init_script(WS_WATCH)
        page = context.new_page()
        page.goto(url)
        wait_idle(page)
        page.evaluate(WATCH)
        step(page, SLIDER[name])  # one untimed step each: first-use costs out of the way
        pages[which] = page
    times = {w: [] for w in urls}
    sent = {w: [] for w in urls}
    cpu = {w: 0.0 for w in urls}
    for _ in range(steps):
        for which in urls:
            before = cpu_seconds(servers[which].pid)
            seconds, size = step(pages[which], SLIDER[name])
            cpu[which] += cpu_seconds(servers[which].pid) - before
            times[which].append(seconds)
            sent[which].append(size)
    for page in pages.values():
        page.context.close()
    return {w: {"ms": 1000 * statistics.median(times[w]), "min": 1000 * min(times[w]), "max": 1000 * max(times[w]),
                "kb": statistics.median(sent[w]) / 1024, "cpu": 1000 * cpu[w] / steps} for w in urls}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=9)
    parser.add_argument("--pages", default="densenet,inception,compare,explain")
    parser.add_argument("--before", type=Path, help="another checkout of the app (e.g. a git worktree of the "
                                                     "previous commit), measured in the same run")
    parser.add_argument("--no-first-visit", action="store_true", help="skip the first-visit measurements")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        print("Chromium not found at /usr/bin/chromium (apt-get install chromium)")
        return 2
    from playwright.sync_api import sync_playwright

    ports = {"app": serve.free_port(), "floor": serve.free_port()}
    if args.before:
        ports["before"] = serve.free_port()
    with tempfile.TemporaryDirectory() as bare_dir:  # no .streamlit/config.toml here: the defaults
        servers = {"app": serve.start_replica(ports["app"])}
        if args.before:
            servers["before"] = serve.start_replica(ports["before"], root=args.before.resolve())
        servers["floor"] = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "benchmarks" / "floor_page.py"),
             "--server.address", "127.0.0.1", "--server.port", str(ports["floor"]), "--server.headless", "true",
             "--browser.gatherUsageStats", "false"], cwd=bare_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = {w: f"http://127.0.0.1:{p}" for w, p in ports.items()}
            for which, url in base.items():
                serve.wait_healthy(url)
                if which != "floor":
                    serve.warm_up(url)
            print(f"load average at the start: {os.getloadavg()} on {os.cpu_count()} cores (a shared machine "
                  f"adds noise; steps are interleaved {'/'.join(base)} so bursts hit all)")
            print(f"{'page':<10} {'server':<7} {'ms':>6} {'(min-max)':>12} {'KB/rerun':>9} {'CPU ms/rerun':>13} "
                  f"{'ratio to floor':>15} {'target':>7}")
            failed = False
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                for name in args.pages.split(","):
                    urls = {w: f"{url}/{name}" if w != "floor" else f"{url}/?page={name}" for w, url in base.items()}
                    result = measure_page(browser, name, urls, servers, args.steps)
                    floor_ms = result["floor"]["ms"]
                    build = name in ("densenet", "inception")
                    for which, r in result.items():
                        ratio = r["ms"] / floor_ms
                        verdict = ""
                        if which == "app":
                            ok = ratio <= TARGET[name] and (not build or r["cpu"] <= 25)
                            failed |= not ok
                            verdict = (f"{TARGET[name]:>6.1f}x" + (" CPU<=25" if build else "")
                                       + ("" if ok else "  MISSED"))
                        spread = f"({r['min']:.0f}-{r['max']:.0f})"
                        print(f"{name:<10} {which:<7} {r['ms']:>6.0f} {spread:>12} "
                              f"{r['kb']:>9.1f} {r['cpu']:>13.0f} {ratio:>15.2f} {verdict}", flush=True)
                if not args.no_first_visit:
                    failed |= first_visits(browser, base, args.pages.split(","))
                browser.close()
            print(f"load average at the end: {os.getloadavg()}")
            return 1 if failed else 0
        finally:
            serve.stop(servers.values())


def first_visits(browser, base: dict[str, str], names: list[str]) -> bool:
    """The first visit of each page in a new tab and by a new visitor; True when one missed 2 s."""
    failed = False
    tabs = {}
    for which in base:
        tabs[which] = browser.new_context(viewport={"width": 1400, "height": 1000})
        tabs[which].add_init_script(FIRST_VISIT_INIT)
    for kind in ("new tab", "new visitor (empty cache)"):
        visits = {w: {} for w in base}
        for name in names:
            for which, url in base.items():
                address = f"{url}/{name}" if which != "floor" else f"{url}/?page={name}"
                tab = tabs[which] if kind == "new tab" else None
                if tab is not None:  # the browser has been here before: its cache holds the scripts
                    first_visit(browser, address, SLIDER[name], tab)
                visits[which][name] = statistics.median(first_visit(browser, address, SLIDER[name], tab)
                                                        for _ in range(3))
        print(f"first visit, {kind}, warm server (median of 3, target <= 2000 ms): " + "; ".join(
            f"{name} " + ", ".join(f"{w} {1000 * visits[w][name]:.0f} ms" for w in base) for name in names), flush=True)
        if kind == "new tab":
            failed |= any(v > 2 for v in visits["app"].values())
    for context in tabs.values():
        context.close()
    return failed


if __name__ == "__main__":
    sys.exit(main())
