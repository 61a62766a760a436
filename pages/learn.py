"""Learn: theory panels on the ideas the explorer shows live, and guided walkthroughs."""

from __future__ import annotations

import streamlit as st

from explorer.models.densenet import DenseNetConfig
from explorer.models.inception import InceptionModuleConfig
from explorer.teach.theory import PANEL_KEYS, PANELS
from pages.ui.page import page_header
from pages.ui.teach import render_panel, walkthrough

_ = page_header(__file__)  # title, language switch, phone hint and presentation mode, as on every page

st.markdown(_("Short explanations of the ideas behind DenseNet, Inception and their relatives. Each one links to "
              "the page where you can change the settings and watch the numbers move."))

topic = st.query_params.get("topic")
if topic in PANEL_KEYS:
    st.query_params["topic"] = topic  # keep the opened panel in a shared link
for panel in PANELS:
    render_panel(panel, _, expanded=panel.key == topic)

st.header(_("Guided walkthroughs"))
st.markdown(_("The Build pages show these with your own settings; here they follow DenseNet-121 and GoogLeNet's "
              "module 3a."))
walkthrough(DenseNetConfig(), _, key="learn_densenet", opened=True)
walkthrough(InceptionModuleConfig(), _, key="learn_inception", opened=True)
