"""Where an explanation's inputs come from: a published model's weights (downloaded on request),
a user's own weights file, a DenseNet trained here, a bundled sample image or an upload. Used by
Explain; each returns what ``pages.ui.jobs.explanation`` takes, or None with a message."""

from __future__ import annotations

import streamlit as st

from explorer.errors import ExplorerError
from pages.ui.i18n import page_language
from pages.ui.jobs import admit_upload, decoded_image
from pages.ui.messages import literal


def weights_ready(name: str, key_prefix: str) -> bool:
    """Whether published model ``name``'s weights are here; if not, say why and offer the download
    (again, after a failed one or a corrupt file; button key ``key_prefix`` + ``name``) with a
    progress bar. False (with a message) when the model cannot be used yet."""
    import logging

    from explorer.charts.explain import status_note
    from explorer.units import format_bytes
    from explorer.vision.download import fetch_weights, model_status
    from explorer.vision.weights import REGISTRY, WeightsError

    _ = page_language()
    status, title = model_status(name), REGISTRY[name].title
    if status.state == "ready":
        return True
    level, note = status_note(title, status, _=_)  # one plain line; file paths and resolver errors: the log
    if level == "info":
        st.info(note)
    else:
        st.error(note, icon="⚠️")
    text = _("Download {file}") if status.state == "download" else _("Download {file} again")
    if status.fetchable and st.button(text.format(file=status.path.name), key=key_prefix + name):
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
            logging.getLogger("explorer.ui").warning("%s", error)
            st.error(_("Could not download the weights of {model} (the details are in the server log). "
                       "Try again later, or choose a model that is ready.").format(model=title), icon="⚠️")
    ready = [n for n in REGISTRY if model_status(n).state == "ready"]
    st.caption(_("Ready now: {models}").format(models=", ".join(REGISTRY[n].title for n in ready)))
    return False


def own_weights(model: str, key: str):
    """The user's own ImageNet weights (.pth) for published model ``model``, from file picker ``key``
    in an expander: ``explanation``'s ``weights`` ("pth", file name, bytes, upload id), or None."""
    from explorer.vision.loading import MAX_WEIGHTS_BYTES
    from explorer.vision.weights import REGISTRY
    from pages.ui.i18n import file_uploader
    from pages.ui.messages import show_error

    _ = page_language()
    with st.expander(_("Use your own weights (.pth)")):
        upload = file_uploader(_("A state dict for {model} (ImageNet, 1000 classes)").format(
            model=REGISTRY[model].title), type=["pth", "pt"], key=key, max_upload_size=MAX_WEIGHTS_BYTES // 2**20)
        if upload is None:
            return None
        try:
            admit_upload(upload, key)
            weights = ("pth", upload.name, upload.getvalue(), upload.file_id)
            st.caption(_("Using your weights from {file} (loaded by the worker that explains).").format(
                file=literal(upload.name)))
            return weights
        except ExplorerError as error:
            show_error(error)
            return None


def trained_weights(key: str, session_key: str) -> tuple:
    """A DenseNet trained here: a .safetensors file from file picker ``key``, else the one the Train
    page keeps in ``st.session_state[session_key]`` ({"name", "data"}). Returns (``explanation``'s
    ``weights``: ("safetensors", file name, bytes, (tag, size)), its ``TrainedInfo``), or (None, None)
    with a message."""
    from explorer.charts.explain import trained_note
    from explorer.training.classifier import read_info
    from explorer.vision.loading import MAX_WEIGHTS_BYTES
    from pages.ui.i18n import file_uploader
    from pages.ui.messages import show_error

    _ = page_language()
    trained = st.session_state.get(session_key)
    file = file_uploader(_("A DenseNet saved by the Train page (.safetensors)"), type=["safetensors"],
                         key=key, max_upload_size=MAX_WEIGHTS_BYTES // 2**20)
    try:
        if file is not None:
            admit_upload(file, key)
            name, data, tag = file.name, file.getvalue(), file.file_id
        elif trained:
            name, data, tag = trained["name"], trained["data"], "session:" + trained["name"]
        else:
            st.info(_("Train a DenseNet on the Train page (it stays for this session), or upload a "
                      ".safetensors file saved there."))
            return None, None
        info = read_info(data, name)
        st.caption(trained_note(literal(name), info, _=_))
        return ("safetensors", name, data, (tag, len(data))), info
    except ExplorerError as error:
        show_error(error)
        return None, None


@st.cache_resource(max_entries=16, show_spinner=False)
def sample_image(name: str):
    """A bundled sample (trusted, at most 600 x 400 px), decoded once for every session."""
    from explorer.vision.images import ASSETS, SAMPLES, decode_image

    return decode_image(ASSETS / SAMPLES[name])


def page_image(sample: str | None, upload, slot: str) -> tuple:
    """(image, its name): bundled sample ``sample``, else ``upload`` from file picker ``slot`` (checked,
    and decoded by a job once per file); (None, None), with a message, without one."""
    from explorer.vision.images import SAMPLES
    from pages.ui.messages import show_error

    _ = page_language()
    try:
        if sample is not None:
            return sample_image(sample), SAMPLES[sample]
        if upload is not None:
            admit_upload(upload, slot)
            return decoded_image(upload.getvalue(), upload.name), upload.name
        st.info(_("Upload an image, or switch to a sample, to classify it."))
    except ExplorerError as error:
        show_error(error)
    return None, None
