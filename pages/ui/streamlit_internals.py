"""Every use of a Streamlit internal, in one place (checked against Streamlit 1.67.0).

The app keeps to Streamlit's public API except where this module says why it cannot. Each name
here is a private part of Streamlit that can change in any release; tests/unit/test_streamlit_internals.py
checks that each one is still there, with the shape used, and fails loudly (naming it) when an
upgrade moves it.
"""

from __future__ import annotations

import plotly.graph_objects as go


CHECKED_AGAINST = "1.67.0"


def session_context():
    """The running script's context (``get_script_run_ctx``): the session's id keys its jobs and its
    upload quota, and its ``uploaded_file_mgr`` drops an upload the quota refused. None outside a
    script run (AppTest's bare mode has one; a plain import has not)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    return get_script_run_ctx()


def session_id() -> str | None:
    context = session_context()
    return context.session_id if context else None


def drop_uploaded_file(file_id: str) -> None:
    """Free an upload of this session from the server's memory at once (Streamlit frees a session's
    files only when the session ends, which a closed tab's session may never do)."""
    context = session_context()
    if context is not None:
        context.uploaded_file_mgr.remove_file(context.session_id, file_id)


def runtime():
    """The server's ``Runtime`` (None under AppTest and bare mode): which sessions are alive, and
    the upload store, for the watcher that cancels a gone session's jobs and frees its uploads."""
    from streamlit.runtime import Runtime

    return Runtime.instance() if Runtime.exists() else None


def use_navigation_only() -> bool:
    """Switch the process from Streamlit's v1 multipage mode (every file of pages/ listed as a
    page) to the app's ``st.navigation``, as Streamlit does after the main script's first call of
    it. Needed because the pages/ folder exists: a fresh server's first visitor would see its file
    names as the menu, and a page opened directly would run without the navigation. Returns whether
    it was still in v1 mode (the caller then runs the script again)."""
    from streamlit.runtime.pages_manager import PagesManager

    was = PagesManager.uses_pages_directory
    PagesManager.uses_pages_directory = False
    return bool(was)


def skip_repl_check() -> None:
    """Streamlit checks once per process, on the first element drawn, whether it runs in a REPL
    (``inspect.stack()`` over every loaded module: 0.5 s of the first visitor's run). A server is
    never a REPL."""
    import streamlit.delta_generator

    streamlit.delta_generator._use_warning_has_been_displayed = True


def skip_config_watchers() -> None:
    """Streamlit polls each config.toml five times a second to reload it live; the server reads its
    config once (a change means a restart), so it skips those wake-ups of its single core."""
    import streamlit.web.bootstrap

    streamlit.web.bootstrap._install_config_watchers = lambda flag_options: None


def arrow_bytes(table) -> bytes:
    """A pyarrow Table as the Arrow IPC bytes a Vega-Lite chart's named dataset is sent as
    (``dataframe_util``): converting once, straight from Arrow, saved ~3 ms of each DenseNet step
    over handing Streamlit a DataFrame on every rerun."""
    from streamlit import dataframe_util

    return dataframe_util.convert_anything_to_arrow_bytes(table)


def sent_figure(spec: dict):
    """A plotly figure that answers ``st.plotly_chart``'s ``to_dict()`` with ``spec``, made once:
    Streamlit calls ``to_dict()`` on every rerun and only serialises the result, and the real one
    deep-copies the figure (5 ms for the Inception diagram)."""
    figure = SentFigure()
    figure._sent = spec
    return figure


class SentFigure(go.Figure):
    def to_dict(self) -> dict:
        return self._sent


def upload_store_class():
    """Streamlit's in-memory upload store, which the app subclasses to count every file against
    its session's quota (``pages.ui.uploads``)."""
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager

    return MemoryUploadedFileManager


def count_uploads_with(store_class, wrap_routes) -> None:
    """Make the server count uploads: the store class a server will create, and the upload route's
    PUT endpoint wrapped (``wrap_routes(create_upload_routes)``) so a request's declared length is
    reserved before its body is kept. Before the server starts, both take effect."""
    import streamlit.web.server.server as server
    import streamlit.web.server.starlette.starlette_app as app

    server.MemoryUploadedFileManager = store_class
    if not getattr(app.create_upload_routes, "counted", False):
        app.create_upload_routes = wrap_routes(app.create_upload_routes)
