"""Classify & explain: a pretrained model's (or your own DenseNet's) top-5 and where it looked.

Everything heavy runs as a job in the job layer (``pages.run_job``): decoding an upload (once,
under a CPU-time limit; reruns reuse the decoded, size-capped image), loading a user's weights
and every explanation, on both sides of the side-by-side view. The server only draws.
"""

from __future__ import annotations

import time

import streamlit as st

from explorer import sharing
from explorer.charts import explain as charts
from explorer.errors import ExplorerError
from explorer.i18n import N_
from explorer.models.registry import best_device
from explorer.units import format_bytes
from explorer.vision.attribution import METHODS
from explorer.vision.download import default_model, fetch_weights, model_status
from explorer.vision.explain import search_categories
from explorer.vision.images import ASSETS, MAX_UPLOAD_BYTES, SAMPLES, UPLOAD_TYPES, decode_image
from explorer.vision.loading import MAX_WEIGHTS_BYTES
from explorer.vision.overlay import COLORMAPS, jpeg_bytes, npy_bytes, overlay, png_bytes, predictions_csv
from explorer.vision.trained import read_info
from explorer.vision.weights import REGISTRY, WeightsError, imagenet_categories
from pages.ui.jobs import admit_upload, decoded_image, explanation
from pages.ui.messages import literal, show_error
from pages.ui.page import page_header
from pages.ui.settings import link_notes, publish_settings, restore_settings, share_link, unknown_keys
from pages.ui.charts import show_chart
from pages.ui.i18n import file_uploader

TOP = -1  # "explain the top prediction" in the class selector
TRAINED = "trained"  # the model choice "your DenseNet": trained on the Train page or uploaded as .safetensors
TRAINED_KEY = "trained_model_file"  # the Train page keeps {"name": "....safetensors", "data": bytes} here
MODELS = [*REGISTRY, TRAINED]
SMALL = 256  # images narrower than this (the 32 px digits) are drawn stretched to the column


@st.cache_resource(max_entries=16, show_spinner=False)
def sample_image(name: str):
    """A bundled sample (trusted, at most 600 x 400 px), decoded once for every session."""
    return decode_image(ASSETS / SAMPLES[name])


def layer_key(name: str) -> str:
    return f"explain_layer_{name}"


def ensure_ready(name: str) -> bool:
    """Ready now, or offer the download (again, after a failed one or a corrupt file); False (with a
    message) when it cannot be used yet."""
    status = model_status(name)
    title = REGISTRY[name].title
    if status.state == "ready":
        return True
    # One plain line for the user; file paths and resolver errors go to the server log only.
    if status.state == "download":
        st.info(_("{model} needs its weights file {file} ({size}), which this server has not downloaded yet.")
                .format(model=title, file=status.path.name, size=format_bytes(status.size_bytes)))
    elif (status.reason or "").startswith("download failed"):
        st.error(_("{model}: the last download of its weights failed (the details are in the server log).")
                 .format(model=title), icon="⚠️")
    else:
        st.error(_("{model} is unavailable: {reason}").format(model=title, reason=status.reason), icon="⚠️")
    if status.fetchable:
        text = _("Download {file}") if status.state == "download" else _("Download {file} again")
        if st.button(text.format(file=status.path.name), key=f"explain_download_{name}"):
            bar = st.progress(0.0, text=_("Downloading {file}…").format(file=status.path.name))

            def report(done: int, total: int | None) -> None:
                fraction = min(done / total, 1.0) if total else 0.0
                bar.progress(fraction, text=_("Downloading {file}: {done} of {total}").format(
                    file=status.path.name, done=format_bytes(done), total=format_bytes(total) if total else "?"))

            try:
                fetch_weights(name, on_progress=report)
                bar.empty()
                return True
            except WeightsError as error:
                bar.empty()
                import logging

                logging.getLogger("explorer.ui").warning("%s", error)
                st.error(_("Could not download the weights of {model} (the details are in the server log). "
                           "Try again later, or choose a model that is ready.").format(model=title), icon="⚠️")
    ready = [n for n in REGISTRY if model_status(n).state == "ready"]
    st.caption(_("Ready now: {models}").format(models=", ".join(REGISTRY[n].title for n in ready)))
    return False


