"""Glossary: every term in English and Japanese, with a one-line definition and where to see it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.teach.glossary import TERMS
from pages import setup_page
from pages.ui.i18n import language_switch, localized_link, page_language

_ = page_language()
setup_page(_("Glossary"), "📖")
_ = language_switch()

st.title(_("Glossary"))
st.markdown(_("The terms as Japanese textbooks and the E資格 syllabus use them, with their English names."))

search = st.text_input(_("Filter"), key="glossary_filter", placeholder=_("e.g. growth, 成長率"))
needle = search.strip().lower()
rows = [{"English": term.en, "日本語": term.ja, _("Definition"): _(term.definition),
         _("Where to see it"): localized_link(term.link)}
        for term in TERMS
        if not needle or needle in term.en.lower() or needle in term.ja.lower() or needle in _(term.definition).lower()]
if rows:
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", column_config={
        _("Where to see it"): st.column_config.LinkColumn(_("Where to see it"), display_text=_("open"))})
else:
    st.info(_("No term matches the filter."))
st.caption(_("{n} terms.").format(n=len(TERMS)))
