"""Drawing the teaching material: theory panels and guided walkthroughs (content in explorer.teach)."""

from __future__ import annotations

import json

import streamlit as st

from explorer.i18n import translator
from explorer.models.densenet import DenseNetConfig
from explorer.models.inception import InceptionModuleConfig
from explorer.teach.figures import FIGURES
from explorer.teach.glossary import TERM_KEYS
from explorer.teach.theory import PANEL_KEYS, Panel, formula_text, panel_example
from explorer.teach.walkthrough import densenet_walkthrough, inception_walkthrough

from pages.ui.messages import literal
from pages.ui.charts import prepare, show_chart
from pages.ui.state import presenting

from .i18n import app_link, current_language


def md_text(text: str) -> str:
    """Generated text (paragraphs, '- ' list items) through Markdown: each line shown as written
    by ``pages.ui.messages.literal``, the one escaper of every page (D_K stays D_K)."""
    return "\n".join("- " + literal(line[2:]) if line.startswith("- ") else literal(line) for line in text.split("\n"))


def _translate(_):
    return _ or translator(current_language()).gettext


def term_names(keys, lang: str) -> str:
    """'成長率 k (growth rate k)' in Japanese, 'growth rate k (成長率 k)' in English."""
    terms = [TERM_KEYS[key] for key in keys]
    return ", ".join(f"{t.ja} ({t.en})" if lang == "ja" else f"{t.en} ({t.ja})" for t in terms)


def _language(_) -> str:
    return getattr(_, "lang", None) or current_language()


# What a panel and a walkthrough show depends only on the language, presentation mode and (for a
# walkthrough) the config, never on who reads it: made once, kept for every session (issue #24: 1.2 s
# of server CPU a visit to Learn, mostly its normalisation figure's 96 validated plotly shapes).
@st.cache_resource(max_entries=64, show_spinner=False)
def _panel(key: str, lang: str, present: bool) -> tuple:
    """A theory panel ready to draw: (paragraphs, example, figure, terms caption)."""
    panel, _ = PANEL_KEYS[key], translator(lang)
    example = panel_example(panel.key, _)
    figure = prepare(FIGURES[panel.figure](_), present) if panel.figure else None
    return (tuple(md_text(_(paragraph)) for paragraph in panel.paragraphs), md_text(example) if example else None,
            figure, md_text(_("Terms: {terms}").format(terms=term_names(panel.terms, lang))))


def render_panel(panel: Panel, _=None, expanded: bool = False) -> None:
    """One theory panel in an expander: text, formulas, a computed example, a figure, its terms
    and a link to the page that shows it live. Filled only while it is open (a lazy expander: a
    closed panel costs its title), from ``_panel``."""
    _ = _translate(_)
    box = st.expander(_(panel.title), expanded=expanded, key=f"panel_{panel.key}", on_change="rerun")
    if not box.open:
        return
    paragraphs, example, figure, terms = _panel(panel.key, _language(_), presenting())
    with box:
        for paragraph in paragraphs:
            st.markdown(paragraph)
        for formula in panel.formulas:
            st.latex(formula_text(formula, _))
        if example:
            st.info(example, icon="🔢")
        if figure is not None:
            show_chart(figure, key=f"panel_figure_{panel.key}")
        st.caption(terms)
        app_link(panel.link, _(panel.link_label))


_CONFIGS = {"DenseNetConfig": DenseNetConfig, "InceptionModuleConfig": InceptionModuleConfig}


@st.cache_resource(max_entries=256, show_spinner=False)
def _steps(kind: str, config_json: str, block: int, lang: str, present: bool) -> tuple:
    """A walkthrough's steps ready to draw: (title, text, figure or None) each."""
    config, _ = _CONFIGS[kind].from_dict(json.loads(config_json)), translator(lang)
    steps = densenet_walkthrough(config, block, _) if kind == "DenseNetConfig" else inception_walkthrough(config, _)
    return tuple((f"**{md_text(step.title)}**", md_text(step.text),
                  prepare(step.figure, present) if step.figure is not None else None) for step in steps)


def walkthrough(config, _=None, key: str = "walkthrough", opened: bool = False) -> None:
    """The guided walkthrough of a DenseNet or an Inception module config, behind a toggle: its
    steps and figures are built only while it is open (once per config and language, ``_steps``),
    so slider moves stay fast when it is closed.

    Call it from a Build page with the live config: ``walkthrough(config)``."""
    _ = _translate(_)
    if not st.toggle("🎓 " + _("Guided walkthrough: step by step with your settings"), value=opened,
                     key=f"{key}_open"):
        return
    with st.container(border=True):
        kind, block = type(config).__name__, 1
        if kind not in _CONFIGS:
            st.caption(_("No walkthrough for this architecture yet."))
            return
        if isinstance(config, DenseNetConfig) and len(config.block_config) > 1:
            block = st.selectbox(_("Dense block"), range(1, len(config.block_config) + 1), key=f"{key}_block",
                                 format_func=lambda b: _("block {b}").format(b=b)) or 1
        steps = _steps(kind, json.dumps(config.to_dict(), sort_keys=True), block, _language(_), presenting())
        for i, (title, text, figure) in enumerate(steps):
            st.markdown(title)
            st.markdown(text)
            if figure is not None:
                show_chart(figure, key=f"{key}_figure_{i}")
