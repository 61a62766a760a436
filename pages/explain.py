"""Classify & explain: a pretrained model's (or your own DenseNet's) top-5 and where it looked.

Everything heavy runs as a job (``pages.ui.jobs``): decoding an upload (once, under a CPU-time
limit), loading a user's weights and every explanation, on both sides. The server only draws."""

from __future__ import annotations

import time
from types import SimpleNamespace

import streamlit as st

from explorer import sharing
from explorer.charts import explain as charts
from explorer.i18n import N_
from explorer.models.registry import best_device
from explorer.vision.attribution import METHODS
from explorer.vision.download import default_model, model_status
from explorer.vision.explain import search_categories
from explorer.vision.images import MAX_UPLOAD_BYTES, SAMPLES, UPLOAD_TYPES
from explorer.vision.overlay import COLORMAPS, jpeg_bytes, npy_bytes, overlay, png_bytes, predictions_csv
from explorer.vision.weights import REGISTRY, imagenet_categories
from pages.ui.charts import show_chart
from pages.ui.i18n import file_uploader
from pages.ui.jobs import explanation
from pages.ui.messages import literal, show_error
from pages.ui.page import page_header
from pages.ui.settings import (Setting, link_notes, publish_settings, read_settings, restore_settings,
                               setting_defaults, share_link, unknown_keys)
from pages.ui.sources import own_weights, page_image, trained_weights, weights_ready
from pages.ui.trained import MODEL_KEY  # where the Train page keeps the model it trained

TOP = -1  # "explain the top prediction" in the class selector
TRAINED = "trained"  # the model choice "your DenseNet": trained on the Train page or uploaded as .safetensors
MODELS = (*REGISTRY, TRAINED)
SMALL = 256  # images narrower than this (the 32 px digits) are drawn stretched to the column
SOURCES = {"sample": N_("Sample"), "upload": N_("Upload")}  # codes in the session and the address, shown translated
SIDES = {"off": N_("Off"), "model": N_("Another model"), "layer": N_("Another layer")}
# Settings: a link's, else as this session left them, else these (the default model: the best one ready now).
SETTINGS = (
    Setting("explain_sample", "image", "chelsea", choices=(*SAMPLES, "upload")),  # "upload": the source
    Setting("explain_source", None, "sample", choices=tuple(SOURCES)),
    Setting("explain_model", "model", default_model(), choices=MODELS),
    Setting("explain_method", "method", "gradcam", choices=tuple(METHODS)),
    Setting("explain_colormap", "cmap", "jet", choices=tuple(COLORMAPS)),
    Setting("explain_compare", "side", "off", choices=tuple(SIDES)),
    Setting("explain_target", "target", TOP, TOP, len(imagenet_categories()) - 1),
    Setting("explain_alpha", "alpha", 0.5, 0.0, 1.0),
    Setting("explain_class_query", "find", ""),
)
DEFAULTS = setting_defaults(SETTINGS)
LINK_KEYS = {row.address for row in SETTINGS if row.address} | {"layer", "model_b", "layer_b"}


def from_link(query: dict) -> tuple[dict, list]:
    """The table's values, and the layers (and second model) a link names for its model."""
    values, notes = read_settings(SETTINGS, query)
    notes = unknown_keys(query, LINK_KEYS) + notes
    if values["explain_sample"] == "upload":  # the address's image: a sample's name or "upload"
        values.update(explain_source="upload", explain_sample=DEFAULTS["explain_sample"])
    values["explain_class_query"] = str(query.get("find", ""))[:80]
    model, side = values["explain_model"], values["explain_compare"]
    if model == TRAINED:  # its layers depend on the model, which no link carries
        return values, notes

    def read(key: str, address: str, default: str, choices) -> str:  # one more choice the link may carry
        values[key], more = sharing.read_choice(query, address, default, list(choices))
        notes.extend(more)
        return values[key]
    read(f"explain_layer_{model}", "layer", REGISTRY[model].default_cam_layer, REGISTRY[model].cam_layers)
    others = [n for n in REGISTRY if n != model]
    second = read("explain_model_b", "model_b", others[0], others) if side == "model" else model
    if side != "off" and "layer_b" in query:
        read(f"explain_layer_b_{second}", "layer_b", REGISTRY[second].cam_layers[0], REGISTRY[second].cam_layers)
    return values, notes


