"""Jobs end with their session (#11): whatever its script is doing, a session the server no longer
has loses its queued and running jobs and its upload quota (``explorer.jobs.sessions``)."""

from __future__ import annotations

import pytest

from explorer import jobs
from explorer.jobs import Estimate, JobCancelled, MiB
from explorer.jobs.pool import LocalPool
from explorer.jobs.sessions import SessionWatcher, sweep
from tests import jobs_work as work

LONG = Estimate(16 * MiB, 30.0)  # limits far above the sleeper's 20 s: only a cancel ends it early


@pytest.fixture(scope="module")
def pool():
    backend = LocalPool(workers=1, threads=1, min_seconds=1.0, spares=1)
    old = jobs.set_runner(backend)
    yield backend
    jobs.set_runner(old)
    backend.shutdown()


def wait_running(job) -> None:
    for _ in range(1200):
        if job.progress().state == "running" and job.progress().text:
            return
        try:
            job.result(timeout=0.1)
        except TimeoutError:
            pass
    raise AssertionError(f"{job} did not start")


@pytest.mark.slow
def test_sweep_cancels_the_jobs_of_sessions_that_went_away(pool, monkeypatch):
    from explorer.jobs import quota

    uploads = quota.UploadQuota(max_bytes=10 * MiB, max_files=4)
    monkeypatch.setattr(quota, "UPLOADS", uploads)
    uploads.admit("gone", "explain_upload", "cat.png", 1000)
    uploads.admit("here", "explain_upload", "dog.png", 2000)
    running = jobs.submit(work.sleeper, 20.0, 200, cost=LONG, session="gone")
    queued = jobs.submit(work.sleeper, 20.0, 200, cost=LONG, session="gone")  # one worker: this one waits
    other = jobs.submit(work.sleeper, 20.0, 200, cost=LONG, session="here")
    wait_running(running)
    assert jobs.pending_sessions() == {"gone", "here"}
    dropped = []
    assert sweep(lambda session: session == "here", drop_uploads=dropped.append) == 2
    assert dropped == ["gone"]  # its files freed (Streamlit's store, pages/ui/uploads.py), not only counted
    for job in (running, queued):
        with pytest.raises(JobCancelled):
            job.result(timeout=60)
    assert uploads.held("gone") == (0, 0) and uploads.held("here") == (1, 2000)
    wait_running(other)  # the other session's job runs on (on the replaced worker)
    assert not other.done() and jobs.pending_sessions() == {"here"}
    assert sweep(lambda session: True) == 0
    other.cancel()


@pytest.mark.slow
def test_the_watcher_does_it_by_itself(pool):
    live = {"a", "b"}
    watcher = SessionWatcher(lambda session: session in live, interval=0.1)
    try:
        job_a = jobs.submit(work.sleeper, 20.0, 200, cost=LONG, session="a")
        job_b = jobs.submit(work.sleeper, 20.0, 200, cost=LONG, session="b")
        wait_running(job_a)
        live.discard("b")  # tab b closed while its job waits in line
        with pytest.raises(JobCancelled):
            job_b.result(timeout=60)
        assert not job_a.done()
        live.discard("a")  # and tab a while its job runs
        with pytest.raises(JobCancelled):
            job_a.result(timeout=60)
    finally:
        watcher.stop()


@pytest.mark.slow
def test_streamlit_stops_a_disconnected_sessions_script():
    """What the first line relies on (Streamlit 1.67): disconnecting a session asks its script to
    stop, and keeps it for a reconnect only as a stored (not active) session."""
    import inspect

    from streamlit.runtime.websocket_session_manager import WebsocketSessionManager

    source = inspect.getsource(WebsocketSessionManager.disconnect_session)
    assert "session.request_script_stop()" in source
    assert "del self._active_session_info_by_id[session_id]" in source
