"""Train & observe: train a small DenseNet here, then look at what it learned to reuse, what its
training step really costs in memory, and its feature maps on a real image.

The page reads as wiring: its settings table, then one function per view, chosen through
``VIEWS``. The training job and the session's model (kept for the Explain page too) are
``pages.ui.trained``; all computing lives in ``explorer``.
"""

from __future__ import annotations

import streamlit as st

from explorer.analysis import featuremaps, footprint
from explorer.charts import training as charts
from explorer.errors import ExplorerError
from explorer.i18n import N_, render
from explorer.models.densenet import DenseNetConfig
from explorer.models.limits import (BATCH_SIZE, MEMORY_GB, TRAINING, TRAINING_COMPRESSIONS, TRAINING_DEPTHS,
                                    TRAINING_IMAGE_SIZES)
from explorer.training import data as training_data
from explorer.training import default_config, work
from explorer.training import plan as planning
from explorer.training.loop import DEFAULT_EPOCHS, builder_config
from pages.ui import trained
from pages.ui.charts import show_chart
from pages.ui.i18n import file_uploader
from pages.ui.jobs import admit_upload, decoded_image, run_job
from pages.ui.messages import show_error
from pages.ui.page import page_header
from pages.ui.settings import (Setting, kept_settings, link_notes, publish_settings, read_settings, restore_settings,
                               setting_defaults, unknown_keys)

VIEW_NAMES = {"train": N_("Train"), "reuse": N_("Feature reuse"), "memory": N_("Memory"), "maps": N_("Feature maps")}
DATASETS = {"digits": N_("digits"), "zip": N_("zip of class folders")}
OPTIMIZER_NAMES = {"sgd": "SGD", "momentum": N_("SGD + momentum"), "adam": "Adam / AdamW"}  # names stay
PRECISION_NAMES = {"fp32": "float32", "amp": N_("mixed (bf16/fp16 autocast)")}
MAP_SOURCES = {"digit": N_("digits validation image"), "sample": N_("sample photo"), "upload": N_("upload")}
MODEL_SOURCES = {"small": N_("the small default below"), "builder": N_("the DenseNet page's build")}
BUILD_KEY = "densenet_build"  # the DenseNet page's current config (a dict), kept by that page
MAX_BUDGET = trained.MAX_BUDGET  # what one training job may run here: the budget input offers no more
EPOCHS, GROWTH, BUDGET = TRAINING["epochs"], TRAINING["growth_rate"], (TRAINING["time_budget_s"].low, MAX_BUDGET)


# The settings: kept for the session across page changes, and in the address (those with an address key)
# where they differ from the defaults. A link's value outside the choices gets the default, with a note.
SETTINGS = (
    Setting("train_view", "view", "train", choices=tuple(VIEW_NAMES)),
    Setting("train_dataset", "data", "digits", choices=tuple(DATASETS)),
    Setting("train_image_size", "size", 32, choices=TRAINING_IMAGE_SIZES),
    Setting("train_depth", "depth", 40, choices=TRAINING_DEPTHS),
    Setting("train_growth", "k", 12, *GROWTH, choices=range(GROWTH.low, GROWTH.high + 1)),
    Setting("train_compression", "theta", 0.5, choices=TRAINING_COMPRESSIONS),
    Setting("train_epochs", "epochs", DEFAULT_EPOCHS, *EPOCHS, choices=range(EPOCHS.low, EPOCHS.high + 1)),
    Setting("train_budget", "budget", 120, *BUDGET, choices=range(BUDGET[0], BUDGET[1] + 1)),
    Setting("train_model_source", "model", "small", choices=tuple(MODEL_SOURCES)),
    # The views' own inputs, set once per session (Streamlit drops a hidden view's widgets).
    Setting("train_mem_batch", None, 64, *BATCH_SIZE),
    Setting("train_mem_gb", None, 8.0, *MEMORY_GB),
    Setting("train_mem_optimizer", None, "momentum", choices=footprint.OPTIMIZERS),
    Setting("train_mem_precision", None, "fp32", choices=footprint.PRECISIONS),
    Setting("train_map_block", None, 1),
    Setting("train_map_source", None, "digit", choices=tuple(MAP_SOURCES)),
    Setting("train_map_index", None, 0, 0, work.DIGITS_IMAGES - 1),
)
LINKED = tuple(row for row in SETTINGS if row.address is not None)
state = st.session_state


def from_link(query: dict) -> tuple[dict, list[str]]:
    values, notes = read_settings(LINKED, query)
    return values, unknown_keys(query, {row.address for row in LINKED}) + notes


