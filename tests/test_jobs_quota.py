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

