"""Load test: the real app under N concurrent headless browser sessions, on loopback only.

Starts `streamlit run` on a free 127.0.0.1 port, then drives N Chromium sessions (default 10) through
the Build, Compare and Explain pages in a loop for a bounded time (default 90 s). Reports errors
(must be 0), median and p95 response times per action, and the server's peak resident memory.
Stops by itself; exits 1 if any error occurred.

    .venv/bin/python benchmarks/load_test.py [--sessions 10] [--duration 90]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mib(pid: int) -> float:
    """VmHWM: the process's peak resident set size so far."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def wait_idle(page, timeout_ms: int = 120_000) -> None:
    await page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    await page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                                 timeout=timeout_ms)


async def check_page(page) -> None:
    if await page.locator('[data-testid="stException"]').count():
        raise RuntimeError("the page shows an exception")
    if "Traceback" in await page.inner_text("body"):
        raise RuntimeError("the page shows a traceback")


async def session(browser, url: str, index: int, deadline: float, timings: dict, errors: list) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()

    async def step(name: str, action) -> None:
        start = time.perf_counter()
        try:
            await action()
            await wait_idle(page)
            await check_page(page)
            timings.setdefault(name, []).append(time.perf_counter() - start)
        except Exception as error:  # noqa: BLE001 - every failure is counted and reported
            errors.append(f"session {index}, {name}: {type(error).__name__}: {str(error).splitlines()[0][:160]}")

    async def move_growth_rate():
        slider = page.locator('[data-testid="stSlider"]', has_text="Growth rate k").get_by_role("slider")
        await slider.focus()
        await slider.press("ArrowLeft" if index % 2 else "ArrowRight")

    async def upload_sample():
        await page.get_by_role("radiogroup", name="Image").get_by_text("Upload").click()
        await wait_idle(page)
        uploader = page.locator('[data-testid="stFileUploader"]', has_text="Image (JPEG").locator('input[type="file"]')
        await uploader.set_input_files(str(ROOT / "assets" / ("chelsea.png" if index % 2 else "coffee.png")))
        await page.locator('[data-testid="stImage"]').nth(1).wait_for(timeout=120_000)

    try:
        while time.time() < deadline:
            await step("open DenseNet", lambda: page.goto(f"{url}/DenseNet"))
            await step("move growth rate", move_growth_rate)
            if (ROOT / "pages" / "compare.py").exists():
                await step("open Compare", lambda: page.goto(f"{url}/Compare"))
            if (ROOT / "pages" / "explain.py").exists():
                await step("open Explain", lambda: page.goto(f"{url}/Explain"))
                await step("upload image", upload_sample)
    finally:
        await context.close()


async def drive(url: str, sessions: int, duration: float) -> tuple[dict, list]:
    from playwright.async_api import async_playwright

    timings: dict[str, list[float]] = {}
    errors: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        deadline = time.time() + duration
        await asyncio.gather(*(session(browser, url, i, deadline, timings, errors) for i in range(sessions)))
        await browser.close()
    return timings, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--duration", type=float, default=90, help="seconds of load (the run stops by itself)")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        print("Chromium not found at /usr/bin/chromium (apt-get install chromium)")
        return 2

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.address",
                               "127.0.0.1", "--server.port", str(port), "--server.headless", "true"],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.3)
        start = time.time()
        timings, errors = asyncio.run(drive(url, args.sessions, args.duration))
        elapsed = time.time() - start
        peak = peak_rss_mib(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()

    total = sum(len(v) for v in timings.values())
    print(f"{args.sessions} sessions for {elapsed:.0f} s: {total} actions, {len(errors)} errors, "
          f"server peak memory {peak:.0f} MiB")
    print(f"{'action':<20} {'count':>6} {'median s':>9} {'p95 s':>7}")
    for name, values in timings.items():
        values = sorted(values)
        p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
        print(f"{name:<20} {len(values):>6} {statistics.median(values):>9.2f} {p95:>7.2f}")
    for error in errors[:20]:
        print("ERROR", error)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
