"""End-to-end tests in a real browser: Debian's Chromium driven by Playwright against the app served
as `make run` serves it (deploy/run_streamlit.py) on a free loopback port. Screenshots land in
test-artifacts/.

Skipped (with the reason in pytest's summary) when Chromium or Playwright is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed: browser tests skipped")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason="Chromium not found (apt-get install chromium): browser end-to-end tests skipped"),
]


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


@pytest.fixture(scope="module")
def server():
    port = free_port()
    process = start_server(port)
    yield f"http://127.0.0.1:{port}"
    stop_server(process)


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def wait_for_app(page, timeout_s: float = 120) -> None:
    """Wait until Streamlit has finished running the script: no 'running' indicator and no skeleton
    placeholders for a full second (the indicator appears only after a short delay)."""
    page.wait_for_selector('[data-testid="stApp"]')
    busy = "() => !!document.querySelector('[data-testid=\"stStatusWidget\"], [data-testid=\"stSkeleton\"]')"
    deadline = time.time() + timeout_s
    quiet = 0
    while quiet < 4:
        if time.time() > deadline:
            raise AssertionError("the app did not finish running in time")
        quiet = 0 if page.evaluate(busy) else quiet + 1
        page.wait_for_timeout(250)


def assert_no_traceback(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Traceback" not in page.inner_text("body")


def set_slider(page, label: str, target: int) -> None:
    """Move a slider to ``target`` with the arrow keys, one step at a time: each step reruns the
    page, and a key pressed while the slider is being redrawn can be lost."""
    slider = page.locator('[data-testid="stSlider"]', has_text=label).get_by_role("slider").first
    for _ in range(200):
        value = int(float(slider.get_attribute("aria-valuenow") or slider.get_attribute("value")))
        if value == target:
            wait_for_app(page)
            return
        slider.focus()
        slider.press("ArrowRight" if value < target else "ArrowLeft")
        page.wait_for_function(
            "([el, v]) => el && Number(el.getAttribute('aria-valuenow') ?? el.value) !== v",
            arg=[slider.element_handle(), value], timeout=30_000)
    raise AssertionError(f"could not move {label} to {target}")


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


PAGES = {  # URL path -> a heading the page shows
    "": "CNN architecture explorer",
    "home": "CNN architecture explorer",  # the home page's own name: no "Page not found" over it
    "densenet": "DenseNet builder",
    "inception": "Inception builder",
    "compare": "Compare",
    "explain": "Classify & explain",
    "train": "Train & observe",
    "learn?lang=en": "Learn",
    "practice?lang=en": "Practice",
    "glossary?lang=ja": "用語集",
}


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_opens_from_its_direct_link(server, page, path):
    page.goto(f"{server}/{path}")
    wait_for_app(page)
    page.get_by_role("heading", name=PAGES[path]).first.wait_for()
    assert_no_traceback(page)
    page.wait_for_timeout(300)  # Streamlit's "Page not found" dialog comes with the page
    assert "Page not found" not in page.inner_text("body")
    shot(page, f"page-{path.split('?')[0] or 'home'}")


def test_sidebar_lists_every_page_by_its_title(server, page):
    page.goto(server)
    wait_for_app(page)
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "streamlit app" not in nav.lower()
    for title in ("Start here", "DenseNet builder", "Inception builder", "Compare", "Classify & explain"):
        assert title in nav
    assert nav.count("Start here") == 1  # /home is a hidden copy of the home page, not a second entry


def open_page(page, url: str, heading: str) -> None:
    """Open a page and wait for its heading (a fresh server's first direct visit runs twice)."""
    page.goto(url)
    page.get_by_role("heading", name=heading).first.wait_for(timeout=120_000)
    wait_for_app(page)


def test_growth_rate_slider_changes_channels(server, page):
    open_page(page, f"{server}/densenet", "DenseNet builder")
    page.get_by_text("64 + 6 × 32 = 256").wait_for()
    set_slider(page, "Growth rate k", 12)
    page.wait_for_url(lambda url: "?k=12&" in url or url.endswith("?k=12"), timeout=120_000)  # that run finished
    page.get_by_text("64 + 6 × 12 = 136").wait_for(timeout=120_000)
    body = page.inner_text("body")
    assert "floor(0.5 × 136) = 68" in body
    # the channel-growth chart (Vega-Lite) redrawn for k = 12: its title says so, its drawing has a size
    assert "k = 12" in page.locator(".chart-title").first.inner_text()
    drawing = page.locator('[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg').first
    drawing.wait_for()
    box = drawing.bounding_box()
    assert box["width"] > 300 and box["height"] > 200, box
    assert_no_traceback(page)
    shot(page, "densenet-k12")


def test_invalid_densenet_input_shows_error_box(server, page):
    open_page(page, f"{server}/densenet", "DenseNet builder")
    field = page.locator('[data-testid="stNumberInput"]', has_text="Input size").locator("input")
    field.fill("20")
    field.press("Enter")
    wait_for_app(page)
    page.locator('[data-testid="stAlertContentError"]').first.wait_for()
    body = page.inner_text("body")
    assert "at least 29 px" in body and "64 + 6 × 32 = 256" in body  # last good view kept
    assert_no_traceback(page)
    shot(page, "densenet-error")


def image_input(page):
    return page.locator('[data-testid="stFileUploader"]', has_text="Image (JPEG").locator('input[type="file"]')


def test_explain_sample_upload_and_bad_upload(server, page, tmp_path):
    open_page(page, f"{server}/explain", "Classify & explain")
    page.locator('[data-testid="stMetricValue"]', has_text="Egyptian cat").first.wait_for()  # the sample chelsea
    page.locator('[data-testid="stImage"]').nth(1).wait_for()  # original and overlay
    assert_no_traceback(page)
    shot(page, "explain-sample")

    page.get_by_role("radiogroup", name="Image").get_by_text("Upload").click()
    wait_for_app(page)
    image_input(page).set_input_files(str(ROOT / "assets" / "coffee.png"))
    wait_for_app(page)
    page.locator('[data-testid="stMetricValue"]', has_text="espresso").first.wait_for()
    page.locator('[data-testid="stImage"]').nth(1).wait_for()
    assert_no_traceback(page)
    shot(page, "explain-upload")

    bad = tmp_path / "not-an-image.png"
    bad.write_text("this is plain text, not a PNG")
    image_input(page).set_input_files(str(bad))
    wait_for_app(page)
    page.locator('[data-testid="stAlertContentError"]').first.wait_for()
    assert_no_traceback(page)
    shot(page, "explain-bad-upload")
    # the page stays usable: a good image works again
    image_input(page).set_input_files(str(ROOT / "assets" / "chelsea.png"))
    wait_for_app(page)
    page.locator('[data-testid="stMetricValue"]', has_text="Egyptian cat").first.wait_for()
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
