"""The language of a session: ``?lang=ja|en``, else the browser's preferred language, else English.

Every page calls ``page_language()`` before ``setup_page`` (for a translated title), then
``language_switch()``, which draws the sidebar selector and keeps the choice in the session and
in the URL. Both return the page's ``_``.
"""

from __future__ import annotations

import streamlit as st

from explorer.i18n import LANGUAGE_NAMES, LANGUAGES, choose_language, normalize_language, translator

STATE_KEY = "language"  # plain state, not a widget key: it survives page switches
_WIDGET_KEY = "language_select"


def _browser_language() -> tuple[str | None, str | None]:
    try:
        return st.context.locale, st.context.headers.get("Accept-Language")
    except Exception:  # noqa: BLE001 - no browser context (bare mode, some test runners)
        return None, None


def current_language() -> str:
    """The session's language, decided once per session (an explicit ``?lang=`` always wins)."""
    requested = normalize_language(st.query_params.get("lang"))
    if requested:
        st.session_state[STATE_KEY] = requested
    if STATE_KEY not in st.session_state:
        st.session_state[STATE_KEY] = choose_language(None, *_browser_language())
    return st.session_state[STATE_KEY]


def page_language():
    """The ``_`` of the session's language, without drawing anything."""
    return translator(current_language()).gettext


def _chosen() -> None:
    st.session_state[STATE_KEY] = st.session_state[_WIDGET_KEY]
    st.query_params["lang"] = st.session_state[STATE_KEY]


def language_switch():
    """Draw the sidebar language selector; returns the ``_`` of the chosen language."""
    lang = current_language()
    st.session_state[_WIDGET_KEY] = lang
    st.sidebar.radio("🌐 Language / 言語", LANGUAGES, format_func=LANGUAGE_NAMES.get, key=_WIDGET_KEY,
                     horizontal=True, on_change=_chosen)
    st.query_params["lang"] = lang
    return translator(lang).gettext


def localized_link(link: str) -> str:
    """A relative app link that keeps the session's language."""
    return f"{link}{'&' if '?' in link else '?'}lang={current_language()}"
