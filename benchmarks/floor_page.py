"""The floor: a bare Streamlit page with the sidebar of one of the app's pages (the navigation of nine
pages, the language switch, the presentation toggle and the page's own widgets) and one text line
(benchmarks/rerun_speed.py serves it under Streamlit's default settings); the line shows the moved slider's
value. ?page= picks the set."""

import streamlit as st

NAVIGATION = ["Start here", "DenseNet builder", "Inception builder", "Compare", "Classify & explain",
              "Train & observe", "Learn", "Practice", "Glossary"]


def densenet_widgets() -> None:
    with st.sidebar:
        st.selectbox("Preset", ["densenet121", "densenet169"])
        st.session_state["moved"] = st.slider("Growth rate k", 1, 64, 32)
        st.slider("Dense blocks", 1, 4, 4)
        for i, layers in enumerate((6, 12, 24, 16)):
            st.slider(f"Layers in block {i + 1}", 1, 64, layers)
        st.slider("Compression θ", 0.05, 1.0, 0.5, step=0.05)
        st.toggle("Bottleneck", True)
        st.slider("Bottleneck width (× k)", 1, 8, 4)
        st.number_input("Stem features k0", 1, 256, 64)
        st.radio("Stem", ["imagenet", "cifar"], horizontal=True)
        st.number_input("Input size (px)", 8, 1024, 224)
        st.number_input("Batch size (for memory)", 1, 4096, 1)
        st.slider("Dropout rate", 0.0, 0.9, 0.0, step=0.05)
        st.toggle("Memory-efficient (checkpointing)", False)


def explain_widgets() -> None:
    with st.sidebar:
        st.radio("Image", ["Sample", "Upload"], horizontal=True)
        st.selectbox("Sample image", ["chelsea", "coffee"])
        st.selectbox("Model", ["efficientnet_lite0"])
        st.selectbox("Method", ["gradcam"])
        st.text_input("Find a class")
        st.selectbox("Explain class", ["the top prediction"])
        st.session_state["moved"] = st.slider("Overlay opacity", 0.0, 1.0, 0.5, step=0.05)
        st.selectbox("Colour map", ["jet"])
        st.radio("Side by side", ["Off", "Another model", "Another layer"])


def inception_widgets() -> None:
    controls, _ = st.columns([1, 2.2])
    with controls:
        st.session_state["moved"] = st.slider("Input channels", 1, 1024, 192)
        st.slider("Input size (px)", 1, 112, 28)
        st.toggle("1×1 reductions", True)
        for label, value in zip(["#1x1", "#3x3 reduce", "#3x3", "#5x5 reduce", "#5x5", "pool proj"],
                                (64, 96, 128, 16, 32, 32)):
            st.slider(label, 0, 512, value)
        st.selectbox("Factorisation", ["none", "stacked", "asymmetric"])
        st.toggle("True 5×5 in the '5×5' branch", False)


def compare_widgets() -> None:
    with st.sidebar:
        st.multiselect("Models", ["densenet121", "googlenet"], ["densenet121", "googlenet"])
        st.number_input("Batch size (activation memory)", 1, 4096, 1)
        st.radio("Input size", ["native", "common"], horizontal=True)
    st.selectbox("Architecture", ["densenet"])
    st.selectbox("Start from preset", ["densenet121"])
    st.selectbox("x", ["growth_rate"])
    st.selectbox("y", ["compression"])
    st.session_state["moved"] = st.slider("Steps per axis", 2, 60, 20)
    st.number_input("Batch (activation memory)", 1, 4096, 32)


WIDGETS = {"densenet": densenet_widgets, "explain": explain_widgets, "inception": inception_widgets,
           "compare": compare_widgets}


def floor() -> None:
    st.sidebar.radio("🌐 Language / 言語", ["English", "日本語"], horizontal=True)
    st.sidebar.toggle("Presentation mode (large text)")
    st.title("Floor")
    WIDGETS[st.query_params.get("page", "densenet")]()
    # The line shows the value of the slider the benchmark moves, so every step of the floor ends with
    # a change on the page, as every step of the app does (a step that changed nothing visible settled
    # at the key press, ~6 ms, and made the floor's median jump between ~50 and ~75 ms from run to run).
    st.write(f"One line of text: {st.session_state['moved']}.")


# The app's navigation: nine pages in the sidebar (each draws the floor; the first is the default).
st.navigation([st.Page(floor, title=NAVIGATION[0], default=True)]
              + [st.Page(floor, title=title, url_path=f"floor{i}") for i, title in enumerate(NAVIGATION[1:])]).run()
