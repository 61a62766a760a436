"""Layout shared by every page: the phone and projector styles, presentation mode, and charts.

- Phone (narrow screens): a line saying where the settings are (Streamlit folds the sidebar
  behind "»"), tighter page margins, charts that fit the width and show their titles as page text,
  which wraps (a plotly title is cut at 390 px and plotly's toolbar covers it).
- Presentation mode (``?present=1``, remembered for the session): larger chart fonts, diagram
  text, headline numbers and body text, for a projector.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import plotly.graph_objects as go
import streamlit as st

from explorer.charts import style
from explorer.i18n import ENGLISH, N_
from pages.settings import set_widget

PRESENT = "present"  # the URL key
_STATE = "_presentation"  # the session's value (a widget's own key is dropped on pages without it)
_WIDGET = "presentation_toggle"

# Our own static CSS (no user text; no words either: the pages' text checks read it). Streamlit's
# sidebar collapses below 640 px wide. Table cells stay on one line: a long cell scrolls its table,
# not the page. A metric's label wraps where Streamlit would cut it with "…" (a long Japanese
# label, or presentation mode's larger text: "Memory-efficient mode would ne…").
_CSS = """
<style>
.phone-only { display: none; }
.stApp { line-break: strict; }  /* 禁則: ャ, ー, 。 */
[data-testid="stTable"] td, [data-testid="stTable"] td * { white-space: nowrap !important; }
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }
@media (max-width: 640px) {
  .phone-only { display: block; font-size: 0.95rem; padding: 0.4rem 0.6rem; border-radius: 0.5rem;
                background: #eef3fb; color: #1f1f1f; margin-bottom: 0.5rem; }
  .block-container, [data-testid="stMainBlockContainer"] { padding-left: 0.8rem; padding-right: 0.8rem; }
  [data-testid="stMetricValue"], [data-testid="stMetricValue"] * { font-size: 1.6rem; }
}
</style>
"""
# Presentation mode: headline numbers 3.6rem, smaller where their column is too narrow for that
# (17 % of the metric's width fits "5.67 GFLOPs"), never cut with "…".
_PRESENTATION_CSS = """
<style>
[data-testid="stMain"] p, [data-testid="stMain"] li { font-size: 1.3rem; }
[data-testid="stMain"] [data-testid="stMetric"] { container-type: inline-size; }
[data-testid="stMain"] [data-testid="stMetricValue"],
[data-testid="stMain"] [data-testid="stMetricValue"] * { font-size: min(3.6rem, 17cqw); line-height: 1.2; }
[data-testid="stMetricLabel"] p { font-size: 1.3rem; }
[data-testid="stCaptionContainer"] p { font-size: 1.1rem; }
</style>
"""
SIDEBAR_HOLDS = N_("this page's settings, presentation mode and the share link")
_PHONE_HINT = N_("⚙️ Tap <b>»</b> at the top left for the side panel: {holds}. Tap outside it to close it.")


def presenting() -> bool:
    """Whether this session is in presentation mode (a link with ?present=1 turns it on)."""
    state = st.session_state
    if _STATE not in state:
        state[_STATE] = st.query_params.get(PRESENT) == "1"
    return bool(state[_STATE])


def with_presentation(query: dict[str, str]) -> dict[str, str]:
    """A page's URL query with the presentation setting added when it is on."""
    return {**query, PRESENT: "1"} if presenting() else dict(query)


def without_presentation(query: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in query.items() if k != PRESENT}


def sidebar_state() -> str:
    """The side panel's state for ``st.set_page_config``: folded away in presentation mode.

    The browser applies a changed state, and only a change, so a reader who opens the panel while
    presenting keeps it open (and one who has folded or opened it by hand keeps that choice). It
    is sent before the panel's first element: by the app's main script, and by ``page_header``
    for a page run on its own."""
    return "collapsed" if presenting() else "auto"


def _on_toggle() -> None:
    st.session_state[_STATE] = bool(st.session_state[_WIDGET])


def apply_layout(sidebar_holds: str = SIDEBAR_HOLDS) -> None:
    """Called by ``page_header``: the CSS, the phone hint (saying what the folded side panel holds,
    an ``N_``-marked message) and the presentation toggle, in the session's language."""
    from pages.ui.i18n import page_language

    _ = page_language()
    on = presenting()
    st.markdown(_CSS + (_PRESENTATION_CSS if on else ""), unsafe_allow_html=True)
    set_widget(_WIDGET, on)
    st.sidebar.toggle(_("Presentation mode (large text)"), key=_WIDGET, on_change=_on_toggle,
                      help=_("For a projector: larger chart text, diagram labels and headline numbers. "
                             "Kept while you move between pages, and in the page's address (present=1)."))
    if on and st.query_params.get(PRESENT) != "1":
        st.query_params[PRESENT] = "1"
    elif not on and PRESENT in st.query_params:
        del st.query_params[PRESENT]
    hint = _(_PHONE_HINT).format(holds=html.escape(_(sidebar_holds)))  # our own text: no user input
    st.markdown(f'<div class="phone-only">{hint}</div>', unsafe_allow_html=True)


class _SentFigure(go.Figure):
    """What ``st.plotly_chart`` receives for a prepared chart: it asks for ``to_dict()`` on every
    rerun, which deep-copies a figure (5 ms for the Inception diagram) and is all it reads. This
    one answers with the dict made once; Streamlit only serialises it, so sharing it is safe."""

    def to_dict(self) -> dict:
        return self._sent


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
        sent = _SentFigure()
        sent._sent = self.spec
        return sent


def prepare(figure: go.Figure | dict, present: bool = False) -> PreparedChart:
    """A plotly figure, or a Vega-Lite spec (a dict, ``explorer.charts.style.vega_lite``), ready to send."""
    if isinstance(figure, dict):
        import pyarrow as pa
        from streamlit import dataframe_util

        spec = style.scaled_vega_lite(figure) if present else dict(figure)
        title = spec.pop("title", "")
        # straight to Arrow: through a pandas DataFrame this took ~3 ms of each DenseNet slider step
        spec["datasets"] = {name: dataframe_util.convert_anything_to_arrow_bytes(pa.Table.from_pylist(rows))
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
    (``pages.literal``): a name a user typed shows as typed. A DataFrame goes without a Styler,
    which costs the server ~16 ms a table to compute."""
    from pandas.io.formats.style import Styler

    from pages import literal

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


def view_selector(label: str, views: dict[str, str], key: str, _=ENGLISH, persist_state=None) -> str:
    """One of a page's views (``{code: English label}``), chosen with buttons, instead of tabs:
    tabs build and send every view on every rerun, a selector only the one shown. The value is a
    page setting (its key is in the page's settings, so it is kept for the session and in the
    address); the labels are translated, the codes are not. ``persist_state="page"`` keeps the
    choice of a selector that is not always drawn."""
    state = st.session_state
    if state.get(key) not in views:
        state[key] = next(iter(views))
    st.segmented_control(label, list(views), key=key, required=True, format_func=lambda code: _(views[code]),
                         label_visibility="collapsed", persist_state=persist_state)
    return state[key]
