"""Each Streamlit internal the app relies on (``pages.ui.streamlit_internals``) is still there with
the shape used. Written against Streamlit 1.67.0: when an upgrade moves one, the failing test
names it, before a page or the server fails at run time."""

from __future__ import annotations

import importlib
import inspect

import pyarrow as pa
import pytest
import streamlit

from pages.ui import streamlit_internals as internals


def test_the_version_checked_is_the_version_installed():
    assert streamlit.__version__ == internals.CHECKED_AGAINST, (
        "Streamlit changed: check every function of pages/ui/streamlit_internals.py against it, then "
        "update CHECKED_AGAINST")


@pytest.mark.parametrize("module, name", [
    ("streamlit.runtime.scriptrunner", "get_script_run_ctx"),
    ("streamlit.runtime", "Runtime"),
    ("streamlit.runtime.pages_manager", "PagesManager"),
    ("streamlit.runtime.memory_uploaded_file_manager", "MemoryUploadedFileManager"),
    ("streamlit.web.server.server", "MemoryUploadedFileManager"),
    ("streamlit.web.server.starlette.starlette_app", "create_upload_routes"),
    ("streamlit.web.bootstrap", "_install_config_watchers"),
    ("streamlit.delta_generator", "_use_warning_has_been_displayed"),
    ("streamlit.dataframe_util", "convert_anything_to_arrow_bytes"),
])
def test_each_internal_is_still_where_it_was(module, name):
    assert hasattr(importlib.import_module(module), name), f"{module}.{name} is gone"


def test_the_shapes_used():
    from streamlit.runtime import Runtime
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import ScriptRunContext

    assert isinstance(PagesManager.uses_pages_directory, (bool, type(None)))
    assert {"session_id", "uploaded_file_mgr"} <= {f for f in ScriptRunContext.__dataclass_fields__}
    assert callable(Runtime.exists) and callable(Runtime.instance)
    assert {"is_active_session", "uploaded_file_mgr"} <= set(dir(Runtime))
    for method in ("add_file", "remove_file", "remove_session_files"):
        assert method in vars(MemoryUploadedFileManager), method
    assert "file_storage" in inspect.getsource(MemoryUploadedFileManager.__init__)
    assert list(inspect.signature(
        importlib.import_module("streamlit.web.server.starlette.starlette_app").create_upload_routes).parameters)[:3] \
        == ["runtime", "upload_mgr", "base_url"]


def test_arrow_bytes_round_trip():
    table = pa.Table.from_pylist([{"x": 1, "y": "a"}, {"x": 2, "y": "b"}])
    back = pa.ipc.open_stream(internals.arrow_bytes(table)).read_all()
    assert back.to_pylist() == table.to_pylist()


def test_a_sent_figure_answers_streamlit_with_its_spec():
    spec = {"data": [{"type": "bar", "x": [1], "y": [2]}], "layout": {}}
    figure = internals.sent_figure(spec)
    assert figure.to_dict() is spec  # no copy made
    import json

    import plotly.io
    from streamlit.elements import plotly_chart

    # st.plotly_chart sends plotly.io.to_json(figure), which asks the figure for to_dict()
    assert "plotly.io.to_json(figure" in inspect.getsource(plotly_chart), "st.plotly_chart serialises differently"
    assert json.loads(plotly.io.to_json(figure, validate=False)) == spec


def test_outside_a_server_there_is_no_session():
    assert internals.runtime() is None
    assert internals.session_id() is None
    internals.drop_uploaded_file("nothing")  # no context: nothing to drop, no error
