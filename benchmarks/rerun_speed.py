"""Key press -> settled page, in Chromium, for the app's pages against Streamlit's floor, in one run.

The floor is benchmarks/floor_page.py: a bare page with the same widgets and one text line, served
under Streamlit's default settings (no project config: full GC after every run). The app is served as
`make serve` serves each replica (deploy/run_streamlit.py, the project's .streamlit/config.toml).
For each page, steps alternate app / floor (interleaved, so a burst of load on a shared machine hits
both); each step presses ArrowRight on one slider (a new value every time: no cache hit is reused)
and waits until the script has run and the DOM has been quiet for 500 ms. Settled = the last DOM
change - the key press. Also prints the first visit of each page in a new tab (target <= 2 s on a warm server) and
the app server's CPU per Build-page rerun (process CPU time
over the steps / steps). Targets (issue #12): app/floor <= 1.5 on DenseNet and Inception, <= 2 on
Compare and Explain; server CPU <= 25 ms per Build-page rerun.

    .venv/bin/python benchmarks/rerun_speed.py [--steps 9] [--pages densenet,inception,compare,explain]
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
window.__ws = {last: 0};
window.WebSocket = function (...args) {
  const socket = new Native(...args);
  socket.addEventListener('message', () => { window.__ws.last = performance.now(); });
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


def step(page, label: str) -> float:
    """Press ArrowRight on the slider; seconds until the page settled."""
    page.bring_to_front()  # a page in the background gets throttled timers and frames
    page.wait_for_timeout(QUIET_MS)
    page.evaluate("() => { window.__perf.t0 = null; window.__perf.sawRun = false; }")
    slider = page.locator('[data-testid="stSlider"]', has_text=label).get_by_role("slider").first
    slider.press("ArrowRight")
    try:
        page.wait_for_function(SETTLED, polling=25, timeout=60_000)
    except Exception:
        print("did not settle:", page.url, page.evaluate("() => JSON.stringify([window.__perf, document.querySelector("
              "'[data-testid=\"stApp\"]').dataset.testScriptState, window.__ws, performance.now()])"))
        raise
    return page.evaluate("() => window.__perf.last - window.__perf.t0") / 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=9)
    parser.add_argument("--pages", default="densenet,inception,compare,explain")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        print("Chromium not found at /usr/bin/chromium (apt-get install chromium)")
        return 2
    from playwright.sync_api import sync_playwright

    app_port, floor_port = serve.free_port(), serve.free_port()
    with tempfile.TemporaryDirectory() as bare_dir:  # no .streamlit/config.toml here: the defaults
        app = serve.start_replica(app_port)
        floor = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "benchmarks" / "floor_page.py"),
                                  "--server.address", "127.0.0.1", "--server.port", str(floor_port),
                                  "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                                 cwd=bare_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            app_url, floor_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{floor_port}"
            serve.wait_healthy(app_url)
            serve.wait_healthy(floor_url)
            serve.warm_up(app_url)
            print(f"load average at the start: {os.getloadavg()} on {os.cpu_count()} cores (a shared machine "
                  f"adds noise; steps are interleaved app/floor so bursts hit both)")
            print(f"{'page':<10} {'app ms':>8} {'(min-max)':>14} {'floor ms':>9} {'(min-max)':>14} {'ratio':>6} "
                  f"{'target':>7} {'server CPU ms/rerun':>20}")
            failed = False
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                for name in args.pages.split(","):
                    pages = {}
                    for which, url in (("app", f"{app_url}/{name}"), ("floor", f"{floor_url}/?page={name}")):
                        context = browser.new_context(viewport={"width": 1400, "height": 1000})
                        context.add_init_script(WS_WATCH)
                        page = context.new_page()
                        page.goto(url)
                        wait_idle(page)
                        page.evaluate(WATCH)
                        step(page, SLIDER[name])  # one untimed step each: first-use costs out of the way
                        pages[which] = page
                    times = {"app": [], "floor": []}
                    cpu = 0.0
                    for _ in range(args.steps):
                        before = cpu_seconds(app.pid)
                        times["app"].append(step(pages["app"], SLIDER[name]))
                        cpu += cpu_seconds(app.pid) - before
                        times["floor"].append(step(pages["floor"], SLIDER[name]))
                    app_ms, floor_ms = (1000 * statistics.median(times[w]) for w in ("app", "floor"))
                    ratio = app_ms / floor_ms
                    cpu_ms = 1000 * cpu / args.steps
                    build = name in ("densenet", "inception")
                    ok = ratio <= TARGET[name] and (not build or cpu_ms <= 25)
                    failed |= not ok
                    spread = {w: f"({1000 * min(v):.0f}-{1000 * max(v):.0f})" for w, v in times.items()}
                    print(f"{name:<10} {app_ms:>8.0f} {spread['app']:>14} {floor_ms:>9.0f} {spread['floor']:>14} "
                          f"{ratio:>6.2f} {TARGET[name]:>6.1f}x {cpu_ms:>14.0f}{' (<=25)' if build else ''}"
                          f"{'' if ok else '  MISSED'}", flush=True)
                    for page in pages.values():
                        page.context.close()
                tabs = {}
                for which, url in (("app", app_url), ("floor", floor_url)):
                    tabs[which] = browser.new_context(viewport={"width": 1400, "height": 1000})
                    tabs[which].add_init_script(FIRST_VISIT_INIT)
                for kind in ("new tab", "new visitor (empty cache)"):
                    visits, floors = {}, {}
                    for name in args.pages.split(","):
                        app_page, floor_page = f"{app_url}/{name}", f"{floor_url}/?page={name}"
                        if kind == "new tab":  # the browser has been here before: its cache holds the scripts
                            first_visit(browser, app_page, SLIDER[name], tabs["app"])
                            first_visit(browser, floor_page, SLIDER[name], tabs["floor"])
                        tab = kind == "new tab"
                        runs = [(first_visit(browser, app_page, SLIDER[name], tabs["app"] if tab else None),
                                 first_visit(browser, floor_page, SLIDER[name], tabs["floor"] if tab else None))
                                for _ in range(3)]
                        visits[name] = statistics.median(a for a, _ in runs)
                        floors[name] = statistics.median(f for _, f in runs)
                    print(f"first visit, {kind}, warm server (median of 3, target <= 2000 ms; the bare page's in "
                          "brackets): " + ", ".join(f"{name} {1000 * v:.0f} ms ({1000 * floors[name]:.0f})"
                                                    for name, v in visits.items()), flush=True)
                    if kind == "new tab":
                        failed |= any(v > 2 for v in visits.values())
                browser.close()
            print(f"load average at the end: {os.getloadavg()}")
            return 1 if failed else 0
        finally:
            serve.stop([app, floor])


if __name__ == "__main__":
    sys.exit(main())
