"""Train & observe: train a small DenseNet here, then look at what it learned to reuse, what its
training step really costs in memory, and its feature maps on a real image.

Training is a job of the job layer (``explorer.jobs``: a worker process, or a Ray task): the page
keeps the job's handle in the session and a fragment polls it every second for the live curves
(the job's payload), so the page never blocks and no session's training slows another's sliders.
Stop asks the job to finish with the model so far; Cancel kills it. The session's model is kept
as its ``safetensors`` bytes in ``st.session_state["trained_model_file"]`` (the Explain page reads
it too); reuse and feature maps are computed from those bytes in jobs. All computing lives in
``explorer``.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from explorer import jobs
from explorer.analysis import featuremaps, footprint
from explorer.charts import training as charts
from explorer.errors import ExplorerError
from explorer.i18n import N_, render
from explorer.models.densenet import DenseNetConfig
from explorer.training import data as training_data
from explorer.training import default_config, read_info
from explorer.training import plan as planning
from explorer.training import work
from explorer.training.loop import DEFAULT_EPOCHS
from explorer.units import format_bytes
from explorer import sharing
from pages.ui.jobs import admit_upload, run_job
from pages.ui.messages import literal, show_error
from pages.ui.page import page_header
from pages.ui.settings import kept_settings, link_notes, publish_settings, restore_settings, unknown_keys
from pages.ui.charts import show_chart
from pages.ui import streamlit_internals
from pages.ui.i18n import file_uploader

MODEL_KEY = "trained_model_file"  # {"name": "<file>.safetensors", "data": bytes}: read by the Explain page
VIEWS = {"train": N_("Train"), "reuse": N_("Feature reuse"), "memory": N_("Memory"), "maps": N_("Feature maps")}
DATASETS = {"digits": N_("digits"), "zip": N_("zip of class folders")}
OPTIMIZER_NAMES = {"sgd": "SGD", "momentum": N_("SGD + momentum"), "adam": "Adam / AdamW"}  # names stay
PRECISION_NAMES = {"fp32": "float32", "amp": N_("mixed (bf16/fp16 autocast)")}
MAP_SOURCES = {"digit": N_("digits validation image"), "sample": N_("sample photo"), "upload": N_("upload")}
MODEL_SOURCES = {"small": N_("the small default below"), "builder": N_("the DenseNet page's build")}
BUILD_KEY = "densenet_build"  # the DenseNet page's current config (a dict), kept by that page
STOPPED_BY = {"epochs": N_("all epochs"), "stop": N_("stopped by you"), "time budget": N_("time budget reached")}
MAX_BUDGET = work.max_budget_s()  # what one training job may run here: the budget input offers no more

# The training settings: kept for the session across page changes and written to the address.
DEPTHS, SIZES, THETAS = [10, 16, 22, 28, 34, 40, 52, 64], [16, 32], [0.25, 0.5, 0.75, 1.0]
LINKED = {"view": ("train_view", list(VIEWS)), "data": ("train_dataset", list(DATASETS)),
          "size": ("train_image_size", SIZES), "depth": ("train_depth", DEPTHS), "k": ("train_growth", range(2, 33)),
          "theta": ("train_compression", THETAS), "epochs": ("train_epochs", range(1, 101)),
          "budget": ("train_budget", range(5, MAX_BUDGET + 1)), "model": ("train_model_source", list(MODEL_SOURCES))}
TRAIN_DEFAULTS = {"train_view": "train", "train_dataset": "digits", "train_image_size": 32, "train_growth": 12,
                  "train_depth": 40, "train_compression": 0.5, "train_epochs": DEFAULT_EPOCHS, "train_budget": 120,
                  "train_model_source": "small"}


def from_link(query: dict) -> tuple[dict, list[str]]:
    notes = unknown_keys(query, LINKED)
    values = dict(TRAIN_DEFAULTS)
    for key, (field, choices) in LINKED.items():
        values[field], more = sharing.read_choice(query, key, values[field], choices)
        notes += more
    return values, notes


state = st.session_state
# Hidden views' widgets are dropped by Streamlit: they come back as this session last had them.
link_problems = restore_settings("train", lambda: {**TRAIN_DEFAULTS, **kept_settings("train")}, from_link)
for key, value in {"train_mem_batch": 64, "train_mem_gb": 8.0, "train_mem_optimizer": "momentum",
                   "train_mem_precision": "fp32", "train_map_block": 1, "train_map_source": "digit",
                   "train_map_index": 0}.items():
    state.setdefault(key, value)
if state["train_dataset"] not in DATASETS:  # older sessions stored labels
    state["train_dataset"] = "digits"
if state["train_map_source"] not in MAP_SOURCES:
    state["train_map_source"] = "digit"

_ = page_header(__file__)
link_notes(link_problems)

st.caption(_("Train a small DenseNet-BC (CIFAR stem) on scikit-learn's 1,797 handwritten digits (8×8, upsampled) or "
             "on a zip of class folders, then see its feature reuse (the DenseNet paper's Figure 5), its whole "
             "training memory and its feature maps. The default (L=40, k=12, 10 epochs) reached 98.3 % validation "
             "accuracy in 84 s as a job on 2 CPU cores."))  # measured by benchmarks/train_speed.py


# --- the training job ------------------------------------------------------------------------

def _config(size: int) -> DenseNetConfig:
    if state["train_model_source"] == "builder" and BUILD_KEY in state:
        return builder_config(state[BUILD_KEY], size)
    layers = (state["train_depth"] - 4) // 6
    return default_config(10, size).replace(
        growth_rate=state["train_growth"], num_init_features=2 * state["train_growth"],
        block_config=(layers,) * 3, compression=state["train_compression"])


def builder_config(build: dict, size: int) -> DenseNetConfig:
    """The DenseNet page's build as a trainable model for small images: its blocks, growth rate,
    bottleneck, compression and stem width, with the CIFAR stem (one 3×3 conv, no pooling) at the
    training image size; the classifier is sized to the data set when training starts."""
    return DenseNetConfig.from_dict(build).replace(stem="cifar", input_size=size, num_classes=10,
                                                   memory_efficient=False)


def start_training() -> None:
    """Submit the training job (refused with one line when it cannot fit this server)."""
    size = int(state["train_image_size"])
    if state["train_dataset"] == "digits":
        data = ("digits", size)
    else:
        upload = state.get("train_zip")
        if upload is None:
            raise training_data.DatasetError(_("upload a zip of class folders (CLASS/IMAGE.png) first"))
        training_data.check_zip_size(upload.size, upload.name)  # first: nothing reads an oversized zip (#24)
        admit_upload(upload, "train_zip")
        data = ("zip", upload.getvalue(), upload.name, size)
    from pages.ui.jobs import watch_sessions

    watch_sessions()  # the job is cancelled if this session goes away (it outlives this script run)
    runner = jobs.runner()
    budget, gpu = float(state["train_budget"]), runner.has_gpu()
    cost = work.train_cost(_config(size), work.dataset_images(data), budget, threads=work.training_threads(),
                           gpu=gpu)
    state["train_job"] = jobs.submit(work.train_model, _config(size), data, int(state["train_epochs"]), budget,
                                     gpu=gpu, cost=cost, session=streamlit_internals.session_id())
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


def _stop() -> None:
    job = state.get("train_job")
    if job is not None:
        job.stop()


def _cancel() -> None:
    job = state.get("train_job")
    if job is not None:
        job.cancel()


def progress_text(payload: dict) -> str:
    return render(planning.progress_message(payload), _)


def show_plan(plan: dict) -> None:
    """What the time budget allows at the speed measured at the run's start, what runs of that
    length reached, and what to do when that is too little."""
    lines, short = planning.plan_messages(planning.Plan.from_dict(plan), MAX_BUDGET)
    (st.warning if short else st.info)(" ".join(render(line, _) for line in lines), icon="⏱️")


def show_outcome(run: dict) -> None:
    """How the finished run compares with its plan, and, for a barely trained model, what to do."""
    ran = planning.ran_message(run)
    if ran is not None:
        st.caption(render(ran, _))
    lines = planning.barely_trained_messages(run, MAX_BUDGET)
    if lines:
        st.warning(" ".join(render(line, _) for line in lines), icon="⚠️")


@st.fragment(run_every=1.0)
def live(full: bool) -> None:
    """The running job, redrawn every second without rerunning the page; the page reruns once
    when it ends, to show the kept model."""
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
        if payload.get("plan"):
            show_plan(payload["plan"])
        st.progress(p.fraction, text=progress_text(payload))
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


def load_upload(upload) -> bool:
    """Check an uploaded weights file in a job and keep it as the session's model; True if kept."""
    try:
        admit_upload(upload, "train_weights_upload")
        data = upload.getvalue()
        run_job(work.check_model, data, upload.name, cost=work.model_cost(data), label=_("Checking the file…"),
                key="train_check_job")
    except ExplorerError as error:
        show_error(error)
        return False
    state[MODEL_KEY] = {"name": upload.name, "data": data}
    state.pop("train_run", None)
    return True


