"""Glossary: every term in English and Japanese, with a one-line definition and where to see it."""

from __future__ import annotations

import streamlit as st

from explorer.i18n import N_
from explorer.teach.glossary import TERMS
from pages.ui.i18n import PAGE_TITLES, app_link, current_language, start_page
from pages.ui.teach import md_text

_ = start_page(N_("Glossary"), "📖")
lang = current_language()

st.markdown(_("The terms as Japanese textbooks and the E資格 syllabus use them, with their English names."))
search = st.text_input(_("Filter"), key="glossary_filter", placeholder=_("e.g. growth, 成長率"))
needle = search.strip().lower()  # only compared, never shown
shown = [term for term in TERMS
         if not needle or needle in term.en.lower() or needle in term.ja.lower() or needle in _(term.definition).lower()]
if not shown:
    st.info(_("No term matches the filter."))
for term in shown:
    # One bordered card per term: reads well on a phone, where a wide table would not.
    with st.container(border=True):
        first, second = (term.ja, term.en) if lang == "ja" else (term.en, term.ja)
        st.markdown(f"**{md_text(first)}** · {md_text(second)}")
        st.markdown(md_text(_(term.definition)))
        app_link(term.link, _("Where to see it: {page}").format(page=_(PAGE_TITLES[term.page])), icon="🔎")
st.caption(_("{n} terms.").format(n=len(TERMS)))
