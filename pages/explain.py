"""Classify & explain: a pretrained model's top-5 and where it looked (Grad-CAM and more)."""

from __future__ import annotations

import logging
import time

import streamlit as st

from explorer.charts import explain as charts
from explorer.models.registry import best_device
from explorer.errors import ExplorerError
from explorer.vision.attribution import METHODS
from explorer.vision.explain import explain, search_categories
from explorer.vision.overlay import COLORMAPS, npy_bytes, overlay, png_bytes, predictions_csv
from explorer.vision.images import ASSETS, MAX_UPLOAD_BYTES, SAMPLES, UPLOAD_TYPES, decode_image
from explorer.vision.classifier import load_pretrained, pretrained_from_upload
from explorer.vision.download import default_model, fetch_weights, model_status
from explorer.vision.loading import MAX_WEIGHTS_BYTES
from explorer.vision.weights import REGISTRY, WeightsError, imagenet_categories
from explorer import sharing
from pages import (heavy, link_notes, literal, page_header, publish_settings, restore_settings, share_link, show_error,
                   unknown_keys)
from pages.layout import show_chart

TOP = -1  # "explain the top prediction" in the class selector


@st.cache_resource(max_entries=3, show_spinner=False)
def cached_model(name: str):
    """Shared by every session; explain() holds the model's lock while captum's hooks are on it."""
    return load_pretrained(name, download=False)


@st.cache_resource(max_entries=2, show_spinner=False)
def cached_own_model(name: str, upload_id: str, _data: bytes, file_name: str):
    """A user's uploaded weights, keyed by the upload's id (its bytes are not hashed)."""
    return pretrained_from_upload(name, _data, file_name)


@st.cache_data(max_entries=32, show_spinner=False)
def cached_explanation(image_bytes: bytes, model_name: str, method: str, layer: str | None, target: int | None,
                       upload_id: str | None = None, _own_model=None, _computed: list | None = None):
    """``_computed`` (not part of the cache key) gets an entry when this call really ran, so the page
    can tell this request's time from the cached result's."""
    if _computed is not None:
        _computed.append(True)
    model = cached_model(model_name) if _own_model is None else _own_model
    return explain(model, decode_image(image_bytes), target=target, layer=layer, method=method)


@st.cache_data(max_entries=8, show_spinner=False)
def sample_bytes(name: str) -> bytes:
    return (ASSETS / SAMPLES[name]).read_bytes()


def status_label(name: str) -> str:
    return model_status(name).label


def layer_key(name: str) -> str:
    return f"explain_layer_{name}"


def layer_select(model_name: str, label: str, key: str | None = None) -> str | None:
    spec = REGISTRY[model_name]
    key = key or layer_key(model_name)
    st.session_state.setdefault(key, spec.default_cam_layer)
    return st.selectbox(label, list(spec.cam_layers), key=key,
                        format_func=lambda n: f"{n} (default)" if n == spec.default_cam_layer else n)


def ensure_ready(name: str) -> bool:
    """Ready now, or offer the download (again, after a failed one or a corrupt file); False (with a
    message) when it cannot be used yet."""
    status = model_status(name)
    title = REGISTRY[name].title
    if status.state == "ready":
        return True
    # One plain line for the user; file paths and resolver errors go to the server log only.
    if status.state == "download":
        st.info(f"{title} needs its weights file {status.path.name} ({status.size_bytes / 1e6:.0f} MB), which "
                f"this server has not downloaded yet.")
    elif (status.reason or "").startswith("download failed"):
        st.error(f"{title}: the last download of its weights failed (the details are in the server log).",
                 icon="⚠️")
    else:
        st.error(f"{title} is unavailable: {status.reason}", icon="⚠️")
    if status.fetchable:
        again = "" if status.state == "download" else " again"
        if st.button(f"Download {status.path.name}{again}", key=f"explain_download_{name}"):
            bar = st.progress(0.0, text=f"Downloading {status.path.name}…")

            def report(done: int, total: int | None) -> None:
                fraction = min(done / total, 1.0) if total else 0.0
                size = f" of {total / 1e6:.0f} MB" if total else ""
                bar.progress(fraction, text=f"Downloading {status.path.name}: {done / 1e6:.1f} MB{size}")

            try:
                fetch_weights(name, on_progress=report)
                bar.empty()
                return True
            except WeightsError as error:
                bar.empty()
                logging.getLogger("explorer.ui").warning("%s", error)
                st.error(f"Could not download the weights of {title} (the details are in the server log). "
                         f"Try again later, or choose a model that is ready.", icon="⚠️")
    ready = [n for n in REGISTRY if model_status(n).state == "ready"]
    st.caption("Ready now: " + ", ".join(REGISTRY[n].title for n in ready))
    return False


