"""The user's work survives, in a real browser: page changes, F5, a copied link in a new browser,
and a restart of the server (the state lives in the address)."""

from __future__ import annotations

import re

from tests.helpers.browser import BROWSER, assert_no_traceback, chromium, set_slider, shot, wait_for_app
from tests.helpers.server import free_port, start_server, stop_server

pytestmark = BROWSER


def headline(page) -> list[str]:
    return page.locator('[data-testid="stMetricValue"]').all_inner_texts()


def nav(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=title).first.wait_for()
    wait_for_app(page)


def test_settings_survive_page_changes_reloads_links_and_restarts():
    port = free_port()
    # a bare `streamlit run`: pages.ui.page brings a first direct visit into the navigation
    server = start_server(port, "streamlit-state.log", plain=True)
    url = f"http://127.0.0.1:{port}"
    try:
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(f"{url}/densenet")  # a fresh server's first visitor comes by a direct link
            page.get_by_role("heading", name="DenseNet builder").first.wait_for()
            wait_for_app(page)
            set_slider(page, "Growth rate k", 24)
            page.get_by_text("64 + 6 × 24 = 208").wait_for()
            page.wait_for_url(re.compile(r"/densenet\?k=24(&lang=en)?$"))  # every page keeps the language
            numbers = headline(page)

            nav(page, "Inception builder")
            set_slider(page, "#5×5 reduce", 20)
            page.wait_for_url(lambda u: "widths=64%2C96%2C128%2C20%2C32%2C32" in u or "widths=64,96,128,20,32,32" in u)
            wait_for_app(page)
            module_numbers = headline(page)

            nav(page, "DenseNet builder")  # come back: k is still 24
            page.get_by_text("64 + 6 × 24 = 208").wait_for()
            assert headline(page) == numbers and "k=24" in page.url
            nav(page, "Inception builder")
            assert headline(page) == module_numbers
            nav(page, "DenseNet builder")

            page.reload()  # F5: a new session, the address brings the page back
            page.get_by_text("64 + 6 × 24 = 208").wait_for()
            wait_for_app(page)
            assert headline(page) == numbers
            link = page.locator('[data-testid="stSidebar"] [data-testid="stCode"]').first
            page.get_by_text("Share this view").click()
            shared = link.inner_text().strip()
            assert shared.endswith("/densenet?k=24"), shared

            other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            other.goto(shared)  # the copied link in a new browser context
            other.get_by_text("64 + 6 × 24 = 208").wait_for(timeout=120_000)
            wait_for_app(other)
            assert headline(other) == numbers
            other.context.close()

            stop_server(server)  # a restart loses nothing the user can see
            server = start_server(port, "streamlit-state.log", plain=True)
            page.reload()
            page.get_by_text("64 + 6 × 24 = 208").wait_for(timeout=120_000)
            wait_for_app(page)
            assert headline(page) == numbers
            assert_no_traceback(page)
            shot(page, "state-after-restart")

            # a build added (F5 on Compare starts a new session: only its address survives) to the comparison is part of the Compare page's address
            page.get_by_text("Downloads, load a config, add to Compare").click()
            page.get_by_label("Name").fill("my k24")
            page.get_by_role("button", name="Add to comparison").click()
            page.get_by_text("Added").first.wait_for()
            nav(page, "Compare")
            page.wait_for_url(lambda u: "build1=my" in u)
            page.get_by_text("my k24").first.wait_for()
            page.reload()
            page.get_by_role("heading", name="Compare").first.wait_for()
            wait_for_app(page)
            assert "build1=my" in page.url
            page.get_by_text("my k24").first.wait_for()
            assert_no_traceback(page)
            shot(page, "state-compare-after-reload")
    finally:
        stop_server(server)