collect()
kept, info = kept_model()
view = st.radio(_("View"), list(VIEWS), key="train_view", horizontal=True, format_func=lambda v: _(VIEWS[v]),
                label_visibility="collapsed")
if view != "train" and state.get("train_job") is not None:
    live(False)

if view == "train":
    left, right = st.columns([1, 2])
    job = state.get("train_job")
    with left:
        st.radio(_("Data"), list(DATASETS), key="train_dataset", horizontal=True, format_func=lambda d: _(DATASETS[d]))
        if state["train_dataset"] == "zip":
            file_uploader(_("Zip (CLASS/IMAGE files, up to 50 MiB, 5,000 files)"), type=["zip"], key="train_zip",
                          max_upload_size=50)
        st.select_slider(_("Image size (px)"), SIZES, key="train_image_size",
                         help=_("Digits are 8×8; 16 px trains 4× faster, 32 px is the CIFAR size"))
        if BUILD_KEY in state:
            st.radio(_("Model"), list(MODEL_SOURCES), key="train_model_source", format_func=lambda m: _(MODEL_SOURCES[m]))
        else:
            state["train_model_source"] = "small"
        if state["train_model_source"] == "builder":
            try:
                build = builder_config(state[BUILD_KEY], int(state["train_image_size"]))
                st.caption(_("{variant}, L = {depth}: k = {k}, blocks {blocks}, θ = {theta}, with the CIFAR stem at "
                             "{size} px").format(variant=build.variant, depth=build.depth, k=build.growth_rate,
                                                 blocks=" + ".join(map(str, build.block_config)),
                                                 theta=f"{build.compression:g}", size=build.input_size))
            except ExplorerError as error:
                show_error(error)
        small = state["train_model_source"] == "small"  # drawn either way, so their values are kept
        st.select_slider(_("Depth L (DenseNet-BC: 6n+4)"), DEPTHS, key="train_depth",
                         disabled=not small)
        st.slider(_("Growth rate k"), 2, 32, key="train_growth", disabled=not small)
        st.select_slider(_("Compression θ"), THETAS, key="train_compression", disabled=not small)
        st.number_input(_("Epochs"), 1, 100, key="train_epochs")
        st.number_input(_("Time budget (s)"), 5, MAX_BUDGET, key="train_budget",
                        help=_("Training stops here and keeps the model trained so far. One training job may run "
                               "at most {most} s on this server; the run is planned from the speed measured at its "
                               "start.").format(most=MAX_BUDGET))
        if st.button(_("Train"), type="primary", key="train_start", disabled=job is not None):
            try:
                start_training()
                st.rerun()
            except ExplorerError as error:
                show_error(error)

    with right:
        outcome = state.get("train_outcome")
        if outcome is not None:
            kind, what = outcome
            if kind == "info":
                st.info(_(what), icon="ℹ️")
            else:
                show_error(what, _("Training failed: "))
        if job is None and kept is None:
            st.info(_("Set the model and press Train. The default takes about 2 minutes on 2 CPU cores and "
                      "seconds on a GPU."))
        if job is not None:
            live(True)

        if kept is not None:
            c = info.config
            st.subheader(_("The model of this session"))
            run = state.get("train_run")
            if run is not None and run.get("digest") == hashlib.sha256(kept["data"]).hexdigest():
                data = _("{name}: {train} training and {val} validation images").format(
                    name=_(DATASETS["digits"]) if run["dataset_name"] == "digits" else run["dataset_name"],
                    train=f"{run['train_images']:,}", val=f"{run['val_images']:,}")
                epochs = _.ngettext("{n} epoch", "{n} epochs", run["epochs"]).format(n=run["epochs"])
                origin = _("Trained here on {data}, {epochs} in {seconds} s on {device}, {why}.").format(
                    data=data, epochs=epochs, seconds=f"{run['seconds']:.0f}",
                    device=run["device"], why=_(STOPPED_BY.get(run["stopped_by"], run["stopped_by"])))
            else:
                origin, run = _("Uploaded: {name}").format(name=kept["name"]), None
            st.markdown(literal(_("{variant}, L={depth}, k={k}, θ={theta}, {size}×{size} px, {n} classes. {origin}")
                                .format(variant=c.variant, depth=c.depth, k=c.growth_rate, theta=c.compression,
                                        size=c.input_size, n=len(info.classes), origin=origin)))
            if "val_accuracy" in info.info:
                st.metric(_("Validation accuracy"), f"{100 * info.info['val_accuracy']:.2f} %")
            if run is not None and "steps" in run:
                show_outcome(run)
            if run is not None and run["history"]:
                show_chart(charts.training_curves(run["history"], run["step_losses"], _=_), key="train_curves")
            st.download_button(_("Download weights (.safetensors, config in the metadata)"), kept["data"],
                               kept["name"], "application/octet-stream", key="train_download")
            st.caption(_("The Explain page can classify and Grad-CAM with this model (choose “the model trained "
                         "here” there)."))

        upload = file_uploader(_("Or load a .safetensors file saved here or by `python -m explorer train`"),
                               type=["safetensors"], key="train_weights_upload", max_upload_size=256)
        if upload is not None and state.get("train_loaded_name") != (upload.name, upload.size):
            state["train_loaded_name"] = (upload.name, upload.size)  # tried once, whatever the outcome
            if load_upload(upload):
                st.rerun()

