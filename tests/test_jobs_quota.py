"""The per-session upload quota: counted on the server per file id, one line naming the file."""

import pytest

from explorer.errors import ExplorerError
from explorer.jobs.quota import QuotaError, UploadQuota

MiB = 2**20


def test_quota_counts_what_each_session_holds():
    quota = UploadQuota(max_bytes=300 * MiB, max_files=3, max_file_bytes=256 * MiB)
    quota.admit("a", "f1", "one.pth", 200 * MiB)
    quota.admit("a", "f1", "one.pth", 200 * MiB)  # the same upload seen by a rerun: counted once
    assert quota.held("a") == (1, 200 * MiB)
    quota.admit("a", "f1", "one-b.pth", 150 * MiB)  # a new file in the same picker replaces the old
    assert quota.held("a") == (1, 150 * MiB)
    quota.admit("a", "f1", "one.pth", 200 * MiB)
    with pytest.raises(QuotaError) as caught:  # 200 MB uploads in two more pickers (the probe)
        quota.admit("a", "f2", "two.pth", 200 * MiB)
    assert str(caught.value) == "two.pth: this session's uploads would take 400 MiB; the limit is 300 MiB: " \
                                "remove an upload first"
    assert isinstance(caught.value, ExplorerError) and quota.held("a") == (1, 200 * MiB)
    quota.admit("b", "f2", "two.pth", 200 * MiB)  # another session has its own quota
    quota.admit("a", "f3", "small.png", 1 * MiB)
    quota.admit("a", "f4", "small2.png", 1 * MiB)
    with pytest.raises(QuotaError, match="^small3.png: this session already holds 3 uploads, the limit"):
        quota.admit("a", "f5", "small3.png", 1)
    with pytest.raises(QuotaError, match="^huge.pth: the file is 257 MiB; one upload may be at most 256 MiB$"):
        quota.admit("c", "f6", "huge.pth", 257 * MiB)
    quota.forget("a", keep={"f3"})  # the session's widgets now hold only f3
    assert quota.held("a") == (1, 1 * MiB)
    quota.admit("a", "f2", "two.pth", 200 * MiB)
    quota.end_session("a")
    assert quota.held("a") == (0, 0)


def test_explain_page_enforces_the_quota_on_weights_uploads(monkeypatch):
    """Two weights files in one session, each under the per-file cap, together over the session's
    quota (lowered to 3 MiB here): the second is refused with one line naming it."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from explorer.jobs.quota import UPLOADS

    monkeypatch.setattr(UPLOADS, "max_bytes", 3 * MiB)
    page = str(Path(__file__).resolve().parents[1] / "pages" / "explain.py")
    at = AppTest.from_file(page, default_timeout=120)
    at.session_state["explain_model"] = "efficientnet_lite0"
    at.run()
    at.file_uploader(key="explain_weights_efficientnet_lite0").upload("first.pth", bytes(2 * MiB), "x").run()
    errors = [e.value for e in at.error]
    assert not any("quota" in e or "limit is" in e for e in errors)  # admitted (then refused as weights)
    at.selectbox(key="explain_model").set_value("densenet121").run()
    at.file_uploader(key="explain_weights_densenet121").upload("second.pth", bytes(2 * MiB), "x").run()
    errors = [e.value for e in at.error]
    refusal = "second.pth: this session's uploads would take 4 MiB; the limit is 3 MiB"
    assert any(e.startswith(refusal) for e in errors), errors
