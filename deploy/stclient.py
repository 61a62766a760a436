"""A lightweight Streamlit client: the browser's side of the websocket protocol, without a browser.

It opens a page, reads the widgets the server sent (id, kind, label, options), sets one and waits
for the rerun to finish, exactly as the web frontend does (BackMsg.rerun_script with the widget's
new state; the server answers with ForwardMsgs ending in script_finished). One client costs a few
milliseconds of CPU per rerun, so a load test can simulate a class on one core and a warm-up can
visit every page at server start. Needs the ``websockets`` package and ``streamlit.proto``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

FINISHED = {"FINISHED_SUCCESSFULLY", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"}
_STATUS = ForwardMsg.DESCRIPTOR.fields_by_name["script_finished"].enum_type.values_by_number


class ProtocolError(RuntimeError):
    """The server answered something a browser would show as an error (an exception, a closed socket)."""


@dataclass
class Widget:
    id: str
    kind: str  # the element's proto field: slider, selectbox, button_group...
    label: str
    options: list[str] = field(default_factory=list)


@dataclass
class Run:
    seconds: float  # rerun request sent -> script_finished received
    bytes: int  # ForwardMsg bytes received for this run
    messages: int


class Client:
    """One simulated visitor of one page: ``await Client.open(base_url, page)``, then ``set(...)``."""

    def __init__(self, socket, page: str, cookie: str | None):
        self.socket = socket
        self.page = page
        self.cookie = cookie
        self.page_hash = ""
        self.session_id = ""  # the server's id of this session (upload URLs name it)
        self.query = ""
        self.widgets: dict[str, Widget] = {}

    @classmethod
    async def open(cls, base_url: str, page: str, cookie: str | None = None, timeout: float = 120) -> "Client":
        """Connect to ``base_url`` (http://host:port) and run ``page`` (its url path) once."""
        host = base_url.split("://", 1)[1].rstrip("/")
        headers = {"Origin": f"http://{host}"}
        if cookie:
            headers["Cookie"] = cookie
        socket = await websockets.connect(f"ws://{host}/_stcore/stream", subprotocols=["streamlit"],
                                          additional_headers=headers, max_size=64 * 2**20, open_timeout=timeout,
                                          ping_interval=None)  # browsers send no pings either
        client = cls(socket, page, cookie)
        await client.rerun([], timeout)
        return client

    async def close(self) -> None:
        await self.socket.close()

    async def rerun(self, widget_states, timeout: float = 120) -> Run:
        """Send one rerun request with these widget states; wait for its script_finished."""
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        state.page_script_hash = self.page_hash
        state.page_name = "" if self.page_hash else self.page
        state.widget_states.widgets.extend(widget_states)
        start = time.perf_counter()
        await self.socket.send(msg.SerializeToString())
        received = count = 0
        deadline = start + timeout
        while True:
            try:
                data = await asyncio.wait_for(self.socket.recv(), max(0.01, deadline - time.perf_counter()))
            except asyncio.TimeoutError:
                raise ProtocolError(f"no script_finished within {timeout:.0f} s") from None
            except websockets.ConnectionClosed as closed:
                raise ProtocolError(f"connection closed: {closed}") from None
            received += len(data)
            count += 1
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            kind = fwd.WhichOneof("type")
            if kind == "delta":
                self._read_delta(fwd.delta)
            elif kind == "navigation":
                self.page_hash = fwd.navigation.page_script_hash or self.page_hash
            elif kind == "new_session":
                self.page_hash = fwd.new_session.page_script_hash or self.page_hash
                self.session_id = fwd.new_session.initialize.session_id or self.session_id
            elif kind == "page_info_changed":
                self.query = fwd.page_info_changed.query_string
            elif kind == "script_finished":
                status = _STATUS[fwd.script_finished].name
                if status in FINISHED:
                    return Run(time.perf_counter() - start, received, count)
                if status != "FINISHED_EARLY_FOR_RERUN":  # a page's own st.rerun(): the next run follows
                    raise ProtocolError(f"script finished with {status}")

    def _read_delta(self, delta) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        if kind == "exception":
            raise ProtocolError(f"the page raised {element.exception.type}: {element.exception.message[:200]}")
        proto = getattr(element, kind, None)
        widget_id = getattr(proto, "id", "")
        if widget_id and hasattr(proto, "label"):
            options = list(getattr(proto, "options", []))
            self.widgets[widget_id] = Widget(widget_id, kind, proto.label,
                                             [o if isinstance(o, str) else getattr(o, "content", str(o))
                                              for o in options])

    def widget(self, label: str) -> Widget:
        """The widget with this label (as drawn in the last run)."""
        for widget in self.widgets.values():
            if widget.label == label:
                return widget
        raise ProtocolError(f"no widget labelled {label!r} on {self.page}")

    async def set(self, label: str, value, timeout: float = 120) -> Run:
        """Give a widget a new value as a user would (slider: a number; selectbox: an option's text)."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        widget = self.widget(label)
        state = WidgetState(id=widget.id)
        if widget.kind == "slider":
            state.double_array_value.data.append(float(value))
        elif widget.kind in ("selectbox", "radio", "text_input"):
            state.string_value = str(value)
        elif widget.kind == "button_group":
            state.string_array_value.data.append(str(value))
        elif widget.kind == "button":
            state.trigger_value = True
        else:
            raise ProtocolError(f"setting a {widget.kind} is not implemented")
        return await self.rerun([state], timeout)


async def visit(base_url: str, page: str, timeout: float = 120) -> Run:
    """Open a page once and leave (a warm-up, a health check that runs the script)."""
    start = time.perf_counter()
    client = await Client.open(base_url, page, timeout=timeout)
    await client.close()
    return Run(time.perf_counter() - start, 0, 0)
