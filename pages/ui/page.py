"""A page's set-up: its title and icon from the catalog, in the reader's language, the language
switch and the layout. Importing it also makes a server started without deploy/run_streamlit.py
(a plain `streamlit run`) use the app's navigation and count uploads."""

from __future__ import annotations

import streamlit as st

from pages.ui import streamlit_internals
from pages.ui.catalog import APP_TITLE, page_info
from pages.ui.i18n import language_switch, page_language
from pages.ui.layout import apply_layout
from pages.ui.state import sidebar_state


def _route_through_navigation() -> None:
    """Streamlit treats an app with a pages/ folder as a v1 multipage app until its main script
    has called st.navigation once in the process: a fresh server's first visitor who opens
    /densenet directly would get the page without the app's navigation. Switch the process to
    the navigation (what Streamlit itself does after that first call) and run again. The fallback
    under a bare `streamlit run`: deploy/run_streamlit.py (`make run`, the replicas) switches at
    start-up, before the first visitor, who then never sees the files of pages/ as the menu."""
    if st.runtime.exists() and streamlit_internals.use_navigation_only():
        st.rerun()


_route_through_navigation()


def _count_uploads() -> None:
    """A server started without deploy/run_streamlit.py (plain `streamlit run`) counts its uploads
    against the sessions' quota from its first script run on (``pages.ui.uploads``)."""
    from pages.ui.uploads import install

    install()


_count_uploads()

def page_header(file: str, sidebar_holds: str | None = None):
    """First call of every page: its title and icon as declared once in ``pages.ui.catalog.PAGES``,
    in the reader's language, and the sidebar's language switch. The page config is set here too,
    because each page also runs on its own (AppTest). ``sidebar_holds``: what a phone user finds
    behind the folded side panel, when not the default.

    Returns the page's ``_`` (an ``explorer.i18n.Translator``): ``_("...")`` for the page's words,
    passed on to chart builders as ``_=_``."""
    page = page_info(file)
    _ = page_language()
    st.set_page_config(page_title=f"{_(page.title)} · {_(APP_TITLE)}", page_icon=page.icon, layout="wide",
                       initial_sidebar_state=sidebar_state())
    _ = language_switch()
    st.title(_(page.title))

    apply_layout(*([sidebar_holds] if sidebar_holds else []))
    return _
