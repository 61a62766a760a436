"""Entry point: `streamlit run streamlit_app.py` (or `make run`).

Every page's title, icon and URL path is declared once, in ``pages/ui/catalog.py``; the router below
runs only when Streamlit runs this file as the main script, so a test can import
``navigation_entries`` without starting the navigation.
"""

from __future__ import annotations

from pages.ui.catalog import APP_ICON, APP_TITLE, HOME_TITLE, PAGES


def home() -> None:
    import streamlit as st
    from streamlit.errors import StreamlitAPIException

    from pages.ui.settings import arrived_at
    from pages.ui.layout import apply_layout
    from pages.ui.i18n import language_switch, localized_link

    arrived_at("home")
    _ = language_switch()
    st.title(_(APP_TITLE))
    apply_layout()
    st.markdown(_(
        "Learn DenseNet and Inception by changing them. Every slider rebuilds a live PyTorch model, and its "
        "channels, parameters, MACs and memory are recomputed exactly: the numbers agree with the papers and "
        "with torchvision."))
    st.markdown(_("**Where to start:** open the DenseNet builder and move the growth rate k; then compare your "
                  "build with the published models. Every page's address keeps its settings: copy it to share "
                  "exactly what you see."))
    for page in PAGES:  # the link, then its purpose as text: a link's label does not wrap on a phone
        try:
            st.page_link(page.file, label=f"**{_(page.title)}**", icon=page.icon)
        except StreamlitAPIException:  # the page is not in a navigation (the home page run on its own)
            st.markdown(f"{page.icon} [**{_(page.title)}**]({localized_link(page.url_path)})")
        st.caption(_(page.purpose))
    st.caption(_("MACs = multiply-accumulates of convolutions and linear layers (torchvision's 'GFLOPS'); "
                 "FLOPs = 2 × MACs. Parameters = sum of p.numel(); BN running statistics are buffers, not "
                 "parameters."))


def navigation_entries(_) -> list[dict]:
    """The app's pages as ``st.Page`` arguments, titled in the reader's language. The home page is
    the default, served at the root: Streamlit ignores a default page's own path, so /home gets a
    hidden copy of it (that address otherwise showed "Page not found" over the home page)."""
    return [dict(page=home, title=_(HOME_TITLE), icon=APP_ICON, url_path="start", default=True),
            *(dict(page=p.file, title=_(p.title), icon=p.icon, url_path=p.url_path) for p in PAGES),
            dict(page=home, title=_(HOME_TITLE), icon=APP_ICON, url_path="home", visibility="hidden")]


if __name__ == "__main__":
    import streamlit as st

    from pages.ui.state import sidebar_state
    from pages.ui.i18n import page_language

    _ = page_language()
    st.set_page_config(page_title=_(APP_TITLE), page_icon=APP_ICON, layout="wide",
                       initial_sidebar_state=sidebar_state())
    # The pages are made once per session and language: making one resolves and checks its file,
    # ~7 ms a rerun for nine (issue #12). Not shared between sessions: st.navigation marks the page
    # it returns as runnable, and two sessions running at once would race on that mark.
    made = st.session_state.setdefault("_navigation_pages", {})
    if _.lang not in made:
        made[_.lang] = [st.Page(**entry) for entry in navigation_entries(_)]
    st.navigation(made[_.lang]).run()
