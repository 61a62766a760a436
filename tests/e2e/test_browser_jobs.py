"""The job layer seen from the browser (#11): while one session runs a long explanation, another
session's slider moves and Grad-CAMs keep their usual latency; a closed tab's job is cancelled; a
job over its memory limit is stopped with one line and the server stays up.

One server, started with every job's memory limit lowered to 400 MiB (``EXPLORER_JOB_MEMORY_FACTOR=0``,
``EXPLORER_JOB_HEADROOM_BYTES``: the documented knobs of ``explorer.jobs.limits``): Grad-CAM and
Occlusion on the samples fit (~0.3 GB), Integrated Gradients on a 2240 x 224 panorama does not.
Latencies are compared within this run (a generous ratio, not a time limit), and printed.
"""

from __future__ import annotations

import io
import re
import statistics
import time
import urllib.request

import pytest
from PIL import Image

from tests.helpers.browser import BROWSER, assert_no_traceback, shot, wait_for_app
from tests.helpers.server import ARTIFACTS, ROOT, served

pytestmark = BROWSER

ENV = {"EXPLORER_WORKERS": "2", "EXPLORER_SPARE_WORKERS": "1", "EXPLORER_JOB_MEMORY_FACTOR": "0",
       "EXPLORER_JOB_HEADROOM_BYTES": str(400 * 2**20)}
LOG = "streamlit-jobs.log"
EXPLAIN = "explain?model=efficientnet_lite0"


@pytest.fixture(scope="module")
def server():
    (ARTIFACTS / LOG).unlink(missing_ok=True)
    with served(LOG, env=ENV) as url:
        yield url


def new_page(browser):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(120_000)
    return page


def choose(page, label: str, option: str) -> None:
    page.locator('[data-testid="stSelectbox"]', has_text=label).click()
    page.get_by_role("option", name=option, exact=True).click()


def explained(page, file_name: str) -> None:
    """Wait for the explanation of a sample: its caption under the image."""
    page.get_by_text(re.compile(re.escape(file_name) + r" \(\d+×\d+\)")).first.wait_for(timeout=180_000)


def gradcam_seconds(page, sample: str, file_name: str) -> float:
    start = time.perf_counter()
    choose(page, "Sample image", sample)
    explained(page, file_name)
    return time.perf_counter() - start


def slider_seconds(page, key: str, k: int) -> float:
    """One step of the growth-rate slider, until the page shows the new channel count."""
    slider = page.locator('[data-testid="stSlider"]', has_text="Growth rate k").get_by_role("slider").first
    slider.focus()
    start = time.perf_counter()
    slider.press(key)
    page.get_by_text(f"64 + 6 × {k} = {64 + 6 * k}").first.wait_for(timeout=180_000)
    seconds = time.perf_counter() - start
    wait_for_app(page)
    return seconds


def running(page) -> bool:
    return page.get_by_role("button", name="Cancel").count() > 0


def log_text() -> str:
    return (ARTIFACTS / LOG).read_text(errors="replace")


def panorama_png() -> bytes:
    buffer = io.BytesIO()
    Image.open(ROOT / "assets" / "chelsea.png").convert("RGB").resize((2240, 224)).save(buffer, "PNG")
    return buffer.getvalue()


def test_long_jobs_do_not_slow_other_sessions_and_a_job_over_its_memory_is_stopped(server, browser):
    one, explain_two, densenet_two = new_page(browser), new_page(browser), new_page(browser)
    # A fresh server's first visit alone (two first visits at once can meet a half-imported `pages`).
    one.goto(f"{server}/{EXPLAIN}")
    explained(one, "chelsea.png")
    wait_for_app(one)
    # Two explanations at once: each worker loads the model (so no measurement pays for a load).
    explain_two.goto(f"{server}/{EXPLAIN}")
    choose(one, "Sample image", "coffee")
    densenet_two.goto(f"{server}/densenet")
    for page, file_name in ((one, "coffee.png"), (explain_two, "chelsea.png")):
        explained(page, file_name)
        wait_for_app(page)
    densenet_two.get_by_text("64 + 6 × 32 = 256").wait_for()
    wait_for_app(densenet_two)

    # The other session's actions alone...
    alone_slider = [slider_seconds(densenet_two, "ArrowRight", k) for k in (33, 34)]
    alone_cam = [gradcam_seconds(explain_two, s, f) for s, f in (("digit0", "digit-0.png"),
                                                                  ("digit4", "digit-4.png"))]
    # ...and while this session runs Occlusion (tens of seconds on a loaded CPU)
    choose(one, "Method", "Occlusion")
    one.get_by_role("button", name="Cancel").wait_for()
    busy_slider, busy_cam = [], []
    for k, (sample, file_name) in zip((33, 32), (("digit1", "digit-1.png"), ("digit2", "digit-2.png"))):
        seconds = slider_seconds(densenet_two, "ArrowLeft", k)
        if running(one):
            busy_slider.append(seconds)
        seconds = gradcam_seconds(explain_two, sample, file_name)
        if running(one):
            busy_cam.append(seconds)
    print(f"slider step: alone {alone_slider}, beside a long job {busy_slider}; "
          f"Grad-CAM: alone {alone_cam}, beside a long job {busy_cam} (seconds)")
    assert busy_slider and busy_cam, "the long job ended before the other session's actions"
    assert statistics.median(busy_slider) <= 3 * statistics.median(alone_slider) + 1
    assert statistics.median(busy_cam) <= 3 * statistics.median(alone_cam) + 1
    shot(one, "jobs-long-occlusion")

    # A closed tab's job is cancelled (its session goes away): start a new one, close the tab.
    choose(one, "Method", "Integrated Gradients")
    one.get_by_role("button", name="Cancel").wait_for()
    before = len(re.findall(r"job \d+: cancelled", log_text()))
    one.context.close()
    deadline = time.time() + 60
    while len(re.findall(r"job \d+: cancelled", log_text())) == before:
        assert time.time() < deadline, "the closed tab's job was not cancelled"
        time.sleep(0.5)

    # Over its memory limit: Integrated Gradients on a panorama, stopped with one line.
    three = new_page(browser)
    three.goto(f"{server}/{EXPLAIN}&method=integrated_gradients&image=upload")
    three.get_by_role("heading", name="Classify & explain").first.wait_for()
    wait_for_app(three)
    three.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(  # the image's
        files=[{"name": "panorama.png", "mimeType": "image/png", "buffer": panorama_png()}])
    error = three.locator('[data-testid="stAlertContentError"]')
    try:
        error.first.wait_for(timeout=300_000)
    finally:
        shot(three, "jobs-memory-limit")
    lines = [line for line in error.first.inner_text().splitlines() if line.strip() not in ("", "⚠️")]
    assert len(lines) == 1 and "went over its memory limit of 400 MiB" in lines[0], lines
    assert_no_traceback(three)

    # The server and the other users carry on: health, the slider, a new Grad-CAM.
    assert urllib.request.urlopen(f"{server}/_stcore/health", timeout=10).read() == b"ok"
    slider_seconds(densenet_two, "ArrowRight", 33)
    gradcam_seconds(explain_two, "digit3", "digit-3.png")
    assert_no_traceback(explain_two)
    for page in (three, explain_two, densenet_two):
        page.context.close()
