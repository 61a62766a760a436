"""Layout shared by every page: the phone and projector styles, the presentation toggle and the
view selector (charts and tables: ``pages.ui.charts``).

- Phone (narrow screens): a line saying where the settings are (Streamlit folds the sidebar
  behind "»"), tighter page margins, charts that fit the width and show their titles as page text,
  which wraps (a plotly title is cut at 390 px and plotly's toolbar covers it).
- Presentation mode (``?present=1``, remembered for the session): larger chart fonts, diagram
  text, headline numbers and body text, for a projector.
"""

from __future__ import annotations

import html
import streamlit as st

from explorer.i18n import ENGLISH, N_
from pages.ui.state import PRESENT, PRESENTATION_STATE, presenting, set_widget

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


def _on_toggle() -> None:
    st.session_state[PRESENTATION_STATE] = bool(st.session_state[_WIDGET])


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
