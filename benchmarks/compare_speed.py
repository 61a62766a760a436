"""Speed of the Compare page's core: the 40 x 40 sweep against one FlopCounterMode pass, the fast
totals against the full profile, the cached ten-model comparison, and the latency measurement of
the page's default selection against its time budget (target: under 30 s).

With ``--browser``: in Chromium, a sweep control (the sweep is a fragment: only it reruns, and each
step is a new grid, computed and drawn) against a control of the main page (a full rerun, in which
the unchanged sweep comes from its cache), key or click -> settled page, interleaved, with the
server's CPU per rerun.

    .venv/bin/python benchmarks/compare_speed.py [--browser [--steps 7]]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer import build_model, profile  # noqa: E402
from explorer.analysis import compare, latency, reference  # noqa: E402
from explorer.analysis import sweep as sw  # noqa: E402
from explorer.models.densenet import PRESETS  # noqa: E402
from explorer.analysis.measure import count_flops  # noqa: E402
from benchmarks.timing import median_seconds  # noqa: E402


def timed(fn, repeats: int = 5) -> float:
    return median_seconds(fn, repeats, warmup=False)  # the first sweep is part of what users wait for


def main() -> None:
    base = PRESETS["densenet121"]
    params = sw.sweep_params(base)
    xs = sw.axis_values(params["growth_rate"], 8, 64, 40)
    ys = sw.axis_values(params["compression"], 0.1, 1.0, 40)
    grid = timed(lambda: sw.sweep(base, "growth_rate", xs, "compression", ys, 32))
    fast = timed(lambda: sw.densenet_totals(base.to_dict(), 32), 50)
    full = timed(lambda: profile(base, batch_size=32), 20)
    model = build_model(base)  # meta: nothing allocated
    flop = timed(lambda: count_flops(model, (1, 3, 224, 224)), 3)
    print(f"40x40 DenseNet sweep (1,600 configs):   {grid * 1000:8.1f} ms   target < 1 s: "
          f"{'PASS' if grid < 1 else 'FAIL'}")
    print(f"one config, fast totals:                 {fast * 1e6:8.1f} us")
    print(f"one config, full profile:                {full * 1000:8.2f} ms  ({full / fast:.0f}x the fast path)")
    print(f"one config, FlopCounterMode on meta:     {flop * 1000:8.1f} ms  (the grid costs "
          f"{grid / flop:.1f} FlopCounterMode passes)")

    from explorer.models.googlenet import PRESETS as INCEPTION_PRESETS

    g_base = INCEPTION_PRESETS["googlenet"]
    g_params = sw.sweep_params(g_base)
    g_xs = sw.axis_values(g_params["width_multiplier"], 0.25, 2.0, 40)
    g_ys = sw.axis_values(g_params["input_size"], 64, 448, 40)
    g_grid = timed(lambda: sw.sweep(g_base, "width_multiplier", g_xs, "input_size", g_ys, 8), 3)
    g_flop = timed(lambda: count_flops(build_model(g_base), (1, 3, 224, 224)), 3)
    print(f"40x40 GoogLeNet sweep (width x input):   {g_grid * 1000:8.1f} ms   target < 1 s: "
          f"{'PASS' if g_grid < 1 else 'FAIL'}  (the grid costs {g_grid / g_flop:.1f} FlopCounterMode passes)")

    names = list(reference.TORCHVISION_MODELS)
    start = time.perf_counter()
    compare.comparison_rows(names, batch_size=32)  # measures whatever is not cached yet
    first = time.perf_counter() - start
    cached = timed(lambda: compare.comparison_rows(names, batch_size=32), 5)
    print(f"ten-model comparison, first call:        {first:8.2f} s  (includes measuring uncached models)")
    print(f"ten-model comparison, cached:            {cached * 1000:8.1f} ms   target < 1 s: "
          f"{'PASS' if cached < 1 else 'FAIL'}")

    # The page's default latency request: every default model at batch 1, interleaved rounds.
    requests = [(compare.resolve_entry(n), 1, None) for n in names]
    start = time.perf_counter()
    run = latency.measure_latencies(requests, rounds=5)
    wall = time.perf_counter() - start
    print(f"latency, default selection (10 models, batch 1): {wall:6.1f} s wall, {run.rounds} of "
          f"{run.planned_rounds} rounds, budget {run.budget_s:.0f} s   target < 30 s: {'PASS' if wall < 30 else 'FAIL'}")
    print(f"  {run.summary}")
    widest = max(run.results, key=lambda x: x.spread, default=None)
    if widest is not None:
        print(f"  widest spread: {widest.name} @ batch {widest.batch_size}: middle half {widest.q1_ms:.1f}-"
              f"{widest.q3_ms:.1f} ms around {widest.median_ms:.1f} ms ({widest.spread:.0%}); "
              f"{len(run.noisy)} of {len(run.results)} flagged wide")

    from streamlit.testing.v1 import AppTest

    page = str(Path(__file__).resolve().parents[1] / "pages" / "compare.py")
    at = AppTest.from_file(page, default_timeout=300)
    at.run()
    rerun = timed(lambda: at.run(), 3)
    print(f"Compare page rerun (AppTest, all views): {rerun * 1000:8.1f} ms")


def fragment_vs_full(steps: int) -> None:
    """Median key/click -> settled of the sweep's "Steps per axis" slider (fragment rerun) and of the
    side panel's batch "+" (full rerun), alternated on one page, with the server's CPU per rerun."""
    import os
    import statistics

    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import rerun_speed as rs

    port = rs.serve.free_port()
    server = rs.serve.start_replica(port)
    url = f"http://127.0.0.1:{port}"
    try:
        rs.serve.wait_healthy(url)
        print(f"load average at the start: {os.getloadavg()} on {os.cpu_count()} cores")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=rs.CHROMIUM, args=rs.ARGS)
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.add_init_script(rs.WS_WATCH)
            page = context.new_page()
            page.goto(f"{url}/compare")
            rs.wait_idle(page)
            page.evaluate(rs.WATCH)
            plus = page.locator('[data-testid="stSidebar"] [data-testid="stNumberInput"]',
                                has_text="Batch size").locator('[data-testid="stNumberInputStepUp"]')

            def full() -> float:
                page.wait_for_timeout(rs.QUIET_MS)
                page.evaluate("() => { window.__perf.t0 = performance.now(); }")
                plus.click()
                page.wait_for_function(rs.SETTLED, polling=25, timeout=120_000)
                return page.evaluate("() => window.__perf.last - window.__perf.t0") / 1000

            times, cpu = {"sweep (fragment)": [], "batch (full rerun)": []}, {"sweep (fragment)": 0.0,
                                                                               "batch (full rerun)": 0.0}
            rs.step(page, "Steps per axis")  # first-use costs out of the way (returns seconds, bytes)
            full()
            for _ in range(steps):
                for name, action in (("sweep (fragment)", lambda: rs.step(page, "Steps per axis")[0]),
                                     ("batch (full rerun)", full)):
                    before = rs.cpu_seconds(server.pid)
                    times[name].append(action())
                    cpu[name] += rs.cpu_seconds(server.pid) - before
            for name, values in times.items():
                print(f"Compare, {name:<20} key -> settled median {1000 * statistics.median(values):7.0f} ms "
                      f"({1000 * min(values):.0f}-{1000 * max(values):.0f}); server CPU "
                      f"{1000 * cpu[name] / steps:6.0f} ms per rerun")
            print(f"load average at the end: {os.getloadavg()}")
            browser.close()
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--browser", action="store_true", help="only the fragment vs full rerun measurement")
    parser.add_argument("--steps", type=int, default=7)
    arguments = parser.parse_args()
    if arguments.browser:
        fragment_vs_full(arguments.steps)
    else:
        main()