elif view == "reuse":
    from explorer.analysis.reuse import reuse_caveat
    from explorer.vision.download import model_status

    ready = {name: model_status(name) for name in work.PRETRAINED_DENSENETS}
    choices = (["session"] if kept is not None else []) + [n for n, s in ready.items() if s.state == "ready"]
    if not choices:
        st.info(_("Train a model (or load one) to see its feature reuse."))
    else:
        if state.get("train_reuse_model") not in choices:
            state["train_reuse_model"] = choices[0]
        chosen = st.radio(_("Model"), choices, key="train_reuse_model", horizontal=True,
                          format_func=lambda c: _("the session model") if c == "session"
                          else _("{name} (pretrained, torchvision)").format(name=c))
        if chosen == "session":
            caveat = reuse_caveat(info.info, len(info.classes))
            if caveat is not None:
                st.warning(render(caveat, _), icon="⚠️")
        st.markdown(_(
            "Each cell: the mean |weight| that a layer's first convolution (a row) gives to the channels "
            "written by an earlier layer (a column), divided by the row's largest value. The last row is the "
            "transition (or, in the last block, the classifier)."))
        st.markdown(_(
            "What the paper read from its Figure 5 (DenseNet, L=40, k=12, CIFAR-10+): all layers spread their "
            "weights over many inputs, so features extracted early are used directly by deep layers of the same "
            "block; the transition layers also spread their weights across the whole block; the transition "
            "outputs (the first column of blocks 2 and 3) get little weight, a sign of redundancy that motivated "
            "compression (DenseNet-BC); and the classifier concentrates on the last few layers' maps, which "
            "are the more high-level features."))
        try:
            if chosen == "session":
                blocks = from_job("reuse", kept, work.feature_reuse, cost=work.model_cost(kept["data"]),
                                  label=_("Reading the weights…"))
            else:
                path = str(ready[chosen].path)
                cache = state.setdefault("_train_pretrained_reuse", {})
                if chosen not in cache:
                    cache[chosen] = run_job(work.pretrained_reuse, chosen, path, cost=work.pretrained_reuse_cost(path),
                                            label=_("Reading the weights…"), key="train_pretrained_reuse_job")
                blocks = cache[chosen]
            for block in blocks:
                show_chart(charts.reuse_heatmap(block, _=_), key=f"train_reuse_{block.name}")
        except ExplorerError as error:
            show_error(error)

