"""Jobs from a page: heavy work runs outside the server (``explorer.jobs``) with the user's place
in line, a progress bar and a Cancel button; decoded images, explanations and uploads of a
session are kept or checked here (what an explanation takes as input: ``pages.ui.sources``)."""

from __future__ import annotations

import streamlit as st

from explorer.errors import ExplorerError
from explorer.i18n import N_, render
from pages.ui import streamlit_internals
from pages.ui.i18n import page_language
from pages.ui.messages import literal


def run_job(fn, *args, cost, label: str = N_("Working…"), key: str = "job", **kwargs):
    """Run heavy work as a job outside the server process (``explorer.jobs``): while it waits the
    user sees their place in line and the expected wait, while it runs a progress bar; a Cancel
    button stops it. Returns its value or raises its one-line error (``ExplorerError``). ``label``
    (an ``N_``-marked message, or text already in the reader's language) heads the progress bar.

    Any rerun of the script (Cancel, another widget, the session closing) interrupts the wait at
    the next screen update and cancels the job, so no job outlives the run that asked for it."""
    from explorer import jobs

    _ = page_language()
    if st.session_state.get(f"{key}_cancel"):
        raise jobs.JobCancelled(N_("cancelled; change a setting or rerun to start again"))
    watch_sessions()
    job = jobs.submit(fn, *args, cost=cost, session=streamlit_internals.session_id(), **kwargs)
    status, cancel = st.empty(), st.empty()
    cancel.button(_("Cancel"), key=f"{key}_cancel")
    try:
        while True:
            try:
                return job.result(timeout=0.25)
            except TimeoutError:
                progress = job.progress()
                if progress.state == "queued":
                    status.info(_("The server is busy: you are number {place} in line; this starts in about "
                                  "{seconds} s.").format(place=job.position(), seconds=f"{job.wait_estimate():.0f}"),
                                icon="⏳")
                else:
                    status.progress(progress.fraction, text=f"{_(label)} {literal(render(progress.text, _))}")
    finally:
        if not job.done():
            job.cancel()
        status.empty()
        cancel.empty()


def watch_sessions() -> None:
    """Start the process's watcher that cancels the jobs and drops the uploads of sessions that
    went away (``explorer.jobs.sessions``); only under a real server (AppTest has no runtime)."""
    from pages.ui.uploads import watch

    watch()


def decoded_image(data: bytes, name: str):
    """An image file decoded once per session, in a job under a CPU-time limit from its header
    (``explorer.vision.images.decode_cost``); reruns reuse the decoded, size-capped image (or its
    one-line error). Only the latest file is kept."""
    import hashlib

    from explorer.jobs import JobCancelled
    from explorer.vision.images import decode_cost, decode_image

    key = hashlib.sha256(data).hexdigest()
    store = st.session_state.setdefault("_decoded_image", {})
    if key not in store:
        try:
            value = run_job(decode_image, bytes(data), name, cost=decode_cost(data, name), label=N_("Decoding…"),
                            key="decode_job")
        except ExplorerError as error:
            if isinstance(error, JobCancelled):
                raise
            value = error
        store.clear()
        store[key] = value
    if isinstance(store[key], Exception):
        raise store[key]
    return store[key]


def explanation(image, model_name: str, method: str, layer, target, key: str = "explain_job", weights=None):
    """``explain`` as a job (the worker keeps the model loaded): with a published model, or with
    ``weights`` = (kind, file name, bytes, tag): a user's own state dict for ``model_name``
    ("pth") or a trained DenseNet ("safetensors"), loaded in the worker; ``tag`` names the bytes
    (an upload's id) in this session's cache. The last few results of this session are kept for
    reruns (moving the opacity slider, say). Returns (result, whether this call computed it)."""
    from explorer.training import work as trained
    from explorer.vision import work

    kind, file_name, data, tag = weights or (None, None, b"", None)
    cache_key = (hash(image.tobytes()), image.size, model_name, method, layer, target, kind, tag)
    store = st.session_state.setdefault("_explanations", {})
    if cache_key in store:
        return store[cache_key], False
    cost = work.explain_cost(image.size, method, weights_bytes=len(data), on_cpu=kind == "safetensors")
    if kind is None:
        fn, args = work.explain_pretrained, (image, model_name)
    elif kind == "pth":
        fn, args = work.explain_uploaded, (image, model_name, data, file_name)
    else:
        fn, args = trained.explain_trained, (image, data, file_name)
    result = run_job(fn, *args, method, layer, target, cost=cost, label=N_("Explaining…"), key=key)
    while len(store) >= 4:
        store.pop(next(iter(store)))
    store[cache_key] = result
    return result, True


def admit_upload(upload, slot: str) -> None:
    """Check an upload in file picker ``slot`` (its key) against its session's quota
    (``explorer.jobs.quota``; the server counted it when it arrived, ``pages.ui.uploads``) or raise
    its one-line ``QuotaError``. The picker's earlier file, and a refused one, are dropped from the
    server's memory at once."""
    from explorer.jobs.quota import UPLOADS, QuotaError

    session = streamlit_internals.session_id() or "local"

    def drop(file_id: str) -> None:
        try:
            streamlit_internals.drop_uploaded_file(file_id)
        except Exception:  # noqa: BLE001 - the quota was released either way
            pass

    try:
        replaced = UPLOADS.admit(session, upload.file_id, upload.name, upload.size, slot=slot)
    except QuotaError:
        drop(upload.file_id)
        UPLOADS.release(session, upload.file_id)
        raise
    if replaced is not None:
        drop(replaced)


def measured_torchvision(names: list[str], input_size: int | None, key: str) -> list:
    """The Compare page's measurement of the torchvision models it has only published numbers for:
    one job (a second one only for what would not fit one job's time: many models at a large
    input size) with its progress here. The measurements, or [] with a line on why there are none
    (cancelled, refused)."""
    from explorer.analysis import work
    from explorer.jobs import JobCancelled
    from pages.ui.messages import show_error

    _ = page_language()
    try:
        chosen, cost = work.torchvision_job(names, input_size)
        return run_job(work.measure_torchvision_models, chosen, input_size, cost=cost, key=key,
                       label=_("Measuring the models the project does not describe itself (once, for every "
                               "visitor):"))
    except JobCancelled:
        st.info(_("Measuring cancelled: the tables show torchvision's published numbers; change a setting "
                  "or reload the page to measure the rest."))
    except ExplorerError as error:
        show_error(error, _("Measuring refused — "))
    return []
