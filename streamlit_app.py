"""Entry point and home page: `streamlit run streamlit_app.py` (or `make run`).

The pages in `pages/` are discovered by Streamlit and listed in the sidebar; each also runs on its own.
"""

from pathlib import Path

import streamlit as st

ROOT = Path(__file__).parent
PAGES = [  # (file, title, icon, what it is for); pages that are not there yet are skipped
    ("pages/densenet.py", "DenseNet builder", "🧱",
     "Growth rate, block depths, compression θ and bottleneck: watch channels, parameters, MACs and memory."),
    ("pages/inception.py", "Inception builder", "🔀",
     "Design an Inception module branch by branch and see what the 1×1 reductions save; edit GoogLeNet."),
    ("pages/compare.py", "Compare", "📊",
     "DenseNet, GoogLeNet, Inception v3, ResNet-50, ResNeXt-50 and your builds side by side."),
    ("pages/explain.py", "Classify & explain", "🔎",
     "Classify an image with a pretrained model and see where it looked (Grad-CAM and more)."),
]

st.set_page_config(page_title="CNN architecture explorer", page_icon="🧩", layout="wide")
st.title("CNN architecture explorer")
st.markdown(
    "Learn DenseNet and Inception by changing them. Every slider rebuilds a live PyTorch model, and its "
    "channels, parameters, MACs and memory are recomputed exactly: the numbers agree with the papers and "
    "with torchvision.")
for path, title, icon, purpose in PAGES:
    if (ROOT / path).exists():
        st.page_link(path, label=f"**{title}**: {purpose}", icon=icon)
st.caption("MACs = multiply-accumulates of convolutions and linear layers (torchvision's 'GFLOPS'); "
           "FLOPs = 2 × MACs. Parameters = sum of p.numel(); BN running statistics are buffers, not parameters.")
