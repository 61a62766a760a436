"""Two replicas behind nginx, as `make serve` runs them (deploy/serve.py), in Chromium.

Two visitors land on different replicas (the affinity cookie picks one; nginx names it in the
X-Explorer-Replica header), each keeps its own settings across reruns, a slider moves, and an
explanation runs (Grad-CAM on the sample with the offline EfficientNet-Lite0), its images served by
the visitor's own replica (a media file asked of the other replica would not exist there).

Skipped (with the reason) when nginx, Chromium or Playwright is missing.
"""

from __future__ import annotations

import os
import sys
import urllib.request

import pytest

from tests.helpers.browser import BROWSER, assert_no_traceback, set_slider, shot, wait_for_app
from tests.helpers.server import ROOT

sys.path.insert(0, str(ROOT / "deploy"))

import serve  # noqa: E402

pytestmark = [
    *BROWSER,
    pytest.mark.skipif(not os.path.exists(serve.NGINX), reason="nginx not found (apt-get install nginx)"),
]
COOKIE = "explorer_replica"


def replica_for(url: str, key: str) -> str:
    """Which replica nginx sends a visitor with this affinity cookie to (its X-Explorer-Replica)."""
    request = urllib.request.Request(f"{url}/_stcore/health", headers={"Cookie": f"{COOKIE}={key}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.headers["X-Explorer-Replica"]


@pytest.fixture(scope="module")
def balancer():
    with serve.deployment(2, warm=False) as url:
        yield url


def visitor(browser, url: str, key: str):
    """A browser of its own (its own cookies), holding the affinity cookie ``key``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_cookies([{"name": COOKIE, "value": key, "url": url}])
    page = context.new_page()
    page.set_default_timeout(120_000)
    return page


def test_a_new_visitor_gets_an_affinity_cookie(balancer):
    with urllib.request.urlopen(f"{balancer}/_stcore/health", timeout=10) as answer:
        cookie = next(c for c in answer.headers.get_all("Set-Cookie") if c.startswith(f"{COOKIE}="))
        assert "HttpOnly" in cookie
        assert answer.headers["X-Explorer-Replica"] in ("1", "2")
        key = cookie.split(";")[0].split("=", 1)[1]
    # the same cookie, the same replica, every time
    assert {replica_for(balancer, key) for _ in range(5)} == {answer.headers["X-Explorer-Replica"]}


def test_two_visitors_on_two_replicas_keep_their_own_state(balancer, browser):
    keys = {}
    for i in range(64):  # consistent hashing: find one cookie value for each replica
        keys.setdefault(replica_for(balancer, f"visitor-{i}"), f"visitor-{i}")
        if len(keys) == 2:
            break
    assert set(keys) == {"1", "2"}, keys
    first, second = visitor(browser, balancer, keys["1"]), visitor(browser, balancer, keys["2"])
    try:
        for page, replica in ((first, "1"), (second, "2")):
            answer = page.goto(f"{balancer}/densenet")
            assert answer.headers["x-explorer-replica"] == replica
            page.get_by_role("heading", name="DenseNet builder").first.wait_for()
            wait_for_app(page)
            page.get_by_text("64 + 6 × 32 = 256").wait_for()

        set_slider(first, "Growth rate k", 33)  # a slider moves on replica 1...
        first.get_by_text("64 + 6 × 33 = 262").wait_for()
        set_slider(second, "Growth rate k", 30)  # ...and another on replica 2
        second.get_by_text("64 + 6 × 30 = 244").wait_for()

        # more reruns on each: the other visitor's settings never leak in, each keeps its own
        first.locator('[data-testid="stButtonGroup"] button', has_text="Memory").first.click()
        wait_for_app(first)
        first.locator(".st-key-chart_memory_block").wait_for()
        assert "64 + 6 × 33 = 262" in first.inner_text("body")
        assert "k=33" in first.url and "chart=memory" in first.url
        second.get_by_text("64 + 6 × 30 = 244").wait_for()
        assert "k=30" in second.url and "chart=" not in second.url

        # an explanation on replica 2: the offline model, Grad-CAM on the sample; its images are
        # media files kept by the replica that holds the session
        answer = second.goto(f"{balancer}/explain?model=efficientnet_lite0&method=gradcam")
        assert answer.headers["x-explorer-replica"] == "2"
        second.get_by_role("heading", name="Classify & explain").first.wait_for()
        second.locator('[data-testid="stMetricValue"]', has_text="Egyptian cat").first.wait_for(timeout=300_000)
        images = second.locator('[data-testid="stImage"] img')
        images.nth(1).wait_for()
        second.wait_for_function("""() => { const all = document.querySelectorAll('[data-testid="stImage"] img');
            return all.length >= 2 && [...all].every(i => i.complete && i.naturalWidth > 0); }""")
        assert_no_traceback(second)
        shot(second, "replicas-explain")

        # back on replica 1, its visitor's work is still there (the same session, reruns included)
        set_slider(first, "Growth rate k", 34)
        first.get_by_text("64 + 6 × 34 = 268").wait_for()
        assert_no_traceback(first)
    finally:
        first.context.close()
        second.context.close()


def test_nginx_bounds_request_bodies_behind_the_apps_quota(balancer):
    """Issue #24: the app counts every upload against its session's quota (tests/unit/test_jobs_quota.py);
    nginx is the second line: from its Content-Length, an upload over 257 MiB or any other body
    over 1 MiB is refused before a replica sees it, and a small upload goes through to Streamlit."""
    import http.client

    host, port = balancer.split("//")[1].split(":")

    def put(path: str, length: int, body: bytes = b"") -> int:
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        connection.putrequest("PUT", path)
        connection.putheader("Content-Length", str(length))
        connection.endheaders(body or None)
        return connection.getresponse().status

    assert put("/_stcore/upload_file/a-session/a-file", 258 * 2**20) == 413
    assert put("/_stcore/health", 2 * 2**20) == 413
    assert put("/_stcore/upload_file/a-session/a-file", 1024, b"\0" * 1024) in (400, 403)  # Streamlit's answer