def restore() -> list[str]:
    """The settings as a link, this session or the defaults give them; notes on a link's problems.
    Hidden views' widgets are dropped by Streamlit: they come back as this session last had them."""
    problems = restore_settings("train", lambda: {**setting_defaults(LINKED), **kept_settings("train")}, from_link)
    for row in SETTINGS:
        if row.address is None:
            state.setdefault(row.state, row.default)
    if state["train_dataset"] not in DATASETS:  # older sessions stored labels
        state["train_dataset"] = "digits"
    if state["train_map_source"] not in MAP_SOURCES:
        state["train_map_source"] = "digit"
    return problems


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
    if state["train_model_source"] == "builder" and BUILD_KEY in state:
        config = builder_config(state[BUILD_KEY], size)
    else:
        config = DenseNetConfig.cifar(state["train_depth"], state["train_growth"], input_size=size,
                                      compression=state["train_compression"])
    trained.start_training(config, data, int(state["train_epochs"]), float(state["train_budget"]))


def training_view(kept, info) -> None:
    """Train: the data, the model and the run on the left; the job, then the session's model, on the right."""
    left, right = st.columns([1, 2])
    job = state.get("train_job")
    with left:
        settings_column(job)
    with right:
        trained.show_outcome()
        if job is None and kept is None:
            st.info(_("Set the model and press Train. The default takes about 2 minutes on 2 CPU cores and "
                      "seconds on a GPU."))
        if job is not None:
            trained.live(True)
        if kept is not None:
            trained.show_model(kept, info)
        trained.upload_box()


def settings_column(job) -> None:
    st.radio(_("Data"), list(DATASETS), key="train_dataset", horizontal=True, format_func=lambda d: _(DATASETS[d]))
    if state["train_dataset"] == "zip":
        file_uploader(_("Zip (CLASS/IMAGE files, up to 50 MiB, 5,000 files)"), type=["zip"], key="train_zip",
                      max_upload_size=50)
    st.select_slider(_("Image size (px)"), TRAINING_IMAGE_SIZES, key="train_image_size",
                     help=_("Digits are 8×8; 16 px trains 4× faster, 32 px is the CIFAR size"))
    if BUILD_KEY in state:
        st.radio(_("Model"), list(MODEL_SOURCES), key="train_model_source", format_func=lambda m: _(MODEL_SOURCES[m]))
    else:
        state["train_model_source"] = "small"
    if state["train_model_source"] == "builder":
        try:
            st.caption(planning.build_line(builder_config(state[BUILD_KEY], int(state["train_image_size"])), _))
        except ExplorerError as error:
            show_error(error)
    small = state["train_model_source"] == "small"  # drawn either way, so their values are kept
    st.select_slider(_("Depth L (DenseNet-BC: 6n+4)"), TRAINING_DEPTHS, key="train_depth", disabled=not small)
    st.slider(_("Growth rate k"), *GROWTH, key="train_growth", disabled=not small)
    st.select_slider(_("Compression θ"), TRAINING_COMPRESSIONS, key="train_compression", disabled=not small)
    st.number_input(_("Epochs"), *EPOCHS, key="train_epochs")
    st.number_input(_("Time budget (s)"), *BUDGET, key="train_budget",
                    help=_("Training stops here and keeps the model trained so far. One training job may run "
                           "at most {most} s on this server; the run is planned from the speed measured at its "
                           "start.").format(most=MAX_BUDGET))
    if st.button(_("Train"), type="primary", key="train_start", disabled=job is not None):
        try:
            start_training()
            st.rerun()
        except ExplorerError as error:
            show_error(error)


