"""The per-session upload quota (issue #24): every byte a session makes the server hold is counted
per file id, before it is kept, refused with one line naming the file, and freed with the session."""

from __future__ import annotations

import asyncio
import http.client
import re
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from explorer.errors import ExplorerError
from explorer.jobs.quota import QuotaError, UploadQuota

MiB = 2**20
ROOT = Path(__file__).resolve().parents[2]


def test_quota_counts_what_each_session_holds():
    quota = UploadQuota(max_bytes=300 * MiB, max_files=3, max_file_bytes=256 * MiB)
    assert quota.admit("a", "id1", "one.pth", 200 * MiB) is None
    quota.admit("a", "id1", "one.pth", 200 * MiB)  # the same file seen again (PUT, then the page): counted once
    assert quota.held("a") == (1, 200 * MiB)
    with pytest.raises(QuotaError) as caught:  # 200 MB more without a widget (the probe)
        quota.admit("a", "id2", "two.pth", 200 * MiB)
    assert str(caught.value) == "two.pth: this session's uploads would take 400 MiB; the limit is 300 MiB: " \
                                "remove an upload first"
    assert isinstance(caught.value, ExplorerError) and quota.held("a") == (1, 200 * MiB)
    quota.admit("b", "id2", "two.pth", 200 * MiB)  # another session has its own quota
    quota.admit("a", "id3", "small.png", 1 * MiB)
    quota.admit("a", "id4", "small2.png", 1 * MiB)
    with pytest.raises(QuotaError, match="^small3.png: this session already holds 3 uploads, the limit"):
        quota.admit("a", "id5", "small3.png", 1)
    with pytest.raises(QuotaError, match="^huge.pth: the file is 257 MiB; one upload may be at most 256 MiB$"):
        quota.admit("c", "id6", "huge.pth", 257 * MiB)
    quota.release("a", "id1")  # deleted
    assert quota.held("a") == (2, 2 * MiB)
    quota.end_session("a")
    assert quota.held("a") == (0, 0) and quota.sessions() == {"b"}


def test_a_new_file_in_a_picker_replaces_its_old_one():
    quota = UploadQuota(max_bytes=300 * MiB, max_files=8)
    assert quota.admit("a", "id1", "one.pth", 200 * MiB, slot="weights") is None
    # the picker's old file is released (and named, so the page drops its bytes) before the new one counts
    assert quota.admit("a", "id2", "one-b.pth", 250 * MiB, slot="weights") == "id1"
    assert quota.held("a") == (1, 250 * MiB) and quota.admit("a", "id2", "one-b.pth", 250 * MiB, "weights") is None


def test_uploads_being_received_count_too():
    """Several PUTs at once: each is reserved at its declared length before its body is kept."""
    quota = UploadQuota(max_bytes=300 * MiB, max_files=8)
    quota.reserve("a", "id1", 200 * MiB)
    with pytest.raises(QuotaError, match="would take 400 MiB; the limit is 300 MiB"):
        quota.reserve("a", "id2", 200 * MiB)
    quota.admit("a", "id1", "one.pth", 199 * MiB)  # arrived: counted at its real size, the reservation gone
    quota.unreserve("a", "id1")
    assert quota.held("a") == (1, 199 * MiB)
    quota.reserve("a", "id3", 100 * MiB)
    quota.unreserve("a", "id3")  # broken off: nothing left of it
    assert quota.held("a") == (1, 199 * MiB)
    quota.release("a", "id1")
    assert quota.sessions() == set()  # nothing held, nothing kept


def test_the_streamlit_internals_the_hook_relies_on():
    """pages/ui/uploads.py reaches into Streamlit (checked against 1.67.0). If this fails after an
    upgrade, re-read Streamlit's upload route and file manager and adjust that module."""
    import inspect

    import streamlit
    import streamlit.web.server.server as server
    import streamlit.web.server.starlette.starlette_app as app
    import streamlit.web.server.starlette.starlette_routes as routes
    from streamlit.runtime.app_session import AppSession
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager

    assert streamlit.__version__ == "1.67.0", "Streamlit changed: re-check pages/ui/uploads.py, then this test"
    assert "MemoryUploadedFileManager(UPLOAD_FILE_ENDPOINT)" in inspect.getsource(server.Server.__init__)
    assert "create_upload_routes(runtime, upload_mgr, base_url)" in inspect.getsource(app)
    put = inspect.getsource(routes.create_upload_routes)
    for needed in ('request.path_params["session_id"]', 'request.path_params["file_id"]', "upload_mgr.add_file(",
                   'methods=["PUT"]', "upload_mgr.remove_file("):
        assert needed in put, needed
    assert "self._uploaded_file_mgr.remove_session_files(self.id)" in inspect.getsource(AppSession.shutdown)
    for method in ("add_file", "remove_file", "remove_session_files"):
        assert method in vars(MemoryUploadedFileManager)
    manager = MemoryUploadedFileManager("/x")
    assert hasattr(manager, "_lock") and manager.file_storage == {}


