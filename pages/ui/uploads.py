"""Every byte a session uploads counts against its quota before Streamlit keeps it (issue #24).

Why this reaches into Streamlit (through ``pages.ui.streamlit_internals``, checked against Streamlit
1.67.0; tests/unit/test_jobs_quota.py fails when what it relies on changes): Streamlit keeps every file PUT to
``/_stcore/upload_file/<session>/<file id>`` in its ``MemoryUploadedFileManager``, whether or not a
widget ever reads it, and frees a session's files only when it shuts the session down, which it
never does for a closed tab's session once its reconnect window lapses. Five 200 MiB PUTs that no
widget read kept 1 GB in the server after the tab closed. Here, against
``explorer.jobs.quota.UPLOADS`` (8 files, 300 MiB per session):

- the PUT route reserves the request's declared length before its body is kept (413 when over,
  411 without a Content-Length), so neither one upload nor several at once go over;
- the manager counts each file before storing it (413 when over) and releases it when deleted or
  when its session's files go (``CountedUploadedFileManager``);
- the session watcher (``explorer.jobs.sessions``) drops the files of sessions the server no
  longer has, started with the first stored file.

``install()`` puts these in place: before the server starts (deploy/run_streamlit.py, which
`make run` and `make serve` use), all of them; on a running server (plain `streamlit run`, called
from the first script run), the manager only: its class is swapped and what it holds is counted.
"""

from __future__ import annotations

import functools

from explorer.jobs.quota import UPLOADS, QuotaError
from pages.ui import streamlit_internals

MemoryUploadedFileManager = streamlit_internals.upload_store_class()

_FRAMING_BYTES = 4096  # a multipart body's boundary lines and part headers around the file


def _too_large(error: QuotaError):
    from starlette.exceptions import HTTPException

    return HTTPException(status_code=413, detail=str(error))


class CountedUploadedFileManager(MemoryUploadedFileManager):
    """Streamlit's in-memory upload store, each file counted against its session's quota."""

    def add_file(self, session_id, file) -> None:
        try:
            UPLOADS.admit(session_id, file.file_id, file.name, len(file.data))
        except QuotaError as error:
            raise _too_large(error) from None
        watch()
        super().add_file(session_id, file)
        if not UPLOADS.holds(session_id, file.file_id):  # the session ended while it was stored
            super().remove_file(session_id, file.file_id)

    def remove_file(self, session_id, file_id) -> None:
        super().remove_file(session_id, file_id)
        UPLOADS.release(session_id, file_id)

    def remove_session_files(self, session_id) -> None:
        super().remove_session_files(session_id)
        UPLOADS.end_session(session_id)


def _reserving(put):
    """The PUT endpoint, first holding the request's declared length against the quota."""

    @functools.wraps(put)
    async def reserving_put(request):
        from starlette.exceptions import HTTPException

        session, file_id = request.path_params["session_id"], request.path_params["file_id"]
        length = request.headers.get("content-length", "")
        if not length.isdigit():  # a chunked body's size is known only once it is read
            raise HTTPException(status_code=411, detail="an upload needs a Content-Length")
        try:
            UPLOADS.reserve(session, file_id, max(int(length) - _FRAMING_BYTES, 0))
        except QuotaError as error:
            if int(length) <= UPLOADS.max_file_bytes + _FRAMING_BYTES:
                # Read and dropped chunk by chunk (nothing kept): a browser still sending gets the
                # answer, where closing the connection mid-upload shows only a network error.
                async for _chunk in request.stream():
                    pass
            raise _too_large(error) from None
        try:
            return await put(request)
        finally:
            UPLOADS.unreserve(session, file_id)

    return reserving_put


def _counted_routes(create):
    @functools.wraps(create)
    def create_upload_routes(runtime, upload_mgr, base_url):
        from starlette.routing import Route

        return [Route(r.path, _reserving(r.endpoint), methods=["PUT"]) if "PUT" in (r.methods or ()) else r
                for r in create(runtime, upload_mgr, base_url)]

    create_upload_routes.counted = True
    return create_upload_routes


def install() -> None:
    """Count every upload of this process's Streamlit server (see the module's docstring)."""
    streamlit_internals.count_uploads_with(CountedUploadedFileManager, _counted_routes)
    runtime = streamlit_internals.runtime()
    if runtime is None:
        return
    manager = runtime.uploaded_file_mgr
    if type(manager) is not MemoryUploadedFileManager:  # already counted, or a test's stand-in
        return
    with manager._lock:
        manager.__class__ = CountedUploadedFileManager
        held = [(session, rec) for session, files in manager.file_storage.items() for rec in files.values()]
    for session, rec in held:  # stored before this was installed: counted now, dropped if over
        try:
            UPLOADS.admit(session, rec.file_id, rec.name, len(rec.data))
        except QuotaError:
            MemoryUploadedFileManager.remove_file(manager, session, rec.file_id)
    if held:
        watch()


def watch() -> None:
    """Start the process's session watcher (``explorer.jobs.sessions``): it cancels the jobs and
    drops the uploads of sessions the server no longer has. Only under a real server."""
    from explorer.jobs.sessions import watch_sessions

    runtime = streamlit_internals.runtime()
    if runtime is not None:
        watch_sessions(runtime.is_active_session, drop_uploads=runtime.uploaded_file_mgr.remove_session_files)