def reuse_view(kept, info) -> None:
    """Feature reuse (the paper's Figure 5) of the session's model or a pretrained DenseNet on disk."""
    from explorer.analysis.reuse import HEATMAP_NOTE, PAPER_READING, reuse_caveat
    from explorer.vision.download import model_status

    ready = {name: model_status(name) for name in work.PRETRAINED_DENSENETS}
    choices = (["session"] if kept is not None else []) + [n for n, s in ready.items() if s.state == "ready"]
    if not choices:
        st.info(_("Train a model (or load one) to see its feature reuse."))
        return
    if state.get("train_reuse_model") not in choices:
        state["train_reuse_model"] = choices[0]
    chosen = st.radio(_("Model"), choices, key="train_reuse_model", horizontal=True,
                      format_func=lambda c: _("the session model") if c == "session"
                      else _("{name} (pretrained, torchvision)").format(name=c))
    caveat = reuse_caveat(info.info, len(info.classes)) if chosen == "session" else None
    if caveat is not None:
        st.warning(render(caveat, _), icon="⚠️")
    st.markdown(_(HEATMAP_NOTE))
    st.markdown(_(PAPER_READING))
    try:
        if chosen == "session":
            blocks = trained.from_job("reuse", kept, work.feature_reuse, cost=work.model_cost(kept["data"]),
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


def memory_view(kept, info) -> None:
    """The whole memory of a training step of the session's (or the default) model, and a measurement."""
    config = info.config if kept is not None else default_config()
    st.markdown(footprint.model_line(config, kept is not None, _))
    m1, m2, m3, m4 = st.columns(4)
    m1.number_input(_("Batch"), *BATCH_SIZE, key="train_mem_batch")
    m2.selectbox(_("Optimizer"), footprint.OPTIMIZERS, key="train_mem_optimizer",
                 format_func=lambda o: _(OPTIMIZER_NAMES[o]))
    m3.selectbox(_("Precision"), footprint.PRECISIONS, key="train_mem_precision",
                 format_func=lambda p: _(PRECISION_NAMES[p]))
    m4.number_input(_("Memory (GB)"), *MEMORY_GB, step=1.0, key="train_mem_gb")
    try:
        batch, optimizer, precision = int(state["train_mem_batch"]), state["train_mem_optimizer"], \
            state["train_mem_precision"]
        f = footprint.footprint_of(config, batch, optimizer, precision)
        can_train, answer = footprint.step_answer(f, batch, state["train_mem_gb"], _)
        if can_train:
            st.markdown(answer)
        else:
            st.warning(answer, icon="⚠️")
        best = footprint.largest_batch(config, int(state["train_mem_gb"] * 1e9), optimizer, precision)
        st.markdown(footprint.largest_batch_answer(best, state["train_mem_gb"], _))
        show_chart(charts.footprint_bars(f, _=_), key="train_footprint")
        st.caption(_(footprint.PARTS_NOTE))
    except ExplorerError as error:
        show_error(error)
    with st.expander(_("Measure: activation memory against depth, and the time of memory-efficient mode")):
        st.markdown(_(footprint.DEPTH_NOTE))
        if st.button(_("Measure (about a minute on a busy server)"), key="train_measure_depth"):
            try:
                state["train_measured"] = run_job(work.depth_and_overhead, cost=work.measurements_cost(),
                                                  label=_("Measuring…"), key="train_measure_job")
            except ExplorerError as error:
                show_error(error)
        measured = state.get("train_measured")
        if measured is not None:
            show_chart(charts.depth_scaling_figure(measured["scaling"], _=_), key="train_depth_chart")
            st.markdown(footprint.overhead_answer(measured["overhead"], _))


def maps_view(kept, info) -> None:
    """Feature maps inside one dense block of the session's model, for a digit, a sample or an upload."""
    if kept is None:
        st.info(_("Train a model (or load one) to see its feature maps."))
        return
    from explorer.vision.images import SAMPLES, UPLOAD_TYPES, load_sample

    c = info.config
    a, b = st.columns(2)
    a.radio(_("Image"), list(MAP_SOURCES), key="train_map_source", horizontal=True,
            format_func=lambda s: _(MAP_SOURCES[s]))
    b.select_slider(_("Dense block"), list(range(1, len(c.block_config) + 1)), key="train_map_block")
    try:
        block = int(state["train_map_block"])
        args = None
        if state["train_map_source"] == "digit":
            st.number_input(_("Digit image number"), 0, work.DIGITS_IMAGES - 1, key="train_map_index")
            args = (block, None, int(state["train_map_index"]))
        elif state["train_map_source"] == "sample":
            args = (block, load_sample(st.selectbox(_("Sample"), list(SAMPLES), key="train_map_sample")))
        else:
            up = file_uploader(_("Image"), type=UPLOAD_TYPES, key="train_map_upload", max_upload_size=10)
            if up is not None:
                admit_upload(up, "train_map_upload")
                args = (block, decoded_image(up.getvalue(), up.name))
        if args is not None:
            cost = work.feature_maps_cost(kept["data"], c)
            maps = trained.from_job("maps", kept, work.feature_maps, *args, cost=cost,
                                    label=_("Computing the feature maps…"))
            if maps["label"] is not None:
                st.caption(_("Image {number}: a {digit}").format(number=args[2], digit=maps["label"]))
            st.caption(_("At most {n} maps per step, each scaled to its own range.").format(n=featuremaps.MAX_MAPS))
            with st.container(height=600):
                for step in maps["steps"]:
                    show_chart(charts.feature_map_mosaic(featuremaps.mosaic(step.maps),
                                                         featuremaps.step_title(step, _)),
                               key=f"train_maps_{step.label}")
    except ExplorerError as error:
        show_error(error)


VIEWS = {"train": training_view, "reuse": reuse_view, "memory": memory_view, "maps": maps_view}

link_problems = restore()
_ = page_header(__file__)
link_notes(link_problems)
st.caption(_("Train a small DenseNet-BC (CIFAR stem) on scikit-learn's 1,797 handwritten digits (8×8, upsampled) or "
             "on a zip of class folders, then see its feature reuse (the DenseNet paper's Figure 5), its whole "
             "training memory and its feature maps. The default (L=40, k=12, 10 epochs) reached 98.3 % validation "
             "accuracy in 84 s as a job on 2 CPU cores."))  # measured by benchmarks/train_speed.py
trained.collect()
kept, info = trained.kept_model()
view = st.radio(_("View"), list(VIEW_NAMES), key="train_view", horizontal=True,
                format_func=lambda v: _(VIEW_NAMES[v]), label_visibility="collapsed")
if view != "train" and state.get("train_job") is not None:
    trained.live(False)
VIEWS[view](kept, info)
# The settings as they are now: kept for the session, and in the address where they differ from the defaults.
publish_settings("train", {row.state: state[row.state] for row in LINKED},
                 {row.address: str(state[row.state]) for row in LINKED if state[row.state] != row.default})
