"""The end-to-end tier (browser, nginx, replicas, start-up): every test here is marked slow, and the
fixtures its browser tests share. A module's own ``server`` or ``page`` fixture replaces these."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.browser import chromium
from tests.helpers.server import served

HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before `-m "not slow"` deselects
def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="module")
def server():
    """The URL of the app served as `make run` serves it, for the module's tests."""
    with served() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()
