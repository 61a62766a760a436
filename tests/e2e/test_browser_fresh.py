"""A freshly started server with empty caches, as a new machine meets its first visitors (issue #23):
the app's own menu from the very first paint (never Streamlit's list of the files in pages/), and
every page at 390 px in Japanese without an exception or error box at any moment of its loading.
The server is started as `make run` starts it, with new, empty EXPLORER_CACHE_DIR and TORCH_HOME."""

from __future__ import annotations

import re
import time

import pytest

from tests.helpers.browser import BROWSER, chromium, shot, wait_for_app
from tests.helpers.server import ARTIFACTS, served

pytestmark = BROWSER

# Records, from before the page's own scripts run, every sidebar or top menu entry and every
# exception or error box that is ever added to the page, even one replaced a moment later.
WATCH = """
window.__seen = {nav: [], errors: []};
const NAV = '[data-testid="stSidebarNavLink"], [data-testid="stTopNavLink"], [data-testid="stTopNavDropdownLink"]';
const ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]';
const look = (node) => {
  if (!(node instanceof Element)) return;
  for (const [selector, list] of [[NAV, window.__seen.nav], [ERRORS, window.__seen.errors]]) {
    const found = node.matches(selector) ? [node] : [...node.querySelectorAll(selector)];
    for (const element of found) {
      const text = element.textContent.trim().slice(0, 200);
      if (!list.includes(text)) list.push(text);
    }
  }
};
new MutationObserver((records) => {
  for (const record of records) {
    record.addedNodes.forEach(look);
    if (record.type === 'characterData') look(record.target.parentElement);
  }
}).observe(document, {childList: true, subtree: true, characterData: true});
"""
SEEN = "() => window.__seen"
# The script's state as the app's root element says it: at 390 px Streamlit draws no running indicator,
# so wait_for_app alone would stop while a page still waits for its job (the Compare and Explain pages).
RUNNING = """() => document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState === 'running'"""

# Streamlit's names for the files of pages/ and for the main script (in lower case, as it shows them):
# its own menu before the app's.
RAW_NAMES = {"streamlit app", "catalog", "layout", "settings", "compare", "densenet", "explain", "glossary",
             "inception", "learn", "practice", "train"}

# URL path -> the page's title in Japanese (explorer/locale/ja): the heading it shows
PAGES_JA = {"": "CNN アーキテクチャ・エクスプローラー", "densenet": "DenseNet の構築", "inception": "Inception の構築",
            "compare": "比較", "explain": "分類と説明", "train": "学習して観察", "learn": "学ぶ", "practice": "練習問題",
            "glossary": "用語集"}


def settle(page, timeout_s: float = 300) -> None:
    """Wait until the page's script has stopped running for a second (and wait_for_app's checks)."""
    deadline = time.time() + timeout_s
    quiet = 0
    while quiet < 4:
        assert time.time() < deadline, "the page did not finish running in time"
        quiet = 0 if page.evaluate(RUNNING) else quiet + 1
        page.wait_for_timeout(250)
    wait_for_app(page, timeout_s)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """(URL, what the server's very first visitor saw) of a server started on empty caches."""
    env = {"EXPLORER_CACHE_DIR": str(tmp_path_factory.mktemp("cache")),
           "TORCH_HOME": str(tmp_path_factory.mktemp("torch"))}
    (ARTIFACTS / "streamlit-fresh.log").unlink(missing_ok=True)  # the log of this server only
    with served("streamlit-fresh.log", env=env) as url:
        with chromium() as browser:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.add_init_script(WATCH)
            page = context.new_page()
            page.set_default_timeout(120_000)
            page.goto(url)
            page.locator('[data-testid="stSidebarNavLink"]').first.wait_for()
            wait_for_app(page)
            first_visit = page.evaluate(SEEN)
            shot(page, "fresh-first-visit")
        yield url, first_visit


def test_the_first_visitor_sees_only_the_apps_menu(fresh):
    """Under a bare `streamlit run` the first paint listed "streamlit app, catalog, compare, ...,
    layout, settings" (the files of pages/) until the app's navigation replaced it."""
    _, seen = fresh
    names = {re.sub(r"^\W+", "", name) for name in seen["nav"]}  # without the icon
    assert not names & RAW_NAMES, seen["nav"]
    assert names == {"Start here", "DenseNet builder", "Inception builder", "Compare", "Classify & explain",
                     "Train & observe", "Learn", "Practice", "Glossary"}, seen["nav"]
    assert seen["errors"] == []
    log = (ARTIFACTS / "streamlit-fresh.log").read_text()
    assert "explorer start-up: imports done" in log and "objects frozen" in log  # the launcher's line


@pytest.mark.slow
def test_every_page_on_a_phone_in_japanese_without_an_error(fresh):
    url, _ = fresh
    with chromium() as browser:
        problems = {}
        for path, heading in PAGES_JA.items():
            context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ja-JP")
            context.add_init_script(WATCH)
            page = context.new_page()
            page.set_default_timeout(180_000)
            page.goto(f"{url}/{path}?lang=ja")
            page.get_by_role("heading", name=heading).first.wait_for()
            settle(page)
            errors = page.evaluate(SEEN)["errors"]
            if errors or "Traceback" in page.inner_text("body"):
                problems[path or "home"] = errors or ["Traceback"]
            shot(page, f"fresh-ja-390-{path or 'home'}")
            context.close()
    assert problems == {}