def test_installed_on_a_running_server_it_counts_what_is_already_held(monkeypatch):
    """A plain `streamlit run` gets the hook at its first script run: the live manager's class is
    swapped and the files it already holds are counted, those over the quota dropped."""
    from unittest.mock import MagicMock

    from streamlit.runtime import Runtime
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
    from streamlit.runtime.uploaded_file_manager import UploadedFileRec

    from explorer.jobs import quota
    from pages.ui import uploads

    small = UploadQuota(max_bytes=3 * MiB, max_files=8)
    monkeypatch.setattr(quota, "UPLOADS", small)
    monkeypatch.setattr(uploads, "UPLOADS", small)
    monkeypatch.setattr(uploads, "watch", lambda: None)
    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    for i in range(5):
        manager.add_file("s", UploadedFileRec(f"id{i}", f"f{i}.bin", "application/octet-stream", b"\0" * MiB))
    runtime = MagicMock()
    runtime.uploaded_file_mgr = manager
    monkeypatch.setattr(Runtime, "_instance", runtime)
    uploads.install()
    assert isinstance(manager, uploads.CountedUploadedFileManager)
    assert small.held("s") == (3, 3 * MiB) and len(manager.file_storage["s"]) == 3
    manager.remove_session_files("s")
    assert small.held("s") == (0, 0) and not manager.file_storage


# --- a real server: PUTs without any widget -------------------------------------------------------

def _put(url: str, session: str, cookie: str, size: int, file_id: str | None = None,
         chunked: bool = False) -> tuple[int, str]:
    """PUT one file of ``size`` bytes to Streamlit's upload route, as the browser does."""
    host, port = url.split("//")[1].split(":")
    boundary = uuid.uuid4().hex
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="w.pth"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    body = head + b"\0" * size + f"\r\n--{boundary}--\r\n".encode()
    token = cookie.split("=", 1)[1]
    connection = http.client.HTTPConnection(host, int(port), timeout=120)
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "X-Xsrftoken": token,
               "Cookie": cookie}
    connection.request("PUT", f"/_stcore/upload_file/{session}/{file_id or uuid.uuid4()}",
                       body=iter([body]) if chunked else body, headers=headers, encode_chunked=chunked)
    answer = connection.getresponse()
    return answer.status, answer.read().decode(errors="replace")


def _request(url: str, method: str, path: str, cookie: str) -> int:
    host, port = url.split("//")[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    connection.request(method, path, headers={"X-Xsrftoken": cookie.split("=", 1)[1], "Cookie": cookie})
    return connection.getresponse().status


def _held_bytes(url: str) -> int:
    """What Streamlit's upload store holds, from its metrics (cached by the server for 5 s)."""
    time.sleep(5.5)
    text = urllib.request.urlopen(f"{url}/_stcore/metrics", timeout=10).read().decode()
    found = re.search(r'cache_memory_bytes\{cache_type="UploadedFileManager",cache="[^"]*"\} (\d+)', text)
    return int(found.group(1)) if found else 0


@pytest.fixture(scope="module")
def small_quota_server():
    """The app as `make run` serves it, with a 3 MiB quota per session (fast to fill)."""
    from tests.helpers.server import served

    with served("streamlit-quota.log", env={"EXPLORER_SESSION_UPLOAD_BYTES": str(3 * MiB)}) as url:
        yield url


@pytest.mark.slow
def test_puts_without_a_widget_stay_within_the_quota_and_go_with_the_session(small_quota_server):
    sys.path.insert(0, str(ROOT / "deploy"))
    from stclient import Client

    url = small_quota_server
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as answer:
        cookie = next(c.split(";")[0] for c in answer.headers.get_all("Set-Cookie") if c.startswith("_streamlit_xsrf="))

    async def scenario():
        client = await Client.open(url, "glossary", timeout=300)
        session = client.session_id
        statuses = [_put(url, session, cookie, MiB, file_id=f"{session}-{i}")[0] for i in range(5)]
        refused = _put(url, session, cookie, MiB)
        held = _held_bytes(url)
        deleted = _request(url, "DELETE", f"/_stcore/upload_file/{session}/{session}-0", cookie)
        statuses.append(_put(url, session, cookie, MiB)[0])  # room again: the deleted file was released
        chunked = _put(url, session, cookie, 1000, chunked=True)[0]
        await client.close()
        return statuses, refused, held, deleted, chunked, _held_bytes(url)

    statuses, refused, held, deleted, chunked, after = asyncio.run(scenario())
    assert statuses == [204, 204, 204, 413, 413, 204] and deleted == 204  # 3 x 1 MiB fill the 3 MiB
    assert refused[0] == 413 and "the limit is 3 MiB" in refused[1]
    assert held == 3 * MiB  # the store holds no more than the quota
    assert chunked == 411  # a body of unknown length is not read at all
    assert after == 0  # the closed tab's files are gone within seconds (Streamlit alone kept them)

    async def parallel():
        client = await Client.open(url, "glossary", timeout=300)
        results = []
        threads = [threading.Thread(target=lambda: results.append(_put(url, client.session_id, cookie, MiB)[0]))
                   for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        held = _held_bytes(url)
        await client.close()
        return sorted(results), held

    results, held = asyncio.run(parallel())
    assert results.count(204) <= 3 and held <= 3 * MiB  # six at once: still no more than the quota
