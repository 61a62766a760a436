"""The language of a session: ``?lang=ja|en``, else the browser's preferred language, else English.

A page starts with ``_ = start_page(N_("Title"), icon)`` (page config and title in the reader's
language, and the sidebar switch), or calls the parts: ``page_language()`` gives the ``_`` without
drawing; ``language_switch()`` draws the selector, keeps the choice in the session and in the URL,
and returns the ``_``.
"""

from __future__ import annotations

import streamlit as st

from urllib.parse import parse_qsl

from streamlit.errors import StreamlitAPIException

from explorer.i18n import LANGUAGE_NAMES, LANGUAGES, N_, choose_language, normalize_language, translator
from pages.ui.state import set_widget

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
    """The ``_`` of the session's language (a ``Translator``: ``_("...")``, ``_.ngettext``, ``_.lang``),
    without drawing anything."""
    return translator(current_language())


def _chosen() -> None:
    st.session_state[STATE_KEY] = st.session_state[_WIDGET_KEY]
    st.query_params["lang"] = st.session_state[STATE_KEY]


def language_switch():
    """Draw the sidebar language selector; returns the ``_`` of the chosen language."""
    lang = current_language()
    set_widget(_WIDGET_KEY, lang)
    st.sidebar.radio("🌐 Language / 言語", LANGUAGES, format_func=LANGUAGE_NAMES.get, key=_WIDGET_KEY,
                     horizontal=True, on_change=_chosen)
    st.query_params["lang"] = lang
    return translator(lang)


def localized_link(link: str) -> str:
    """A relative app link that keeps the session's language."""
    return f"{link}{'&' if '?' in link else '?'}lang={current_language()}"


from pages.ui.catalog import APP_TITLE, PAGES  # noqa: E402 - the one home of page titles

PAGE_TITLES = {page.url_path: page.title for page in PAGES}


def start_page(title: str, icon: str):
    """First call of a teaching page: page config and title in the reader's language, and the
    language switch. ``title`` is an ``N_``-marked message. Returns the page's ``_``."""
    _ = page_language()
    st.set_page_config(page_title=f"{_(title)} · {APP_TITLE}", page_icon=icon, layout="wide")
    _ = language_switch()
    st.title(_(title))
    return _


# Streamlit's upload box has English words of its own that no app can translate ("Drag and drop a
# file here", an "Upload" button, "Limit 10MB per file • PNG"); in other languages a caption
# under it says the same.
_UPLOAD_HELP = N_("Drop a file on the box above, or press “Upload” to choose one (up to {limit} MB; {types}).")


def file_uploader(label: str, **kwargs):
    """``st.file_uploader(label, **kwargs)`` with, outside English, a caption under it saying
    what the box's own words mean, its limit (``max_upload_size``, MB) and its file types."""
    upload = st.file_uploader(label, **kwargs)
    lang = current_language()
    if lang != "en":
        types = kwargs.get("type") or []
        limit = kwargs.get("max_upload_size") or st.get_option("server.maxUploadSize")
        st.caption(translator(lang)(_UPLOAD_HELP).format(limit=limit, types=", ".join(t.upper() for t in types)))
    return upload


def app_link(link: str, label: str, icon: str = "👉") -> None:
    """A link to a page of the app (``"densenet?k=24&theta=0.7"``) that keeps this session (the
    score, the language): Streamlit's page link with the query. Where the page is not in the
    app's navigation (a page run on its own, under AppTest) it falls back to a plain link."""
    path, _sep, query = link.partition("?")
    try:
        st.page_link(f"pages/{path}.py", label=label, icon=icon, query_params=dict(parse_qsl(query)))
    except StreamlitAPIException:
        st.markdown(f"{icon} [{label}]({localized_link(link)})")