def pick_first_match() -> None:
    """Typing a class name selects its best match (the list below still offers the others)."""
    matches = search_categories(list(imagenet_categories()), st.session_state["explain_class_query"])
    st.session_state["explain_target"] = matches[0][0] if matches else TOP


# --- settings: from a link, else as this session left them, else the defaults --------------------
SIDES = {"off": "Off", "model": "Another model", "layer": "Another layer"}
LINK_KEYS = {"image", "model", "method", "layer", "target", "find", "alpha", "cmap", "side", "model_b", "layer_b"}


def defaults() -> dict:
    model = default_model()
    return {"explain_source": "Sample", "explain_sample": "chelsea", "explain_model": model,
            "explain_method": "gradcam", "explain_class_query": "", "explain_target": TOP, "explain_alpha": 0.5,
            "explain_colormap": "jet", "explain_compare": "Off"}


def from_link(query: dict) -> tuple[dict, list[str]]:
    notes = unknown_keys(query, LINK_KEYS)
    values = dict(page_defaults)
    image, more = sharing.read_choice(query, "image", "chelsea", [*SAMPLES, "upload"])
    notes += more
    values.update(explain_source="Upload" if image == "upload" else "Sample",
                  explain_sample="chelsea" if image == "upload" else image)
    for key, field, choices in (("model", "explain_model", list(REGISTRY)), ("method", "explain_method", list(METHODS)),
                                ("cmap", "explain_colormap", list(COLORMAPS))):
        values[field], more = sharing.read_choice(query, key, values[field], choices)
        notes += more
    side, more = sharing.read_choice(query, "side", "off", list(SIDES))
    values["explain_compare"] = SIDES[side]
    notes += more
    values["explain_target"], more = sharing.read_int(query, "target", TOP, TOP, len(imagenet_categories()) - 1)
    notes += more
    alpha, more = sharing.read_float(query, "alpha", 0.5, 0.0, 1.0)
    values["explain_alpha"] = alpha
    notes += more
    values["explain_class_query"] = str(query.get("find", ""))[:80]
    spec = REGISTRY[values["explain_model"]]
    layer, more = sharing.read_choice(query, "layer", spec.default_cam_layer, list(spec.cam_layers))
    values[layer_key(values["explain_model"])] = layer
    notes += more
    if side == "model":
        others = [n for n in REGISTRY if n != values["explain_model"]]
        values["explain_model_b"], more = sharing.read_choice(query, "model_b", others[0], others)
        notes += more
    second = values.get("explain_model_b", values["explain_model"]) if side != "off" else None
    if second is not None and "layer_b" in query:
        spec_b = REGISTRY[second]
        values[f"explain_layer_b_{second}"], more = sharing.read_choice(query, "layer_b", spec_b.cam_layers[0],
                                                                        list(spec_b.cam_layers))
        notes += more
    return values, notes


page_defaults = defaults()  # once per run: the default model looks at every weights file
link_problems = restore_settings("explain", lambda: page_defaults, from_link)
page_header(__file__)
link_notes(link_problems)
device = best_device()
st.caption(f"A pretrained ImageNet classifier labels the image; an attribution method shows which pixels "
           f"drove the chosen class. Running on **{device.type.upper()}**.")

