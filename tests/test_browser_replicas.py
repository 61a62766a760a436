"""Two replicas behind nginx (deploy/serve.py, what `make serve` runs), in a real browser: two visitors
land on different replicas, each keeps its own state, a slider moves, an explanation runs (its images
are media files of the visitor's replica: they load only if the affinity holds)."""

from __future__ import annotations

import shutil
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.test_browser import (CHROMIUM, CHROMIUM_ARGS, assert_no_traceback, playwright_api, pytestmark, shot,
                                wait_for_app)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy"))
import serve  # noqa: E402

__all__ = ["pytestmark"]

if not (shutil.which("nginx") or Path(serve.NGINX).exists()):
    print("nginx not found (apt-get install nginx): the replica browser test is skipped")
    pytestmark = [*pytestmark, pytest.mark.skip(reason="nginx not found (apt-get install nginx)")]


def replica_for(url: str, key: str) -> str:
    """Which replica nginx sends a visitor with this affinity cookie to (its X-Explorer-Replica header)."""
    request = urllib.request.Request(f"{url}/", headers={"Cookie": f"explorer_replica={key}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert f"explorer_replica={key}" in response.headers["Set-Cookie"]
        return response.headers["X-Explorer-Replica"]


def headline(page) -> list[str]:
    return page.locator('[data-testid="stMetricValue"]').all_inner_texts()


def press(page, label: str, key: str, times: int) -> None:
    """One key at a time, each rerun finished before the next (a press during a rerun can be lost)."""
    slider = page.locator('[data-testid="stSlider"]', has_text=label).get_by_role("slider").first
    for _ in range(times):
        slider.focus()
        slider.press(key)
        wait_for_app(page)


def test_two_visitors_on_two_replicas_keep_their_own_state():
    with serve.deployment(replicas=2, warm=False) as url:
        # a fresh visitor gets a cookie, and the same cookie always reaches the same replica
        with urllib.request.urlopen(f"{url}/", timeout=30) as response:
            assert response.headers["Set-Cookie"].startswith("explorer_replica=")
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert "frame-ancestors" in response.headers["Content-Security-Policy"]
        with pytest.raises(urllib.error.HTTPError) as closed:
            urllib.request.urlopen(f"{url}/_stcore/metrics", timeout=30)
        assert closed.value.code == 404
        keys = {}
        for i in range(64):
            keys.setdefault(replica_for(url, f"visitor{i}"), f"visitor{i}")
            if len(keys) == 2:
                break
        assert set(keys) == {"1", "2"}, "64 keys all hashed to one replica"
        assert all(replica_for(url, key) == replica for replica, key in keys.items() for _ in range(3))

        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pages = {}
            for replica, key in keys.items():
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                context.add_cookies([{"name": "explorer_replica", "value": key, "url": url}])
                page = context.new_page()
                page.set_default_timeout(120_000)
                page.goto(f"{url}/densenet")
                page.get_by_text("64 + 6 × 32 = 256").wait_for()
                wait_for_app(page)
                pages[replica] = page
            one, two = pages["1"], pages["2"]
            press(one, "Growth rate k", "ArrowLeft", 2)  # 32 -> 30 on replica 1
            one.get_by_text("64 + 6 × 30 = 244").wait_for()
            press(two, "Growth rate k", "ArrowRight", 2)  # 32 -> 34 on replica 2
            two.get_by_text("64 + 6 × 34 = 268").wait_for()
            press(one, "Growth rate k", "ArrowLeft", 1)  # each session moves on from its own state
            one.get_by_text("64 + 6 × 29 = 238").wait_for()
            assert two.get_by_text("64 + 6 × 34 = 268").count() == 1
            assert one.url.endswith("/densenet?k=29") and two.url.endswith("/densenet?k=34")
            assert headline(one) != headline(two)

            two.goto(f"{url}/explain")  # an explanation on replica 2, its images served by replica 2
            two.get_by_role("heading", name="Classify & explain").first.wait_for()
            wait_for_app(two, 240)
            images = two.locator('[data-testid="stImage"] img')
            images.nth(1).wait_for()
            assert two.evaluate("() => [...document.querySelectorAll('[data-testid=\"stImage\"] img')]"
                                ".every(img => img.complete && img.naturalWidth > 0)")
            assert two.locator('[data-testid="stMetricValue"]').first.inner_text().strip()
            assert_no_traceback(two)
            assert_no_traceback(one)
            shot(two, "replicas-explain")
            browser.close()
