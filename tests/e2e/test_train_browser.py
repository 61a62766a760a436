"""The Train page in a real browser (Chromium + Playwright against `streamlit run`): the live
fragment's timer (which AppTest does not run) shows the job's progress while the page stays
usable, and the page ends with the session's model. Skipped like the other browser tests."""

from __future__ import annotations

import time

from tests.helpers.browser import BROWSER, assert_no_traceback, shot, wait_for_app

pytestmark = BROWSER


def set_number(page, label: str, value: int) -> None:
    box = page.locator('[data-testid="stNumberInput"]', has_text=label).locator("input")
    box.fill(str(value))
    box.press("Enter")
    wait_for_app(page)


def test_training_shows_live_progress_and_ends_with_a_model(server, page):
    page.goto(f"{server}/train")
    page.get_by_role("heading", name="Train & observe").first.wait_for(timeout=120_000)
    wait_for_app(page)
    set_number(page, "Epochs", 1)
    set_number(page, "Time budget (s)", 5)  # the default model, stopped by its budget on a CPU
    page.get_by_role("button", name="Train").click()
    # The fragment redraws the job's progress every second, without the user doing anything.
    bar = page.locator('[data-testid="stProgress"]')
    bar.filter(has_text="step").first.wait_for(timeout=180_000)
    first = bar.first.inner_text()
    texts = {first}
    deadline = time.time() + 60
    while len(texts) < 2 and time.time() < deadline and bar.count():
        page.wait_for_timeout(500)
        if bar.count():
            texts.add(bar.first.inner_text())
    assert len(texts) >= 2 or page.get_by_text("The model of this session").count(), texts  # it moved
    assert page.get_by_role("button", name="Stop").is_visible()
    page.get_by_text("The model of this session").wait_for(timeout=240_000)
    wait_for_app(page)
    assert page.get_by_role("button", name="Download weights (.safetensors, config in the metadata)").is_visible()
    assert page.get_by_text("Trained here on digits: 1,438 training and 359 validation images").count() == 1
    assert_no_traceback(page)
    shot(page, "train-done")