elif view == "memory":
    config = info.config if kept is not None else default_config()
    st.markdown(_("For {which}: {variant}, L={depth}, k={k}, {size} px{efficient}.").format(
        which=_("the session model") if kept is not None else _("the default model"), variant=config.variant,
        depth=config.depth, k=config.growth_rate, size=config.input_size,
        efficient=_(", memory-efficient") if config.memory_efficient else ""))
    m1, m2, m3, m4 = st.columns(4)
    m1.number_input(_("Batch"), 1, 4096, key="train_mem_batch")
    m2.selectbox(_("Optimizer"), footprint.OPTIMIZERS, key="train_mem_optimizer",
                 format_func=lambda o: _(OPTIMIZER_NAMES[o]))
    m3.selectbox(_("Precision"), footprint.PRECISIONS, key="train_mem_precision",
                 format_func=lambda p: _(PRECISION_NAMES[p]))
    m4.number_input(_("Memory (GB)"), 0.1, 1024.0, step=1.0, key="train_mem_gb")
    try:
        batch = int(state["train_mem_batch"])
        f = footprint.footprint_of(config, batch, state["train_mem_optimizer"], state["train_mem_precision"])
        budget = int(state["train_mem_gb"] * 1e9)
        gb = f"{state['train_mem_gb']:g}"
        if not f.can_train:
            st.warning(_("Cannot train at batch {batch}: {reason}.").format(batch=batch, reason=render(f.reason, _)),
                       icon="⚠️")
        else:
            verdict = (_("A training step at batch {batch} needs {bytes} at its peak ({moment}): it fits in {gb} GB.")
                       if f.training_bytes <= budget else
                       _("A training step at batch {batch} needs {bytes} at its peak ({moment}): it does not fit "
                         "in {gb} GB."))
            moments = {"forward": _("end of forward"), "backward": _("backward"),
                       "optimizer step": _("optimizer step")}
            st.markdown("**" + verdict.format(batch=batch, bytes=format_bytes(f.training_bytes),
                                              moment=moments.get(f.peak_at, f.peak_at), gb=gb) + "** "
                        + _("Inference at batch {batch}: {bytes}.").format(batch=batch,
                                                                           bytes=format_bytes(f.inference_bytes)))
        best = footprint.largest_batch(config, budget, state["train_mem_optimizer"], state["train_mem_precision"])
        st.markdown(_("Largest batch whose training step fits in {gb} GB: **{batch}**").format(gb=gb, batch=f"{best:,}")
                    + (_(" (the search stops at 4,096)") if best == 4096 else ""))
        show_chart(charts.footprint_bars(f, _=_), key="train_footprint")
        st.caption(_(
            "Weights: float32 parameters and BatchNorm running statistics. Gradients: one float32 per parameter. "
            "Optimizer state: SGD none, momentum one buffer, Adam/AdamW two moments, per parameter. Activations: "
            "what autograd saves for backward (the profile's number; under mixed precision 2 bytes per value). "
            "Backward buffers: gradients in flight at the backward peak. Checkpoint RNG: the 5,056-byte CPU RNG "
            "state that memory-efficient mode keeps per dense layer. The peak is the largest of end of forward, "
            "the backward walk and the optimizer step: parts do not all live at once. Inference: weights plus the "
            "largest set of tensors alive at once under no_grad. Predictions are checked in the tests against "
            "the CPU allocator (torch.profiler memory events, within 5 %) and torch.cuda.max_memory_allocated "
            "(within 10 %)."))
    except ExplorerError as error:
        show_error(error)

    with st.expander(_("Measure: activation memory against depth, and the time of memory-efficient mode")):
        st.markdown(_("One dense block of 2 to 16 layers at 16 px, batch 2, both implementations: predicted (lines) "
                      "and measured with the CPU allocator (markers). Pleiss et al. (2017): the standard "
                      "implementation stores O(L²) feature maps, the memory-efficient one O(L), for about 15-20 % "
                      "more training time."))
        if st.button(_("Measure (about a minute on a busy server)"), key="train_measure_depth"):
            try:
                state["train_measured"] = run_job(work.depth_and_overhead, cost=work.measurements_cost(),
                                                  label=_("Measuring…"), key="train_measure_job")
            except ExplorerError as error:
                show_error(error)
        measured = state.get("train_measured")
        if measured is not None:
            show_chart(charts.depth_scaling_figure(measured["scaling"], _=_), key="train_depth_chart")
            o = measured["overhead"]
            st.markdown(_("Memory-efficient forward + backward: {efficient} s against {standard} s (median of "
                          "{repeats} interleaved runs, batch {batch}): **{overhead} %**, beside the published "
                          "15-20 %.").format(efficient=f"{o['efficient_s']:.3f}", standard=f"{o['standard_s']:.3f}",
                                             repeats=o["repeats"], batch=o["batch_size"],
                                             overhead=f"{100 * o['overhead']:+.1f}"))

