"""Jobs end with their session.

When a browser tab closes, Streamlit (1.67, ``WebsocketSessionManager.disconnect_session``) asks
the session's script to stop and keeps the session for a possible reconnect (2 minutes); a
stopped script raises ``StopException`` at its next screen update, which ``pages.ui.jobs.run_job`` turns
into a cancel. This watcher is the second line, for whatever the first misses (a script stuck
outside that loop, a job submitted by a thread): every ``interval`` seconds it cancels the queued
and running jobs of every session the server no longer has live, and drops its uploads.
``is_live(session)`` is the server's answer (``Runtime.is_active_session``, thread-safe);
``drop_uploads(session)`` frees the session's uploaded files (Streamlit's, ``pages/ui/uploads.py``):
Streamlit frees them only when it shuts a session down, which a closed tab's session, kept for a
reconnect, never is once that window lapses (issue #24).
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

log = logging.getLogger("explorer.jobs")


def sweep(is_live: Callable[[str], bool], drop_uploads: Callable[[str], None] | None = None) -> int:
    """One pass: cancel the jobs of sessions that are not live and drop their uploads (the files
    through ``drop_uploads``, and their quota); returns how many jobs it cancelled."""
    from . import cancel_session, pending_sessions
    from .quota import UPLOADS

    cancelled = 0
    for session in pending_sessions() | UPLOADS.sessions():
        if session is None or is_live(session):
            continue
        count = cancel_session(session)
        if drop_uploads is not None:
            drop_uploads(session)
        UPLOADS.end_session(session)
        if count:
            log.info("session %s went away: %d job(s) cancelled", session, count)
        cancelled += count
    return cancelled


class SessionWatcher:
    """A daemon thread running ``sweep(is_live, drop_uploads)`` every ``interval`` seconds until ``stop()``."""

    def __init__(self, is_live: Callable[[str], bool], interval: float = 2.0,
                 drop_uploads: Callable[[str], None] | None = None) -> None:
        self.is_live, self.interval, self.drop_uploads = is_live, interval, drop_uploads
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="explorer-session-watcher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                sweep(self.is_live, self.drop_uploads)
            except Exception:  # noqa: BLE001 - the watcher must outlive one bad pass
                log.exception("session watcher")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


_watcher: SessionWatcher | None = None
_watcher_lock = threading.Lock()


def watch_sessions(is_live: Callable[[str], bool], interval: float = 2.0,
                   drop_uploads: Callable[[str], None] | None = None) -> SessionWatcher:
    """The process's watcher, started on the first call (later calls return it)."""
    global _watcher
    with _watcher_lock:
        if _watcher is None:
            _watcher = SessionWatcher(is_live, interval, drop_uploads)
        return _watcher
