"""The session's trained DenseNet: the training job that makes it (a job of the job layer,
``explorer.jobs``: a worker process, or a Ray task), and the model it leaves.

The job's handle is kept in the session and a fragment (``live``) polls it every second for the
live curves (the job's payload), so the page never blocks and no session's training slows
another's sliders. Stop asks the job to finish with the model so far; Cancel kills it. The model
is kept as its ``safetensors`` bytes in ``st.session_state[MODEL_KEY]``: the Train page's views
read it, the Explain page classifies with it; jobs on it (reuse, feature maps) are computed once
per model and arguments (``from_job``). The Train page (``pages/train.py``) draws the settings.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from explorer import jobs
from explorer.charts import training as charts
from explorer.errors import ExplorerError
from explorer.i18n import N_, render
from explorer.training import plan as planning
from explorer.training import read_info, work
from pages.ui import streamlit_internals
from pages.ui.charts import show_chart
from pages.ui.i18n import file_uploader, page_language
from pages.ui.jobs import admit_upload, run_job, watch_sessions
from pages.ui.messages import literal, show_error

MODEL_KEY = "trained_model_file"  # {"name": "<file>.safetensors", "data": bytes}: read by the Explain page
MAX_BUDGET = work.max_budget_s()  # what one training job may run here: the budget input offers no more
state = st.session_state


# --- the training job ------------------------------------------------------------------------

def start_training(config, data: tuple, epochs: int, budget_s: float) -> None:
    """Submit the training job of ``config`` on ``data`` (``work.train_model``'s data tuple); it is
    refused with one line when it cannot fit this server."""
    watch_sessions()  # the job is cancelled if this session goes away (it outlives this script run)
    runner = jobs.runner()
    gpu = runner.has_gpu()
    cost = work.train_cost(config, work.dataset_images(data), budget_s, threads=work.training_threads(), gpu=gpu)
    state["train_job"] = jobs.submit(work.train_model, config, data, epochs, budget_s, gpu=gpu, cost=cost,
                                     session=streamlit_internals.session_id())
    state.pop("train_outcome", None)


def collect() -> bool:
    """Keep a finished job's model (or its one-line outcome); True when one was collected."""
    job = state.get("train_job")
    if job is None or not job.done():
        return False
    state["train_job"] = None
    try:
        result = job.result(0)
    except jobs.JobCancelled:
        state["train_outcome"] = ("info", N_("Training cancelled; nothing was kept."))
        return True
    except ExplorerError as error:
        state["train_outcome"] = ("error", error)
        return True
    state[MODEL_KEY] = {"name": result["name"], "data": result["file"]}
    state["train_run"] = {k: v for k, v in result.items() if k != "file"}
    state["train_run"]["digest"] = hashlib.sha256(result["file"]).hexdigest()
    return True


def show_outcome() -> None:
    """How the last job ended when it left no model (cancelled, or failed)."""
    _ = page_language()
    outcome = state.get("train_outcome")
    if outcome is not None:
        kind, what = outcome
        if kind == "info":
            st.info(_(what), icon="ℹ️")
        else:
            show_error(what, _("Training failed: "))


def _stop() -> None:
    job = state.get("train_job")
    if job is not None:
        job.stop()


def _cancel() -> None:
    job = state.get("train_job")
    if job is not None:
        job.cancel()


@st.fragment(run_every=1.0)
def live(full: bool) -> None:
    """The running job, redrawn every second without rerunning the page (``full``: with Stop,
    Cancel and the live curves); the page reruns once when it ends, to show the kept model."""
    _ = page_language()
    job = state.get("train_job")
    if job is None:
        return
    if collect():
        st.rerun()
    p = job.progress()
    payload = p.payload
    if p.state == "queued":
        st.info(_("The server is busy: you are number {place} in line; training starts in about {seconds} s.")
                .format(place=job.position(), seconds=f"{job.wait_estimate():.0f}"), icon="⏳")
    elif payload is None:
        st.progress(0.0, text=_("Preparing the data and the model…"))
    else:
        if payload.get("plan"):  # what the budget allows at the speed measured at the start, and what then
            lines, short = planning.plan_messages(planning.Plan.from_dict(payload["plan"]), MAX_BUDGET)
            (st.warning if short else st.info)(" ".join(render(line, _) for line in lines), icon="⏱️")
        st.progress(p.fraction, text=render(planning.progress_message(payload), _))
    if job.stop_requested:
        st.caption(_("Stopping after the current step; the model trained so far will be kept."))
    if full:
        b1, b2 = st.columns(2)
        b1.button(_("Stop"), key="train_stop", on_click=_stop, disabled=job.stop_requested,
                  help=_("Finishes after the current step and keeps the model trained so far"))
        b2.button(_("Cancel"), key="train_cancel", on_click=_cancel,
                  help=_("Ends the training at once; nothing is kept"))
        if payload is not None:
            show_chart(charts.training_curves(payload["history"], payload["step_losses"], _=_),
                       key="train_live_curves")


# --- the kept model ----------------------------------------------------------------------------

def kept_model():
    """(file dict, what its metadata says) of the session's model, or (None, None)."""
    kept = state.get(MODEL_KEY)
    if not kept:
        return None, None
    try:
        return kept, read_info(kept["data"], kept["name"])
    except ExplorerError as error:
        show_error(error)
        return None, None


def show_model(kept: dict, info) -> None:
    """The session's model: what it is, where it came from, how its run went, its curves and its file."""
    _ = page_language()
    st.subheader(_("The model of this session"))
    run = state.get("train_run")
    if run is None or run.get("digest") != hashlib.sha256(kept["data"]).hexdigest():
        run = None  # uploaded
    st.markdown(literal(planning.model_summary(info.config, len(info.classes), kept["name"], run, _)))
    if "val_accuracy" in info.info:
        st.metric(_("Validation accuracy"), f"{100 * info.info['val_accuracy']:.2f} %")
    if run is not None and "steps" in run:  # the run beside its plan, and what to do if barely trained
        ran = planning.ran_message(run)
        if ran is not None:
            st.caption(render(ran, _))
        lines = planning.barely_trained_messages(run, MAX_BUDGET)
        if lines:
            st.warning(" ".join(render(line, _) for line in lines), icon="⚠️")
    if run is not None and run["history"]:
        show_chart(charts.training_curves(run["history"], run["step_losses"], _=_), key="train_curves")
    st.download_button(_("Download weights (.safetensors, config in the metadata)"), kept["data"],
                       kept["name"], "application/octet-stream", key="train_download")
    st.caption(_("The Explain page can classify and Grad-CAM with this model (choose “the model trained "
                 "here” there)."))


def upload_box() -> None:
    """A weights file to load as the session's model, checked once in a job (whatever the outcome)."""
    _ = page_language()
    upload = file_uploader(_("Or load a .safetensors file saved here or by `python -m explorer train`"),
                           type=["safetensors"], key="train_weights_upload", max_upload_size=256)
    if upload is None or state.get("train_loaded_name") == (upload.name, upload.size):
        return
    state["train_loaded_name"] = (upload.name, upload.size)  # tried once, whatever the outcome
    try:
        admit_upload(upload, "train_weights_upload")
        data = upload.getvalue()
        run_job(work.check_model, data, upload.name, cost=work.model_cost(data), label=_("Checking the file…"),
                key="train_check_job")
    except ExplorerError as error:
        show_error(error)
        return
    state[MODEL_KEY] = {"name": upload.name, "data": data}
    state.pop("train_run", None)
    st.rerun()


def from_job(kind: str, kept: dict, fn, *args, cost, label: str):
    """A job's result for the kept model, computed once per model and arguments (a session keeps
    the last few)."""
    def identity(value):  # an image by its pixels (a sample is decoded afresh on every run)
        if hasattr(value, "tobytes"):
            return (value.size, hashlib.sha256(value.tobytes()).hexdigest())
        return repr(value)

    digest = hashlib.sha256(kept["data"]).hexdigest()
    cache = state.setdefault("_train_results", {})
    key = (kind, digest, *[identity(a) for a in args])
    if key not in cache:
        value = run_job(fn, kept["data"], kept["name"], *args, cost=cost, label=label, key=f"train_{kind}_job")
        while len(cache) >= 6:
            cache.pop(next(iter(cache)))
        cache[key] = value
    return cache[key]
