"""Drawing the teaching material: theory panels and guided walkthroughs (content in explorer.teach)."""

from __future__ import annotations

import re

import streamlit as st

from explorer.i18n import translator
from explorer.models.densenet import DenseNetConfig
from explorer.models.inception import InceptionModuleConfig
from explorer.teach.figures import FIGURES
from explorer.teach.glossary import TERM_KEYS
from explorer.teach.theory import Panel, panel_example
from explorer.teach.walkthrough import densenet_walkthrough, inception_walkthrough

from pages.layout import show_chart

from .i18n import app_link, current_language

_MARKDOWN = re.compile(r"([\\`*_\[\]<>#~$|])")


def md_text(text: str) -> str:
    """Generated text shown through Markdown with its special characters escaped (D_K stays D_K)."""
    return _MARKDOWN.sub(r"\\\1", text)


def _translate(_):
    return _ or translator(current_language()).gettext


def term_names(keys, lang: str) -> str:
    """'成長率 k (growth rate k)' in Japanese, 'growth rate k (成長率 k)' in English."""
    terms = [TERM_KEYS[key] for key in keys]
    return ", ".join(f"{t.ja} ({t.en})" if lang == "ja" else f"{t.en} ({t.ja})" for t in terms)


def render_panel(panel: Panel, _=None, expanded: bool = False) -> None:
    """One theory panel in an expander: text, formulas, a computed example, a figure, its terms
    and a link to the page that shows it live."""
    _ = _translate(_)
    with st.expander(_(panel.title), expanded=expanded):
        for paragraph in panel.paragraphs:
            st.markdown(md_text(_(paragraph)))
        for formula in panel.formulas:
            st.latex(formula)
        example = panel_example(panel.key, _)
        if example:
            st.info(md_text(example), icon="🔢")
        if panel.figure:
            show_chart(FIGURES[panel.figure](_), key=f"panel_figure_{panel.key}")
        st.caption(md_text(_("Terms: {terms}").format(terms=term_names(panel.terms, current_language()))))
        app_link(panel.link, _(panel.link_label))


def walkthrough(config, _=None, key: str = "walkthrough", opened: bool = False) -> None:
    """The guided walkthrough of a DenseNet or an Inception module config, behind a toggle: its
    steps and figures are built only while it is open, so slider moves stay fast when it is closed.

    Call it from a Build page with the live config: ``walkthrough(config)``."""
    _ = _translate(_)
    if not st.toggle("🎓 " + _("Guided walkthrough: step by step with your settings"), value=opened,
                     key=f"{key}_open"):
        return
    with st.container(border=True):
        if isinstance(config, DenseNetConfig):
            count = len(config.block_config)
            block = st.selectbox(_("Dense block"), range(1, count + 1), key=f"{key}_block",
                                 format_func=lambda b: _("block {b}").format(b=b)) if count > 1 else 1
            steps = densenet_walkthrough(config, block or 1, _)
        elif isinstance(config, InceptionModuleConfig):
            steps = inception_walkthrough(config, _)
        else:
            st.caption(_("No walkthrough for this architecture yet."))
            return
        for i, step in enumerate(steps):
            st.markdown(f"**{md_text(step.title)}**")
            st.markdown(md_text(step.text))
            if step.figure is not None:
                show_chart(step.figure, key=f"{key}_figure_{i}")
