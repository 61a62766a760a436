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
    purpose: str  # one line on the home page
    builds: tuple[str, ...] = ()  # architectures this page builds (it opens their configs from a link)
    link_prefix: str = ""  # prefix of those configs' keys in the page's query


APP_TITLE = N_("CNN architecture explorer")
APP_ICON = "🧩"
PAGES = (
    PageInfo("pages/densenet.py", N_("DenseNet builder"), "🧱", "densenet",
             "Growth rate, block depths, compression θ and bottleneck: watch channels, parameters, MACs and memory.",
             builds=("densenet",)),
    PageInfo("pages/inception.py", N_("Inception builder"), "🔀", "inception",
             "Design an Inception module branch by branch and see what the 1×1 reductions save; edit GoogLeNet.",
             builds=("googlenet",), link_prefix="net_"),
    PageInfo("pages/compare.py", N_("Compare"), "📊", "compare",
             "DenseNet, GoogLeNet, Inception v3, ResNet-50, ResNeXt-50 and your builds side by side."),
    PageInfo("pages/explain.py", N_("Classify & explain"), "🔎", "explain",
             "Classify an image with a pretrained model and see where it looked (Grad-CAM and more)."),
    PageInfo("pages/train.py", N_("Train & observe"), "🏋️", "train",
             "Train a small DenseNet on digits here; see its feature reuse, its real training memory, its feature maps."),
    PageInfo("pages/learn.py", N_("Learn"), "🎓", "learn",
             "Theory panels in Japanese and English: concatenation vs addition, 1×1 convs, normalisations, ..."),
    PageInfo("pages/practice.py", N_("Practice"), "✏️", "practice",
             "Exercises with fresh numbers each time, checked answers, worked solutions; a seed to share a set."),
    PageInfo("pages/glossary.py", N_("Glossary"), "📖", "glossary",
             "Every term in English and Japanese (成長率, 圧縮率 θ, ボトルネック層, ...) and where to see it."),
)


def page_info(file: str) -> PageInfo:
    """The declaration of the page in ``file`` (a path ending in e.g. 'pages/densenet.py')."""
    name = file.replace("\\", "/").rsplit("pages/", 1)[-1]
    return next(p for p in PAGES if p.file == f"pages/{name}")


def home() -> None:
    import streamlit as st

    from pages import arrived_at

    arrived_at("home")
    st.title(APP_TITLE)
    st.markdown(
        "Learn DenseNet and Inception by changing them. Every slider rebuilds a live PyTorch model, and its "
        "channels, parameters, MACs and memory are recomputed exactly: the numbers agree with the papers and "
        "with torchvision.")
    st.markdown("**Where to start:** open the DenseNet builder and move the growth rate k; then compare your "
                "build with the published models. Every page's address keeps its settings: copy it to share "
                "exactly what you see.")
    for page in PAGES:
        st.page_link(page.file, label=f"**{page.title}**: {page.purpose}", icon=page.icon)
    st.caption("MACs = multiply-accumulates of convolutions and linear layers (torchvision's 'GFLOPS'); "
               "FLOPs = 2 × MACs. Parameters = sum of p.numel(); BN running statistics are buffers, not parameters.")


if __name__ == "__main__":
    import streamlit as st

    st.set_page_config(page_title=APP_TITLE, page_icon=APP_ICON, layout="wide")
    navigation = st.navigation(
        [st.Page(home, title="Start here", icon=APP_ICON, url_path="home", default=True),
         *(st.Page(p.file, title=p.title, icon=p.icon, url_path=p.url_path) for p in PAGES)])
    navigation.run()
