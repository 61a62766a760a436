"""Session state the UI layer shares: setting a widget's value from the script, and presentation
mode (``?present=1``, remembered for the session). No drawing here."""

from __future__ import annotations

import streamlit as st

PRESENT = "present"  # the URL key
PRESENTATION_STATE = "_presentation"  # the session's value (a widget's own key is dropped on pages without it)


def set_widget(key: str, value) -> None:
    """Give the widget ``key`` a value from the script, only where it differs: Streamlit sends a
    value set from the script to the browser, which re-renders that widget after the run, so an
    assignment made on every run slows every slider step (issue #12)."""
    if st.session_state.get(key) != value:
        st.session_state[key] = value


def presenting() -> bool:
    """Whether this session is in presentation mode (a link with ?present=1 turns it on)."""
    state = st.session_state
    if PRESENTATION_STATE not in state:
        state[PRESENTATION_STATE] = st.query_params.get(PRESENT) == "1"
    return bool(state[PRESENTATION_STATE])


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