def pick_first_match() -> None:
    """Typing a class name selects its best match (the list below still offers the others)."""
    matches = search_categories(list(imagenet_categories()), st.session_state["explain_class_query"])
    st.session_state["explain_target"] = matches[0][0] if matches else TOP


# --- settings: from a link, else as this session left them, else the defaults --------------------
SIDES = {"off": "Off", "model": "Another model", "layer": "Another layer"}
SIDE_LABELS = {"Off": N_("Off"), "Another model": N_("Another model"), "Another layer": N_("Another layer")}
SOURCE_LABELS = {"Sample": N_("Sample"), "Upload": N_("Upload")}
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
    for key, field, choices in (("model", "explain_model", MODELS), ("method", "explain_method", list(METHODS)),
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
    if values["explain_model"] == TRAINED:  # its layers depend on the model, which no link carries
        return values, notes
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
_ = page_header(__file__)
link_notes(link_problems)
device = best_device()
st.caption(_("A pretrained ImageNet classifier (or a DenseNet you trained) labels the image; an attribution "
             "method shows which pixels drove the chosen class. Running on {device}.").format(
    device=device.type.upper()))


def model_label(name: str) -> str:
    if name == TRAINED:
        return _("Your DenseNet (trained here, or a .safetensors file)")
    status = model_status(name)
    title = REGISTRY[name].title
    if status.state == "ready":
        return _("{model}: ready").format(model=title)
    if status.state == "download":
        return _("{model}: needs download ({size})").format(model=title, size=format_bytes(status.size_bytes))
    return _("{model}: unavailable").format(model=title)


def layer_select(layers: list[str], default: str, label: str, key: str) -> str | None:
    st.session_state.setdefault(key, default)
    if st.session_state[key] not in layers:
        st.session_state[key] = default
    return st.selectbox(label, layers, key=key,
                        format_func=lambda n: _("{layer} (default)").format(layer=n) if n == default else n)


# --- controls ------------------------------------------------------------------------------
trained_info, own_weights = None, None  # (kind, file name, bytes, tag) when the user's weights are used
with st.sidebar:
    st.radio(_("Image"), list(SOURCE_LABELS), key="explain_source", horizontal=True,
             format_func=lambda v: _(SOURCE_LABELS[v]))
    if st.session_state["explain_source"] == "Sample":
        st.selectbox(_("Sample image"), list(SAMPLES), key="explain_sample")
        upload = None
    else:
        upload = file_uploader(_("Image (JPEG, PNG, WebP, BMP, GIF, TIFF)"), type=UPLOAD_TYPES,
                               key="explain_upload", max_upload_size=MAX_UPLOAD_BYTES // 2**20)
    st.selectbox(_("Model"), MODELS, key="explain_model", format_func=model_label)
    model_name = st.session_state["explain_model"]
    if model_name == TRAINED:
        trained = st.session_state.get(TRAINED_KEY)
        file = file_uploader(_("A DenseNet saved by the Train page (.safetensors)"), type=["safetensors"],
                             key="explain_safetensors", max_upload_size=MAX_WEIGHTS_BYTES // 2**20)
        try:
            if file is not None:
                admit_upload(file, "explain_safetensors")
                source = (file.name, file.getvalue(), file.file_id)
            elif trained:
                source = (trained["name"], trained["data"], "session:" + trained["name"])
            else:
                source = None
                st.info(_("Train a DenseNet on the Train page (it stays for this session), or upload a "
                          ".safetensors file saved there."))
            if source is not None:
                trained_info = read_info(source[1], source[0])
                own_weights = ("safetensors", source[0], source[1], (source[2], len(source[1])))
                accuracy = trained_info.info.get("val_accuracy")
                st.caption(_("Using {file}: {n} classes, {size}×{size} px input.").format(
                    file=literal(source[0]), n=len(trained_info.classes), size=trained_info.input_size)
                    + (" " + _("Validation accuracy {acc:.1f} %.").format(acc=100 * float(accuracy))
                       if isinstance(accuracy, (int, float)) else ""))
        except ExplorerError as error:
            show_error(error)
            trained_info, own_weights = None, None
    else:
        with st.expander(_("Use your own weights (.pth)")):
            weights_key = f"explain_weights_{model_name}"
            own_upload = file_uploader(_("A state dict for {model} (ImageNet, 1000 classes)").format(
                model=REGISTRY[model_name].title), type=["pth", "pt"], key=weights_key,
                max_upload_size=MAX_WEIGHTS_BYTES // 2**20)
            if own_upload is not None:
                try:
                    admit_upload(own_upload, weights_key)
                    own_weights = ("pth", own_upload.name, own_upload.getvalue(), own_upload.file_id)
                    st.caption(_("Using your weights from {file} (loaded by the worker that explains).").format(
                        file=literal(own_upload.name)))
                except ExplorerError as error:
                    show_error(error)
    st.selectbox(_("Method"), list(METHODS), key="explain_method", format_func=lambda m: _(METHODS[m].title))
    method = st.session_state["explain_method"]
    st.caption(_(METHODS[method].note))
    if model_name == TRAINED:
        layers = list(trained_info.cam_layers) if trained_info else []
        default_layer = trained_info.default_cam_layer if trained_info else None
    else:
        layers, default_layer = list(REGISTRY[model_name].cam_layers), REGISTRY[model_name].default_cam_layer
    layer = None
    if METHODS[method].takes_layer and layers:
        layer = layer_select(layers, default_layer, _("Layer (Grad-CAM)"), layer_key(model_name))
        st.caption(charts.layer_note(layer, _=_))
    if model_name == TRAINED:
        names = list(trained_info.classes) if trained_info else []
        st.session_state.setdefault("explain_trained_target", TOP)
        if st.session_state["explain_trained_target"] not in [TOP, *range(len(names))]:
            st.session_state["explain_trained_target"] = TOP
        st.selectbox(_("Explain class"), [TOP, *range(len(names))], key="explain_trained_target",
                     format_func=lambda i: _("the top prediction") if i == TOP else f"{names[i]} ({i})")
        target = None if st.session_state["explain_trained_target"] == TOP else st.session_state[
            "explain_trained_target"]
    else:
        st.text_input(_("Find a class"), key="explain_class_query", placeholder=_("e.g. tabby, espresso"),
                      on_change=pick_first_match)
        query = st.session_state["explain_class_query"]
        matches = search_categories(list(imagenet_categories()), query)
        if query.strip() and not matches:
            st.warning(_("No ImageNet class matches “{query}”; explaining the top prediction.").format(
                query=literal(query.strip())), icon="🔎")
        options = [TOP] + [index for index, _label in matches]
        if st.session_state["explain_target"] not in options:
            st.session_state["explain_target"] = options[1] if len(options) > 1 else TOP
        names = imagenet_categories()
        st.selectbox(_("Explain class"), options, key="explain_target",
                     format_func=lambda i: _("the top prediction") if i == TOP else f"{names[i]} ({i})")
        target = None if st.session_state["explain_target"] == TOP else st.session_state["explain_target"]
    st.slider(_("Overlay opacity"), 0.0, 1.0, step=0.05, key="explain_alpha")
    st.selectbox(_("Colour map"), list(COLORMAPS), key="explain_colormap")
    st.radio(_("Side by side"), list(SIDE_LABELS), key="explain_compare", format_func=lambda v: _(SIDE_LABELS[v]))

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
    if model_name == TRAINED:  # its classes and layers are the model's own: not for a link
        query.update(layer=None, target=str(TOP), find="")
    if side == "model" and "explain_model_b" in state:
        kept["explain_model_b"] = query["model_b"] = state["explain_model_b"]
    second = state.get("explain_model_b") if side == "model" else model_name
    if side != "off" and f"explain_layer_b_{second}" in state:
        kept[f"explain_layer_b_{second}"] = query["layer_b"] = state[f"explain_layer_b_{second}"]
    default_query = {"image": "chelsea", "model": base["explain_model"], "method": "gradcam",
                     "layer": REGISTRY[model_name].default_cam_layer if model_name in REGISTRY else None,
                     "target": str(TOP), "find": "", "alpha": "0.5", "cmap": "jet", "side": "off"}
    return kept, {k: v for k, v in query.items() if v is not None and default_query.get(k) != v}


def show_image(column, picture, caption: str) -> None:
    """JPEG on screen (a PNG of a photo-sized overlay is ~10x larger, sent on every slider step).
    The caption (Markdown) holds a file's name or a model file's class name: shown as typed."""
    column.image(jpeg_bytes(picture), caption=literal(caption), width="stretch" if picture.width < SMALL else "content")


# --- the image -------------------------------------------------------------------------------
image, image_name = None, None
try:
    if st.session_state["explain_source"] == "Sample":
        image_name = SAMPLES[st.session_state["explain_sample"]]
        image = sample_image(st.session_state["explain_sample"])
    elif upload is not None:
        admit_upload(upload, "explain_upload")
        image_name = upload.name
        image = decoded_image(upload.getvalue(), upload.name)  # a job, once per file
    else:
        st.info(_("Upload an image, or switch to a sample, to classify it."))
except ExplorerError as error:
    show_error(error)
    image = None

usable = own_weights is not None if model_name == TRAINED else (own_weights is not None or ensure_ready(model_name))
result, request_seconds, fresh = None, None, False
if image is not None and usable:
    try:
        started = time.perf_counter()
        result, fresh = explanation(image, model_name, method, layer, target, weights=own_weights)
        request_seconds = time.perf_counter() - started
        st.session_state["explain_last"] = (image, image_name, result)
    except Exception as error:  # noqa: BLE001 - every failure becomes a message, never a traceback
        show_error(error)
    if result is None and "explain_last" in st.session_state:
        image, image_name, result = st.session_state["explain_last"]
        st.caption(_("Showing the last good result."))

# --- the view --------------------------------------------------------------------------------
if result is not None:
    top_index, top_label, top_p = result.predictions[0]
    probability = {i: p for i, _label, p in result.predictions}
    c1, c2, c3 = st.columns(3)
    # Probabilities and the method are facts, not changes: no delta arrows.
    # Values are Markdown too, and a trained model's class names come from its file.
    c1.metric(_("Top prediction"), literal(top_label), f"p = {100 * top_p:.1f} %", delta_color="off", delta_arrow="off")
    c2.metric(_("Explained class"), literal(f"{result.target_label} ({result.target_index})"),
              f"p = {100 * probability[result.target_index]:.1f} %" if result.target_index in probability
              else _("below the top 5"), delta_color="off", delta_arrow="off")
    # This request's own time: a job's wait and run, or next to nothing when this session already had it.
    c3.metric(_("Time for this view"), f"{request_seconds:.2f} s" if request_seconds is not None else "—")
    method_text = _(METHODS[result.method].title) + (" · " + result.layer if result.layer else "")
    if request_seconds is None:
        c3.caption(_("{method} (the last good result).").format(method=method_text))
    elif fresh:
        c3.caption(_("{method}; computed now by a worker ({seconds:.2f} s of it the explanation itself).").format(
            method=method_text, seconds=result.seconds))
    else:
        c3.caption(_("{method}; this session computed it before (that took {seconds:.2f} s).").format(
            method=method_text, seconds=result.seconds))
    drawn = overlay(image, result.heatmap, alpha, colormap, result.region)
    method_title = _(METHODS[result.method].title)
    left, right = st.columns(2)
    show_image(left, image, f"{image_name} ({image.width}×{image.height})")
    show_image(right, drawn, f"{method_title}: {result.target_label}")
    show_chart(charts.predictions_figure(result.predictions, result.target_index, _=_), key="explain_chart")

    stem = f"{result.model}-{result.method}-{result.target_index}"
    d1, d2, d3 = st.columns(3)
    # Downloads stay lossless, made only when clicked.
    d1.download_button(_("Overlay (PNG)"), lambda: png_bytes(drawn), f"{stem}.png", "image/png",
                       key="explain_dl_png")
    d2.download_button(_("Heatmap (.npy)"), lambda: npy_bytes(result.heatmap), f"{stem}.npy",
                       "application/octet-stream", key="explain_dl_npy")
    d3.download_button(_("Predictions (CSV)"), predictions_csv(result.predictions), f"{result.model}-top5.csv",
                       "text/csv", key="explain_dl_csv")

    # --- side by side ------------------------------------------------------------------------
    compare = st.session_state["explain_compare"]
    if compare != "Off":
        st.subheader(_("Side by side"))
        second_weights, second_model, second_layer = None, None, None
        if compare == "Another model" and model_name == TRAINED:
            st.info(_("Your DenseNet has its own classes: compare it with another of its layers instead."))
        elif compare == "Another model":
            others = [n for n in REGISTRY if n != model_name]
            st.session_state.setdefault("explain_model_b", others[0])
            if st.session_state["explain_model_b"] not in others:
                st.session_state["explain_model_b"] = others[0]
            st.selectbox(_("Second model"), others, key="explain_model_b", format_func=model_label)
            second_model = st.session_state["explain_model_b"]
            if METHODS[method].takes_layer:
                spec = REGISTRY[second_model]
                second_layer = layer_select(list(spec.cam_layers), spec.default_cam_layer, _("Its layer"),
                                            f"explain_layer_b_{second_model}")
        else:
            second_model, second_weights = model_name, own_weights
            st.session_state.setdefault(f"explain_layer_b_{second_model}", layers[0] if layers else None)
            if layers:
                second_layer = layer_select(layers, default_layer, _("Second layer"),
                                            f"explain_layer_b_{second_model}")
        if second_model is not None and (second_weights is not None or ensure_ready(second_model)):
            try:
                other, _fresh = explanation(image, second_model, method, second_layer, result.target_index,
                                            key="explain_job_b", weights=second_weights)
                a, b = st.columns(2)
                title = REGISTRY[model_name].title if model_name in REGISTRY else result.model
                other_title = REGISTRY[other.model].title if other.model in REGISTRY else other.model
                show_image(a, drawn, title + (f" · {result.layer}" if result.layer else ""))
                share = next((f"{100 * p:.1f} %" for i, _label, p in other.predictions if i == other.target_index),
                             _("below the top 5"))
                show_image(b, overlay(image, other.heatmap, alpha, colormap, other.region),
                           other_title + (f" · {other.layer}" if other.layer else "")
                           + f" · p({other.target_label}) = {share}")
            except Exception as error:  # noqa: BLE001
                show_error(error)

with st.expander(_("About the methods")):
    for m in METHODS.values():
        st.markdown(f"**{_(m.title)}** — {_(m.note)}")
    st.markdown(_("The heatmap covers the part of the image the model saw (after resizing and the centre crop); "
                  "outside it the image is shown unchanged. Grad-CAM uses the class score before the softmax "
                  "and keeps only positive evidence (ReLU), as in Selvaraju et al. 2017."))

kept_settings, address = current_settings()
publish_settings("explain", kept_settings, address)
share_link(address)