# --- controls ------------------------------------------------------------------------------
with st.sidebar:
    st.radio("Image", ["Sample", "Upload"], key="explain_source", horizontal=True)
    if st.session_state["explain_source"] == "Sample":
        st.selectbox("Sample image", list(SAMPLES), key="explain_sample")
        upload = None
    else:
        upload = st.file_uploader("Image (JPEG, PNG, WebP, BMP, GIF, TIFF)", type=UPLOAD_TYPES,
                                  key="explain_upload", max_upload_size=MAX_UPLOAD_BYTES // 2**20)
    st.selectbox("Model", list(REGISTRY), key="explain_model", format_func=status_label)
    model_name = st.session_state["explain_model"]
    with st.expander("Use your own weights (.pth)"):
        own_upload = st.file_uploader(f"A state dict for {REGISTRY[model_name].title} (ImageNet, 1000 classes)",
                                      type=["pth", "pt"], key=f"explain_weights_{model_name}",
                                      max_upload_size=MAX_WEIGHTS_BYTES // 2**20)
    st.selectbox("Method", list(METHODS), key="explain_method", format_func=lambda m: METHODS[m].title)
    method = st.session_state["explain_method"]
    st.caption(METHODS[method].note)
    layer = layer_select(model_name, "Layer (Grad-CAM)") if METHODS[method].takes_layer else None
    if layer:
        st.caption(charts.layer_note(layer))
    st.text_input("Find a class", key="explain_class_query", placeholder="e.g. tabby, espresso",
                  on_change=pick_first_match)
    query = st.session_state["explain_class_query"]
    matches = search_categories(list(imagenet_categories()), query)
    if query.strip() and not matches:
        st.warning(f"No ImageNet class matches “{literal(query.strip())}”; explaining the top prediction.",
                   icon="🔎")
    options = [TOP] + [index for index, _ in matches]
    if st.session_state["explain_target"] not in options:
        st.session_state["explain_target"] = options[1] if len(options) > 1 else TOP
    names = imagenet_categories()
    st.selectbox("Explain class", options, key="explain_target",
                 format_func=lambda i: "the top prediction" if i == TOP else f"{names[i]} ({i})")
    st.slider("Overlay opacity", 0.0, 1.0, step=0.05, key="explain_alpha")
    st.selectbox("Colour map", list(COLORMAPS), key="explain_colormap")
    st.radio("Side by side", ["Off", "Another model", "Another layer"], key="explain_compare")

target = None if st.session_state["explain_target"] == TOP else st.session_state["explain_target"]
alpha, colormap = st.session_state["explain_alpha"], st.session_state["explain_colormap"]


def current_settings() -> tuple[dict, dict[str, str]]:
    """(what to keep for this session, the address) of the controls as they are now."""
    state, base = st.session_state, page_defaults
    side = next(k for k, v in SIDES.items() if v == state["explain_compare"])
    kept = {k: state[k] for k in base}
    kept[layer_key(model_name)] = state.get(layer_key(model_name))
    query = {"image": "upload" if state["explain_source"] == "Upload" else state["explain_sample"],
             "model": model_name, "method": method, "layer": layer, "target": str(state["explain_target"]),
             "find": state["explain_class_query"], "alpha": repr(float(alpha)), "cmap": colormap, "side": side}
    if side == "model" and "explain_model_b" in state:
        kept["explain_model_b"] = query["model_b"] = state["explain_model_b"]
    second = state.get("explain_model_b") if side == "model" else model_name
    if side != "off" and f"explain_layer_b_{second}" in state:
        kept[f"explain_layer_b_{second}"] = query["layer_b"] = state[f"explain_layer_b_{second}"]
    default_query = {"image": "chelsea", "model": base["explain_model"], "method": "gradcam",
                     "layer": REGISTRY[model_name].default_cam_layer, "target": str(TOP), "find": "", "alpha": "0.5",
                     "cmap": "jet", "side": "off"}
    return kept, {k: v for k, v in query.items() if v is not None and default_query.get(k) != v}

# --- the image -------------------------------------------------------------------------------
image_bytes, image_name = None, None
if st.session_state["explain_source"] == "Sample":
    image_name = SAMPLES[st.session_state["explain_sample"]]
    image_bytes = sample_bytes(st.session_state["explain_sample"])
elif upload is not None:
    image_name, image_bytes = upload.name, upload.getvalue()
else:
    st.info("Upload an image, or switch to a sample, to classify it.")

own = (None, None)  # (upload id, Pretrained) when the user's weights replace the published ones
if own_upload is not None:
    try:
        with st.spinner(f"Loading {own_upload.name}…"):
            own = own_upload.file_id, cached_own_model(model_name, own_upload.file_id, own_upload.getvalue(),
                                                       own_upload.name)
        st.sidebar.caption(f"Using your weights from {own_upload.name}.")
    except WeightsError as error:
        show_error(error)

result, request_seconds, computed = None, None, []
if image_bytes is not None and (own[1] is not None if own_upload is not None else ensure_ready(model_name)):
    try:
        image = decode_image(image_bytes, name=image_name)
        computed: list = []
        started = time.perf_counter()
        with st.spinner(f"Running {METHODS[method].title} on {REGISTRY[model_name].title}…"):
            result = heavy(cached_explanation, image_bytes, model_name, method, layer, target, *own,
                           _computed=computed)
        request_seconds = time.perf_counter() - started
        st.session_state["explain_last"] = (image_bytes, image_name, result)
    except ExplorerError as error:
        show_error(error)
    except Exception as error:  # noqa: BLE001 - every failure becomes a message, never a traceback
        show_error(error)
    if result is None and "explain_last" in st.session_state:
        image_bytes, image_name, result = st.session_state["explain_last"]
        image = decode_image(image_bytes, name=image_name)
        st.caption("Showing the last good result.")

# --- the view --------------------------------------------------------------------------------
if result is not None:
    top_index, top_label, top_p = result.predictions[0]
    probability = dict((i, p) for i, _, p in result.predictions)
    c1, c2, c3 = st.columns(3)
    # Probabilities and the method are facts, not changes: no delta arrows.
    c1.metric("Top prediction", top_label, f"p = {100 * top_p:.1f} %", delta_color="off", delta_arrow="off")
    c2.metric("Explained class", f"{result.target_label} ({result.target_index})",
              f"p = {100 * probability[result.target_index]:.1f} %" if result.target_index in probability
              else "below the top 5", delta_color="off", delta_arrow="off")
    c3.metric("Time for this view", f"{request_seconds:.2f} s" if request_seconds is not None else "—")
    method_text = METHODS[result.method].title + (f" at {result.layer}" if result.layer else "")
    if request_seconds is None:
        c3.caption(f"{method_text} (the last good result).")
    else:
        c3.caption(f"{method_text}; computed now." if computed else
                   f"{method_text}; from the cache (computing it took {result.seconds:.2f} s).")
    drawn = overlay(image, result.heatmap, alpha, colormap, result.region)
    left, right = st.columns(2)
    left.image(image, caption=f"{image_name} ({image.width}×{image.height})")
    right.image(drawn, caption=f"{METHODS[result.method].title}: {result.target_label}")
    show_chart(charts.predictions_figure(result.predictions, result.target_index), key="explain_chart")

    stem = f"{result.model}-{result.method}-{result.target_index}"
    d1, d2, d3 = st.columns(3)
    d1.download_button("Overlay (PNG)", png_bytes(drawn), f"{stem}.png", "image/png", key="explain_dl_png")
    d2.download_button("Heatmap (.npy)", npy_bytes(result.heatmap), f"{stem}.npy", "application/octet-stream",
                       key="explain_dl_npy")
    d3.download_button("Predictions (CSV)", predictions_csv(result.predictions), f"{result.model}-top5.csv",
                       "text/csv", key="explain_dl_csv")

    # --- side by side ------------------------------------------------------------------------
    compare = st.session_state["explain_compare"]
    if compare != "Off":
        st.subheader("Side by side")
        if compare == "Another model":
            others = [n for n in REGISTRY if n != result.model]
            st.session_state.setdefault("explain_model_b", others[0])
            st.selectbox("Second model", others, key="explain_model_b", format_func=status_label)
            second_model, second_layer = st.session_state["explain_model_b"], None
            if METHODS[method].takes_layer:
                second_layer = layer_select(second_model, "Its layer", key=f"explain_layer_b_{second_model}")
        else:
            second_model = result.model
            spec = REGISTRY[second_model]
            st.session_state.setdefault(f"explain_layer_b_{second_model}", spec.cam_layers[0])
            second_layer = layer_select(second_model, "Second layer", key=f"explain_layer_b_{second_model}")
        second_own = own if compare == "Another layer" else (None, None)
        if second_own[1] is not None or ensure_ready(second_model):
            try:
                with st.spinner("Explaining with the second setting…"):
                    other = heavy(cached_explanation, image_bytes, second_model, method, second_layer,
                                  result.target_index, *second_own)
                a, b = st.columns(2)
                a.image(drawn, caption=f"{REGISTRY[result.model].title}"
                        + (f" · {result.layer}" if result.layer else ""))
                b.image(overlay(image, other.heatmap, alpha, colormap, other.region),
                        caption=f"{REGISTRY[other.model].title}" + (f" · {other.layer}" if other.layer else "")
                        + f" · p({other.target_label}) = "
                        + next((f"{100 * p:.1f} %" for i, _, p in other.predictions if i == other.target_index),
                               "below top 5"))
            except Exception as error:  # noqa: BLE001
                show_error(error)

with st.expander("About the methods"):
    for name, m in METHODS.items():
        st.markdown(f"**{m.title}** — {m.note}")
    st.markdown("The heatmap covers the part of the image the model saw (after resizing and the centre crop); "
                "outside it the image is shown unchanged. Grad-CAM uses the class score before the softmax "
                "and keeps only positive evidence (ReLU), as in Selvaraju et al. 2017.")

kept_settings, address = current_settings()
publish_settings("explain", kept_settings, address)
share_link(address)