def model_label(name: str) -> str:
    return (_("Your DenseNet (trained here, or a .safetensors file)") if name == TRAINED
            else charts.model_label(REGISTRY[name].title, model_status(name), _=_))


def layer_select(layers, default: str, label: str, key: str) -> str | None:
    if st.session_state.setdefault(key, default) not in layers:
        st.session_state[key] = default
    return st.selectbox(label, list(layers), key=key,
                        format_func=lambda n: _("{layer} (default)").format(layer=n) if n == default else n)


def class_select(key: str, options: list[int], names, fallback: int = TOP) -> int | None:
    """The class to explain among ``options`` (``fallback`` if the one chosen is not there); None: the top."""
    if st.session_state.setdefault(key, TOP) not in options:
        st.session_state[key] = fallback
    st.selectbox(_("Explain class"), options, key=key,
                 format_func=lambda i: _("the top prediction") if i == TOP else f"{names[i]} ({i})")
    return None if st.session_state[key] == TOP else st.session_state[key]


def pick_first_match() -> None:
    """Typing a class name selects its best match (the list below still offers the others)."""
    matches = search_categories(list(imagenet_categories()), st.session_state["explain_class_query"])
    st.session_state["explain_target"] = matches[0][0] if matches else TOP


def controls() -> SimpleNamespace:
    state = st.session_state
    st.radio(_("Image"), list(SOURCES), key="explain_source", horizontal=True, format_func=lambda v: _(SOURCES[v]))
    sample, upload = None, None
    if state["explain_source"] == "sample":
        sample = st.selectbox(_("Sample image"), list(SAMPLES), key="explain_sample")
    else:
        upload = file_uploader(_("Image (JPEG, PNG, WebP, BMP, GIF, TIFF)"), type=UPLOAD_TYPES,
                               key="explain_upload", max_upload_size=MAX_UPLOAD_BYTES // 2**20)
    st.selectbox(_("Model"), MODELS, key="explain_model", format_func=model_label)
    # weights: the user's, as ``explanation`` takes them; target None: the top prediction
    choice = SimpleNamespace(model=state["explain_model"], method=state["explain_method"], sample=sample,
                             upload=upload, weights=None, layers=(), default_layer=None, layer=None, target=None)
    if choice.model == TRAINED:
        choice.weights, info = trained_weights("explain_safetensors", MODEL_KEY)
    else:
        choice.weights, info = own_weights(choice.model, f"explain_weights_{choice.model}"), REGISTRY[choice.model]
    if info is not None:  # a published model's spec or a trained DenseNet's info
        choice.layers, choice.default_layer = info.cam_layers, info.default_cam_layer
    choice.method = st.selectbox(_("Method"), list(METHODS), key="explain_method",
                                 format_func=lambda m: _(METHODS[m].title))
    st.caption(_(METHODS[choice.method].note))
    if METHODS[choice.method].takes_layer and choice.layers:
        choice.layer = layer_select(choice.layers, choice.default_layer, _("Layer (Grad-CAM)"),
                                    f"explain_layer_{choice.model}")
        st.caption(charts.layer_note(choice.layer, _=_))
    if choice.model == TRAINED:
        names = list(info.classes) if info else []
        choice.target = class_select("explain_trained_target", [TOP, *range(len(names))], names)
    else:
        st.text_input(_("Find a class"), key="explain_class_query", placeholder=_("e.g. tabby, espresso"),
                      on_change=pick_first_match)
        query, names = state["explain_class_query"], imagenet_categories()
        matches = [index for index, _label in search_categories(list(names), query)]
        if query.strip() and not matches:
            st.warning(_("No ImageNet class matches “{query}”; explaining the top prediction.").format(
                query=literal(query.strip())), icon="🔎")
        choice.target = class_select("explain_target", [TOP, *matches], names, matches[0] if matches else TOP)
    st.slider(_("Overlay opacity"), 0.0, 1.0, step=0.05, key="explain_alpha")
    st.selectbox(_("Colour map"), list(COLORMAPS), key="explain_colormap")
    st.radio(_("Side by side"), list(SIDES), key="explain_compare", format_func=lambda v: _(SIDES[v]))
    return choice


def current_settings(choice) -> tuple[dict, dict[str, str]]:
    """(what to keep for this session, the address) of the controls as they are now."""
    state, model, side = st.session_state, choice.model, st.session_state["explain_compare"]
    kept = {**{k: state[k] for k in DEFAULTS}, f"explain_layer_{model}": state.get(f"explain_layer_{model}")}
    query = {"image": "upload" if state["explain_source"] == "upload" else state["explain_sample"],
             "model": model, "method": choice.method, "layer": choice.layer, "target": str(state["explain_target"]),
             "find": state["explain_class_query"], "alpha": repr(float(state["explain_alpha"])),
             "cmap": state["explain_colormap"], "side": side}
    if model == TRAINED:  # its classes and layers are the model's own: not for a link
        query.update(layer=None, target=str(TOP), find="")
    if side == "model" and "explain_model_b" in state:
        kept["explain_model_b"] = query["model_b"] = state["explain_model_b"]
    second = state.get("explain_model_b") if side == "model" else model
    if side != "off" and f"explain_layer_b_{second}" in state:
        kept[f"explain_layer_b_{second}"] = query["layer_b"] = state[f"explain_layer_b_{second}"]
    default_query = {**{row.address: str(row.default) for row in SETTINGS if row.address},
                     "layer": REGISTRY[model].default_cam_layer if model in REGISTRY else None}
    return kept, {k: v for k, v in query.items() if v is not None and default_query.get(k) != v}


def show_image(column, picture, caption: str) -> None:
    """JPEG on screen (a PNG of a photo-sized overlay is ~10x larger, sent on every slider step).
    The caption (Markdown) holds a file's name or a model file's class name: shown as typed."""
    column.image(jpeg_bytes(picture), caption=literal(caption), width="stretch" if picture.width < SMALL else "content")


def painted(image, result):  # the result's heatmap over the image, as the sidebar says
    state = st.session_state
    return overlay(image, result.heatmap, state["explain_alpha"], state["explain_colormap"], result.region)


def result_view(image, image_name: str, result, request_seconds: float | None, fresh: bool):
    """The top prediction, the explained class, the time; the image and its overlay (returned); top 5; downloads."""
    top_index, top_label, _p = result.predictions[0]
    c1, c2, c3 = st.columns(3)
    # Probabilities and the method are facts, not changes: no delta arrows.
    # Values are Markdown too, and a trained model's class names come from its file.
    c1.metric(_("Top prediction"), literal(top_label), charts.probability_text(result.predictions, top_index, "p = "),
              delta_color="off", delta_arrow="off")
    c2.metric(_("Explained class"), literal(f"{result.target_label} ({result.target_index})"),
              charts.probability_text(result.predictions, result.target_index, "p = ", _=_),
              delta_color="off", delta_arrow="off")
    # This request's own time: a job's wait and run, or next to nothing when this session already had it.
    c3.metric(_("Time for this view"), f"{request_seconds:.2f} s" if request_seconds is not None else "—")
    method_title = _(METHODS[result.method].title)
    c3.caption(charts.timing_note(method_title + (" · " + result.layer if result.layer else ""), request_seconds,
                                  fresh, result.seconds, _=_))
    drawn = painted(image, result)
    left, right = st.columns(2)
    show_image(left, image, f"{image_name} ({image.width}×{image.height})")
    show_image(right, drawn, f"{method_title}: {result.target_label}")
    show_chart(charts.predictions_figure(result.predictions, result.target_index, _=_), key="explain_chart")
    stem = f"{result.model}-{result.method}-{result.target_index}"
    d1, d2, d3 = st.columns(3)
    # Downloads stay lossless, made only when clicked.
    d1.download_button(_("Overlay (PNG)"), lambda: png_bytes(drawn), f"{stem}.png", "image/png", key="explain_dl_png")
    d2.download_button(_("Heatmap (.npy)"), lambda: npy_bytes(result.heatmap), f"{stem}.npy",
                       "application/octet-stream", key="explain_dl_npy")
    d3.download_button(_("Predictions (CSV)"), predictions_csv(result.predictions), f"{result.model}-top5.csv",
                       "text/csv", key="explain_dl_csv")
    return drawn


def another_model(choice) -> tuple:
    """Side by side with another published model: (it, its layer, None: its own weights)."""
    if choice.model == TRAINED:
        st.info(_("Your DenseNet has its own classes: compare it with another of its layers instead."))
        return None, None, None
    others = [n for n in REGISTRY if n != choice.model]
    if st.session_state.setdefault("explain_model_b", others[0]) not in others:
        st.session_state["explain_model_b"] = others[0]
    second = st.selectbox(_("Second model"), others, key="explain_model_b", format_func=model_label)
    spec = REGISTRY[second]
    layer = (layer_select(spec.cam_layers, spec.default_cam_layer, _("Its layer"), f"explain_layer_b_{second}")
             if METHODS[choice.method].takes_layer else None)
    return second, layer, None


def another_layer(choice) -> tuple:
    """Side by side with another layer of the same model and weights."""
    key = f"explain_layer_b_{choice.model}"
    st.session_state.setdefault(key, choice.layers[0] if choice.layers else None)
    layer = layer_select(choice.layers, choice.default_layer, _("Second layer"), key) if choice.layers else None
    return choice.model, layer, choice.weights


SECOND = {"model": another_model, "layer": another_layer}  # the side-by-side views, by explain_compare


def side_by_side(choice, image, result, drawn) -> None:
    st.subheader(_("Side by side"))
    model, layer, weights = SECOND[st.session_state["explain_compare"]](choice)
    if model is None or (weights is None and not weights_ready(model, "explain_download_")):
        return
    try:
        other, _fresh = explanation(image, model, choice.method, layer, result.target_index, key="explain_job_b",
                                    weights=weights)
        a, b = st.columns(2)
        title = REGISTRY[choice.model].title if choice.model in REGISTRY else result.model
        other_title = REGISTRY[other.model].title if other.model in REGISTRY else other.model
        show_image(a, drawn, title + (f" · {result.layer}" if result.layer else ""))
        share = charts.probability_text(other.predictions, other.target_index, _=_)
        show_image(b, painted(image, other), other_title + (f" · {other.layer}" if other.layer else "")
                   + f" · p({other.target_label}) = {share}")
    except Exception as error:  # noqa: BLE001
        show_error(error)


def explain_view(choice) -> None:
    """The image classified and explained (else the last good result), and a second explanation if chosen."""
    state = st.session_state
    image, image_name = page_image(choice.sample, choice.upload, "explain_upload")
    usable = choice.weights is not None or choice.model != TRAINED and weights_ready(choice.model, "explain_download_")
    if image is None or not usable:
        return
    request_seconds, fresh = None, False
    try:
        started = time.perf_counter()
        result, fresh = explanation(image, choice.model, choice.method, choice.layer, choice.target,
                                    weights=choice.weights)
        request_seconds = time.perf_counter() - started
        state["explain_last"] = (image, image_name, result)
    except Exception as error:  # noqa: BLE001 - every failure becomes a message, never a traceback
        show_error(error)
        if "explain_last" not in state:
            return
        image, image_name, result = state["explain_last"]
        st.caption(_("Showing the last good result."))
    drawn = result_view(image, image_name, result, request_seconds, fresh)
    if state["explain_compare"] != "off":
        side_by_side(choice, image, result, drawn)


link_problems = restore_settings("explain", lambda: DEFAULTS, from_link)
_ = page_header(__file__)
link_notes(link_problems)
st.caption(_("A pretrained ImageNet classifier (or a DenseNet you trained) labels the image; an attribution "
             "method shows which pixels drove the chosen class. Running on {device}.").format(
    device=best_device().type.upper()))
with st.sidebar:
    chosen = controls()
explain_view(chosen)
with st.expander(_("About the methods")):
    for m in METHODS.values():
        st.markdown(f"**{_(m.title)}** — {_(m.note)}")
    st.markdown(_("The heatmap covers the part of the image the model saw (after resizing and the centre crop); "
                  "outside it the image is shown unchanged. Grad-CAM uses the class score before the softmax "
                  "and keeps only positive evidence (ReLU), as in Selvaraju et al. 2017."))
kept_settings, address = current_settings(chosen)
publish_settings("explain", kept_settings, address)
share_link(address)
