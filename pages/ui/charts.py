"""Charts, diagrams and tables on a page: prepared once and shared by every session, titled as
page text (it wraps on a phone), enlarged in presentation mode."""

from __future__ import annotations

import html
from dataclasses import dataclass

import plotly.graph_objects as go
import streamlit as st

from explorer.charts import style
from pages.ui import streamlit_internals
from pages.ui.messages import literal
from pages.ui.state import presenting


@dataclass(frozen=True)
class PreparedChart:
    """A figure ready to send: its title taken out (the page draws it as text) and, in
    presentation mode, its fonts enlarged. Built once per cache key and shared, read-only, by
    every session, so a rerun neither converts nor re-validates it. ``spec`` is a plotly figure's
    dict, or a Vega-Lite spec whose named ``datasets`` are Arrow bytes, converted once."""

    title: str
    spec: dict
    vega_lite: bool = False

    @property
    def figure(self) -> go.Figure:
        return streamlit_internals.sent_figure(self.spec)


def prepare(figure: go.Figure | dict, present: bool = False) -> PreparedChart:
    """A plotly figure, or a Vega-Lite spec (a dict, ``explorer.charts.style.vega_lite``), ready to send."""
    if isinstance(figure, dict):
        import pyarrow as pa

        spec = style.scaled_vega_lite(figure) if present else dict(figure)
        title = spec.pop("title", "")
        # straight to Arrow: through a pandas DataFrame this took ~3 ms of each DenseNet slider step
        spec["datasets"] = {name: streamlit_internals.arrow_bytes(pa.Table.from_pylist(rows))
                            for name, rows in spec.get("datasets", {}).items()}
        return PreparedChart(title, spec, vega_lite=True)
    spec = figure.to_dict()
    layout = spec.setdefault("layout", {})
    title = layout.pop("title", {})
    text = title.get("text") if isinstance(title, dict) else title
    if present:
        spec = style.scaled(spec)
    return PreparedChart(text or "", spec)


def show_chart(figure: go.Figure | PreparedChart, key: str) -> None:
    """A chart with its title as page text above it (it wraps on a phone and plotly's toolbar
    cannot cover it), fitted to the width, enlarged in presentation mode. A cached
    ``PreparedChart`` is sent as it is; a plain figure is prepared first (it is not changed: it
    may be a cached one shared by every session)."""
    chart = figure if isinstance(figure, PreparedChart) else prepare(figure, presenting())
    chart_title(chart.title)
    if chart.vega_lite:  # Streamlit sets and removes top-level keys of the spec: it gets a copy of those
        st.vega_lite_chart(spec=dict(chart.spec), key=key, width="stretch")
        return
    st.plotly_chart(chart.figure, key=key, width="stretch", config={"displaylogo": False, "responsive": True})


def show_diagram(title: str, svg: str, key: str) -> None:
    """A drawing made as SVG (``explorer.charts``, the app's own markup, its text escaped) under
    its title, like a chart's; ``key`` names its container (``.st-key-<key>``). Sent as Markdown
    with HTML allowed: ``st.html``'s sanitiser keeps HTML only and drops SVG."""
    chart_title(title)
    with st.container(key=key):
        st.markdown(svg, unsafe_allow_html=True)


def chart_title(title: str) -> None:
    """A chart's title as page text above it (it wraps on a phone), larger in presentation mode."""
    if title:
        size = "1.5rem" if presenting() else "1.05rem"
        shown = html.escape(title.replace("<br>", " "))
        st.markdown(f"<div class='chart-title' style='font-weight:600;font-size:{size}'>{shown}</div>",
                    unsafe_allow_html=True)


def show_table(table) -> None:
    """A small table (a DataFrame, or a Styler where a page marks cells) as static HTML: a step
    redraws it in ~20 ms, where ``st.dataframe``'s grid took ~115 ms on the Inception page (issue
    #12). ``st.table`` renders its cells as Markdown, so every text cell is escaped
    (``pages.ui.messages.literal``): a name a user typed shows as typed. A DataFrame goes without a Styler,
    which costs the server ~16 ms a table to compute."""
    from pandas.io.formats.style import Styler

    def escaped(frame):
        return frame.map(lambda v: literal(v) if isinstance(v, str) else v)

    if isinstance(table, Styler):
        table.data = escaped(table.data)
        st.table(table.hide(axis="index"))
    else:
        st.table(escaped(table), hide_index=True)


def fitted(styler, wrapped: dict[str, float] | None = None):
    """A Styler for ``show_table`` whose headers take two lines at most (each column at least as
    wide as its header broken in two, ``style.two_lines_em``; a browser squeezing a wide table gave
    Japanese headers one or two characters a line) and whose ``wrapped`` columns (title -> least
    width in em) wrap their text instead of widening the table. In em: the sizes follow the table's
    font (presentation mode's larger text). Our CSS, the column's position only: no user text."""
    wrapped = wrapped or {}
    rules = []
    for i, title in enumerate(styler.data.columns):
        rules.append({"selector": f"th.col{i}", "props": f"min-width: {style.two_lines_em(str(title)) + 0.9:.2f}em"})
        if title in wrapped:  # the page's CSS keeps cells on one line (!important): this rule is more specific
            for cell in (f"td.col{i}", f"td.col{i} *"):
                rules.append({"selector": cell, "props": "white-space: normal !important"})
            rules.append({"selector": f"td.col{i}", "props": f"min-width: {wrapped[title]}em"})
    return styler.set_table_styles(rules, overwrite=False)
