"""Chromium (Debian's) driven by Playwright: the marks every browser test module sets, the browser
itself, and what the browser tests do on a Streamlit page (wait for it, check it, move a slider,
take a screenshot into test-artifacts/)."""

from __future__ import annotations

import os
import shutil
import time
from contextlib import contextmanager

import pytest

from tests.helpers.server import ARTIFACTS

try:
    from playwright import sync_api as playwright_api
except ImportError:
    playwright_api = None

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

# `pytestmark = BROWSER` in a module of browser tests: skipped, with the reason in pytest's summary,
# when Playwright or Chromium is missing.
BROWSER = [
    pytest.mark.browser,
    pytest.mark.skipif(playwright_api is None, reason="Playwright is not installed: browser tests skipped"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason="Chromium not found (apt-get install chromium): browser end-to-end tests skipped"),
]


@contextmanager
def chromium():
    """A headless Chromium, closed after."""
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


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


def overlapping(boxes, slack: float = 0.5):
    """The pairs of texts whose boxes ({text, left, right, top, bottom}) overlap by more than ``slack`` px."""
    pairs = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if (min(a["right"], b["right"]) - max(a["left"], b["left"]) > slack
                    and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > slack):
                pairs.append((a["text"], b["text"]))
    return pairs


# The two screen sizes every layout check runs at: a desktop browser and a phone.
SIZES = {"desktop": dict(width=1400, height=1000), "phone": dict(width=390, height=844)}


def sized_page(browser, size: str):
    """A new page at one of ``SIZES`` (a phone: touch, mobile viewport), ``page.size_name`` set;
    its context is closed after the test (use with ``yield from`` in a fixture)."""
    context = browser.new_context(viewport=SIZES[size], is_mobile=size == "phone", has_touch=size == "phone")
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.size_name = size
    yield page
    context.close()

