"""The app's pages, declared once: title, icon, address and purpose of each (the one home of page
titles). ``streamlit_app.py`` builds the navigation from them; the pages read their own back through
``page_info``. A module, not the main script: Streamlit re-executes the main script on every rerun,
and a dataclass made there (~1.7 ms) was made again at every slider step."""

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
