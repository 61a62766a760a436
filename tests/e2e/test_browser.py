"""End-to-end tests in a real browser: Debian's Chromium driven by Playwright against the app served
as `make run` serves it (deploy/run_streamlit.py) on a free loopback port. Screenshots land in
test-artifacts/.

Skipped (with the reason in pytest's summary) when Chromium or Playwright is missing. The server,
browser and page fixtures are tests/e2e/conftest.py's; the helpers are tests/helpers/.
"""

from __future__ import annotations

import pytest

from tests.helpers.browser import BROWSER, assert_no_traceback, set_slider, shot, wait_for_app
from tests.helpers.server import ROOT

pytestmark = BROWSER


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
