"""Entry point: `streamlit run streamlit_app.py` (or `make run`)."""

from pathlib import Path

import streamlit as st

st.set_page_config(page_title="CNN architecture explorer", page_icon="🧩", layout="wide")

ROOT = Path(__file__).parent
PAGES = [  # (file, title, icon); pages that are not there yet are skipped
    ("pages/1_DenseNet.py", "DenseNet builder", "🧱"),
    ("pages/2_Inception.py", "Inception builder", "🔀"),
    ("pages/3_Compare.py", "Compare", "📊"),
    ("pages/4_Explain.py", "Classify & explain", "🔎"),
]


def home() -> None:
    st.title("CNN architecture explorer")
    st.markdown(
        "Learn DenseNet and Inception by changing them. Every slider rebuilds a live PyTorch model, and its "
        "channels, parameters, MACs and memory are recomputed exactly — the numbers agree with the papers "
        "and with torchvision.")
    for path, title, icon in PAGES:
        if (ROOT / path).exists():
            st.page_link(path, label=title, icon=icon)
    st.caption("MACs = multiply-accumulates of convolutions and linear layers (torchvision's 'GFLOPS'); "
               "FLOPs = 2 × MACs. Parameters = sum of p.numel(); BN running statistics are buffers.")


pages = [st.Page(home, title="Home", icon="🏠", default=True)]
pages += [st.Page(path, title=title, icon=icon) for path, title, icon in PAGES if (ROOT / path).exists()]
st.navigation(pages).run()