elif view == "maps":
    if kept is None:
        st.info(_("Train a model (or load one) to see its feature maps."))
    else:
        c = info.config
        a, b = st.columns(2)
        a.radio(_("Image"), list(MAP_SOURCES), key="train_map_source", horizontal=True,
                format_func=lambda s: _(MAP_SOURCES[s]))
        b.select_slider(_("Dense block"), list(range(1, len(c.block_config) + 1)), key="train_map_block")
        try:
            block = int(state["train_map_block"])
            args, image = None, None
            if state["train_map_source"] == "digit":
                st.number_input(_("Digit image number"), 0, work.DIGITS_IMAGES - 1, key="train_map_index")
                args = (block, None, int(state["train_map_index"]))
            elif state["train_map_source"] == "sample":
                from explorer.vision.images import SAMPLES, load_sample

                image = load_sample(st.selectbox(_("Sample"), list(SAMPLES), key="train_map_sample"))
                args = (block, image)
            else:
                from explorer.vision.images import UPLOAD_TYPES

                from pages.ui.jobs import decoded_image

                up = file_uploader(_("Image"), type=UPLOAD_TYPES, key="train_map_upload", max_upload_size=10)
                if up is not None:
                    admit_upload(up, "train_map_upload")
                    args = (block, decoded_image(up.getvalue(), up.name))
            if args is not None:
                maps = from_job("maps", kept, work.feature_maps, *args, cost=work.feature_maps_cost(kept["data"], c),
                                label=_("Computing the feature maps…"))
                if maps["label"] is not None:
                    st.caption(_("Image {number}: a {digit}").format(number=args[2], digit=maps["label"]))
                st.caption(_("At most {n} maps per step, each scaled to its own range.").format(n=featuremaps.MAX_MAPS))
                with st.container(height=600):
                    for step in maps["steps"]:
                        if step.label == "block input":
                            title = _("block input: {n} channels").format(n=step.channels)
                        elif step.label.startswith("transition"):
                            title = _("{name}: compressed to {n} channels").format(name=step.label, n=step.channels)
                        else:
                            title = _("{name}: +{new} new maps → {n} channels").format(
                                name=step.label, new=step.new_channels, n=step.channels)
                        show_chart(charts.feature_map_mosaic(featuremaps.mosaic(step.maps), title),
                                   key=f"train_maps_{step.label}")
        except ExplorerError as error:
            show_error(error)


# The settings as they are now: kept for the session, and in the address where they differ from the defaults.
publish_settings("train", {field: state[field] for field in TRAIN_DEFAULTS}, {key: str(state[field]) for key, (field, _choices) in LINKED.items()
                                          if state[field] != TRAIN_DEFAULTS[field]})
