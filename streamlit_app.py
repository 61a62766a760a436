"""Entry point: `streamlit run streamlit_app.py` (or `make run`).

Every page's title, icon and URL path is declared here, once; the pages read them back through
``page_info``. The router below runs only when Streamlit runs this file as the main script, so a
page (or a test) can import ``PAGES`` without starting the navigation.
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.i18n import N_  # marks titles for the translation catalog; pages translate them when drawn


@dataclass(frozen=True)
class PageInfo:
    file: str  # under pages/
    title: str
    icon: str
    url_path: str  # the page's address: /densenet
    purpose: str  # one line on the home page (an N_-marked message, translated where drawn)
    builds: tuple[str, ...] = ()  # architectures this page builds (it opens their configs from a link)
    link_prefix: str = ""  # prefix of those configs' keys in the page's query


APP_TITLE = N_("CNN architecture explorer")
APP_ICON = "🧩"
PAGES = (
    PageInfo("pages/densenet.py", N_("DenseNet builder"), "🧱", "densenet",
             N_("Growth rate, block depths, compression θ and bottleneck: watch channels, parameters, MACs and "
                "memory."),
             builds=("densenet",)),
    PageInfo("pages/inception.py", N_("Inception builder"), "🔀", "inception",
             N_("Design an Inception module branch by branch and see what the 1×1 reductions save; edit GoogLeNet."),
             builds=("googlenet",), link_prefix="net_"),
    PageInfo("pages/compare.py", N_("Compare"), "📊", "compare",
             N_("DenseNet, GoogLeNet, Inception v3, ResNet-50, ResNeXt-50 and your builds side by side.")),
    PageInfo("pages/explain.py", N_("Classify & explain"), "🔎", "explain",
             N_("Classify an image with a pretrained model and see where it looked (Grad-CAM and more).")),
    PageInfo("pages/train.py", N_("Train & observe"), "🏋️", "train",
             N_("Train a small DenseNet on digits here; see its feature reuse, its real training memory, its feature "
                "maps.")),
    PageInfo("pages/learn.py", N_("Learn"), "🎓", "learn",
             N_("Theory panels in Japanese and English: concatenation vs addition, 1×1 convs, normalisations, ...")),
    PageInfo("pages/practice.py", N_("Practice"), "✏️", "practice",
             N_("Exercises with fresh numbers each time, checked answers, worked solutions; a seed to share a set.")),
    PageInfo("pages/glossary.py", N_("Glossary"), "📖", "glossary",
             N_("Every term in English and Japanese (成長率, 圧縮率 θ, ボトルネック層, ...) and where to see it.")),
)


def page_info(file: str) -> PageInfo:
    """The declaration of the page in ``file`` (a path ending in e.g. 'pages/densenet.py')."""
    name = file.replace("\\", "/").rsplit("pages/", 1)[-1]
    return next(p for p in PAGES if p.file == f"pages/{name}")


HOME_TITLE = N_("Start here")


def home() -> None:
    import streamlit as st
    from streamlit.errors import StreamlitAPIException

    from pages import arrived_at
    from pages.layout import apply_layout
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
    """The app's pages as ``st.Page`` arguments, titled in the reader's language."""
    return [dict(page=home, title=_(HOME_TITLE), icon=APP_ICON, url_path="home", default=True),
            *(dict(page=p.file, title=_(p.title), icon=p.icon, url_path=p.url_path) for p in PAGES)]


if __name__ == "__main__":
    import streamlit as st

    from pages.ui.i18n import page_language

    _ = page_language()
    st.set_page_config(page_title=_(APP_TITLE), page_icon=APP_ICON, layout="wide")
    # The pages are made once per session and language: making one resolves and checks its file,
    # ~7 ms a rerun for nine (issue #12). Not shared between sessions: st.navigation marks the page
    # it returns as runnable, and two sessions running at once would race on that mark.
    made = st.session_state.setdefault("_navigation_pages", {})
    if _.lang not in made:
        made[_.lang] = [st.Page(**entry) for entry in navigation_entries(_)]
    st.navigation(made[_.lang]).run()
