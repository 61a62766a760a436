"""Train & observe: train a small DenseNet here, then look at what it learned to reuse, what its
training step really costs in memory, and its feature maps on a real image.

Training runs in a background thread through the process-wide bounded queue (``HEAVY_WORK``),
so a session's training never blocks anyone's sliders; a fragment redraws the progress every
second. All computing lives in ``explorer``.
"""

from __future__ import annotations

import threading

import streamlit as st

from explorer.analysis import featuremaps, footprint, reuse
from explorer.charts import training as charts
from explorer.errors import ConfigError, ExplorerError
from explorer.models.densenet import DenseNetConfig
from explorer.training import data as training_data
from explorer.training import default_config, load_model, save_model, train
from explorer.training.loop import DEFAULT_EPOCHS
from explorer.units import format_bytes
from pages import literal, page_header, show_error

state = st.session_state
state.setdefault("train_dataset", "digits")
state.setdefault("train_image_size", 32)
state.setdefault("train_growth", 12)
state.setdefault("train_depth", 40)
state.setdefault("train_compression", 0.5)
state.setdefault("train_epochs", DEFAULT_EPOCHS)
state.setdefault("train_budget", 120)
state.setdefault("train_mem_batch", 64)
state.setdefault("train_mem_gb", 8.0)
state.setdefault("train_mem_optimizer", "momentum")
state.setdefault("train_mem_precision", "fp32")
state.setdefault("train_map_block", 1)
state.setdefault("train_map_source", "digits validation image")
state.setdefault("train_map_index", 0)

page_header(__file__)

st.caption("Train a small DenseNet-BC (CIFAR stem) on scikit-learn's 1,797 handwritten digits (8×8, upsampled) or "
           "on a zip of class folders, then see its feature reuse (the DenseNet paper's Figure 5), its whole "
           "training memory and its feature maps. The default (L=40, k=12, 10 epochs) reached 98.3 % validation "
           "accuracy in 116 s on 2 CPU cores (benchmarks/train_speed.py).")


# --- the job: one per session, in a thread ---------------------------------------------------

class TrainingJob:
    """Progress written by the training thread, read by the page; ``stop`` asks it to finish."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.progress = None
        self.result = None
        self.error: Exception | None = None
        self.waiting = 0
        self.thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, config: DenseNetConfig, dataset, epochs: int, budget: float) -> None:
        from explorer.jobs.queue import HEAVY_WORK

        def work():
            try:
                with HEAVY_WORK.slot(on_wait=lambda place: setattr(self, "waiting", place)):
                    self.waiting = 0
                    self.result = train(config, dataset, epochs=epochs, time_budget_s=budget,
                                        progress=lambda p: setattr(self, "progress", p),
                                        should_stop=self.stop.is_set)
            except Exception as error:  # noqa: BLE001 - shown on the page as one line
                self.error = error

        self.thread = threading.Thread(target=work, name="explorer-train", daemon=True)
        self.thread.start()


def _dataset(size: int):
    if state["train_dataset"] == "digits":
        return training_data.digits_dataset(size=size)
    upload = state.get("train_zip")
    if upload is None:
        raise training_data.DatasetError("upload a zip of class folders (CLASS/IMAGE.png) first")
    return training_data.zip_dataset(upload.getvalue(), upload.name, size=size)


def _config(num_classes: int, size: int) -> DenseNetConfig:
    layers = (state["train_depth"] - 4) // 6
    return default_config(num_classes, size).replace(
        growth_rate=state["train_growth"], num_init_features=2 * state["train_growth"],
        block_config=(layers,) * 3, compression=state["train_compression"])


def _keep(model, config, classes, mean, std, label, history=None, step_losses=None, info=None) -> None:
    state["train_model"] = {"model": model, "config": config, "classes": classes, "mean": mean, "std": std,
                            "label": label, "history": history or [], "step_losses": step_losses or [],
                            "info": info or {}}


tab_train, tab_reuse, tab_memory, tab_maps = st.tabs(["Train", "Feature reuse", "Memory", "Feature maps"])

with tab_train:
    left, right = st.columns([1, 2])
    with left:
        st.radio("Data", ["digits", "zip of class folders"], key="train_dataset", horizontal=True)
        if state["train_dataset"] != "digits":
            st.file_uploader("Zip (CLASS/IMAGE files, up to 50 MiB, 5,000 files)", type=["zip"], key="train_zip")
        st.select_slider("Image size (px)", [16, 32], key="train_image_size",
                         help="Digits are 8×8; 16 px trains 4× faster, 32 px is the CIFAR size")
        st.select_slider("Depth L (DenseNet-BC: 6n+4)", [10, 16, 22, 28, 34, 40, 52, 64], key="train_depth")
        st.slider("Growth rate k", 2, 32, key="train_growth")
        st.select_slider("Compression θ", [0.25, 0.5, 0.75, 1.0], key="train_compression")
        st.number_input("Epochs", 1, 100, key="train_epochs")
        st.number_input("Time budget (s)", 5, 3600, key="train_budget",
                        help="Training stops here and keeps the model trained so far")
        job: TrainingJob | None = state.get("train_job")
        b1, b2 = st.columns(2)
        if b1.button("Train", type="primary", key="train_start", disabled=bool(job and job.running)):
            try:
                size = state["train_image_size"]
                dataset = _dataset(size)
                config = _config(dataset.num_classes, size)
                job = TrainingJob()
                state["train_job"] = job
                state["train_job_dataset"] = dataset.describe()
                job.start(config, dataset, int(state["train_epochs"]), float(state["train_budget"]))
            except ExplorerError as error:
                show_error(error)
        if b2.button("Stop", key="train_stop", disabled=not (job and job.running),
                     help="Stops after the current step; the model trained so far is kept"):
            job.stop.set()

    with right:
        @st.fragment(run_every=1.0)
        def live():
            job: TrainingJob | None = state.get("train_job")
            if job is None:
                st.info("Set the model and press Train. The default takes about 2 minutes on 2 CPU cores and "
                        "seconds on a GPU.")
                return
            st.caption(literal(state.get("train_job_dataset", "")))
            p = job.progress
            if job.waiting:
                st.info(f"The server is busy: you are number {job.waiting} in line.", icon="⏳")
            if p is not None:
                st.progress(p.step / max(p.total_steps, 1),
                            text=f"epoch {min(p.epoch + 1, p.epochs)}/{p.epochs}, step {p.step}/{p.total_steps}, "
                                 f"loss {p.loss:.3f}, {p.elapsed_s:.0f} s elapsed, about {p.eta_s:.0f} s left")
                st.plotly_chart(charts.training_curves(p.history, []), key="train_live_curves")
            if job.error is not None:
                show_error(job.error, "Training failed — ")
                state["train_job"] = None
            elif job.result is not None and not job.running:
                r = job.result
                _keep(r.build_model(), r.config, r.classes, r.mean, r.std,
                      f"trained here: {r.dataset}, {r.epochs} epoch(s), {r.stopped_by}", r.history, r.step_losses,
                      {"val_accuracy": r.val_accuracy, "epochs": r.epochs, "dataset": r.dataset})
                state["train_job"] = None
                st.rerun()

        live()

        kept = state.get("train_model")
        if kept is not None:
            c = kept["config"]
            st.subheader("The model of this session")
            st.markdown(f"{c.variant}, L={c.depth}, k={c.growth_rate}, θ={c.compression}, "
                        f"{c.input_size}×{c.input_size} px, {len(kept['classes'])} classes — "
                        f"{literal(kept['label'])}")
            if "val_accuracy" in kept["info"]:
                st.metric("Validation accuracy", f"{100 * kept['info']['val_accuracy']:.2f} %")
            if kept["history"]:
                st.plotly_chart(charts.training_curves(kept["history"], kept["step_losses"]), key="train_curves")
            blob = save_model(kept["model"].state_dict(), c, kept["classes"], kept["mean"], kept["std"],
                              **kept["info"])
            st.download_button("Download weights (.safetensors, config in the metadata)", blob,
                               "densenet.safetensors", "application/octet-stream", key="train_download")

        upload = st.file_uploader("Or load a .safetensors file saved here or by `python -m explorer train`",
                                  type=["safetensors"], key="train_weights_upload")
        if upload is not None and state.get("train_loaded_name") != (upload.name, upload.size):
            try:
                loaded = load_model(upload.getvalue(), upload.name)
                _keep(loaded.model, loaded.config, loaded.classes, loaded.mean, loaded.std,
                      f"uploaded: {upload.name}", info=loaded.info)
                state["train_loaded_name"] = (upload.name, upload.size)
                st.rerun()
            except ExplorerError as error:
                show_error(error)

kept = state.get("train_model")

with tab_reuse:
    if kept is None:
        st.info("Train a model (or load one) to see its feature reuse.")
    else:
        st.markdown(
            "Each cell: the mean |weight| that a layer's first convolution (a row) gives to the channels "
            "written by an earlier layer (a column), divided by the row's largest value. The last row is the "
            "transition (or, in the last block, the classifier).\n\n"
            "What the paper read from its Figure 5 (DenseNet, L=40, k=12, CIFAR-10+): all layers spread their "
            "weights over many inputs, so features extracted early are used directly by deep layers of the same "
            "block; the transition layers also spread their weights across the whole block; the transition "
            "outputs (the first column of blocks 2 and 3) get little weight, a sign of redundancy that motivated "
            "compression (DenseNet-BC); and the classifier concentrates on the last few layers' maps, which "
            "are the more high-level features.")
        for block in reuse.reuse_matrices(kept["model"].state_dict()):
            st.plotly_chart(charts.reuse_heatmap(block), key=f"train_reuse_{block.name}")

with tab_memory:
    config = kept["config"] if kept is not None else default_config()
    st.markdown(f"For {'the session model' if kept is not None else 'the default model'}: {config.variant}, "
                f"L={config.depth}, k={config.growth_rate}, {config.input_size} px"
                f"{', memory-efficient' if config.memory_efficient else ''}.")
    m1, m2, m3, m4 = st.columns(4)
    m1.number_input("Batch", 1, 4096, key="train_mem_batch")
    m2.selectbox("Optimizer", footprint.OPTIMIZERS, key="train_mem_optimizer",
                 format_func=lambda o: {"sgd": "SGD", "momentum": "SGD + momentum", "adam": "Adam / AdamW"}[o])
    m3.selectbox("Precision", footprint.PRECISIONS, key="train_mem_precision",
                 format_func=lambda p: {"fp32": "float32", "amp": "mixed (bf16/fp16 autocast)"}[p])
    m4.number_input("Memory (GB)", 0.1, 1024.0, step=1.0, key="train_mem_gb")
    try:
        batch = int(state["train_mem_batch"])
        f = footprint.footprint_of(config, batch, state["train_mem_optimizer"], state["train_mem_precision"])
        budget = int(state["train_mem_gb"] * 1e9)
        if not f.can_train:
            st.warning(f"Cannot train at batch {batch}: {f.reason}.", icon="⚠️")
        else:
            verdict = "fits" if f.training_bytes <= budget else "does not fit"
            st.markdown(f"**A training step at batch {batch} needs {format_bytes(f.training_bytes)} at its peak "
                        f"({f.peak_at}): it {verdict} in {state['train_mem_gb']:g} GB.** "
                        f"Inference at batch {batch}: {format_bytes(f.inference_bytes)}.")
        best = footprint.largest_batch(config, budget, state["train_mem_optimizer"], state["train_mem_precision"])
        st.markdown(f"Largest batch whose training step fits in {state['train_mem_gb']:g} GB: **{best:,}**"
                    + (" (the search stops at 4,096)" if best == 4096 else ""))
        st.plotly_chart(charts.footprint_bars(f), key="train_footprint")
        st.caption(
            "Weights: float32 parameters and BatchNorm running statistics. Gradients: one float32 per parameter. "
            "Optimizer state: SGD none, momentum one buffer, Adam/AdamW two moments, per parameter. Activations: "
            "what autograd saves for backward (the profile's number; under mixed precision 2 bytes per value). "
            "Backward buffers: gradients in flight at the backward peak. Checkpoint RNG: the 5,056-byte CPU RNG "
            "state that memory-efficient mode keeps per dense layer. The peak is the largest of end of forward, "
            "the backward walk and the optimizer step: parts do not all live at once. Inference: weights plus the "
            "largest set of tensors alive at once under no_grad. Predictions are checked in the tests against "
            "the CPU allocator (torch.profiler memory events, within 5 %) and torch.cuda.max_memory_allocated "
            "(within 10 %).")
    except ExplorerError as error:
        show_error(error)

    with st.expander("Measure: activation memory against depth, and the time of memory-efficient mode"):
        st.markdown("One dense block of 2 to 16 layers at 16 px, batch 2, both implementations: predicted (lines) "
                    "and measured with the CPU allocator (markers). Pleiss et al. (2017): the standard "
                    "implementation stores O(L²) feature maps, the memory-efficient one O(L), for about 15-20 % "
                    "more training time.")
        if st.button("Measure (about a minute on a busy server)", key="train_measure_depth"):
            from pages import heavy

            with st.spinner("Measuring…"):
                try:
                    base = default_config().replace(input_size=16)
                    state["train_depth_scaling"] = heavy(footprint.depth_scaling, base)
                    state["train_overhead"] = heavy(footprint.efficient_overhead, default_config(), 16, 5)
                except ExplorerError as error:
                    show_error(error)
        if "train_depth_scaling" in state:
            st.plotly_chart(charts.depth_scaling_figure(state["train_depth_scaling"]), key="train_depth_chart")
            o = state["train_overhead"]
            st.markdown(f"Memory-efficient forward + backward: {o['efficient_s']:.3f} s against "
                        f"{o['standard_s']:.3f} s (median of {o['repeats']} interleaved runs, batch "
                        f"{o['batch_size']}): **{100 * o['overhead']:+.1f} %**, beside the published 15-20 %.")

with tab_maps:
    if kept is None:
        st.info("Train a model (or load one) to see its feature maps.")
    else:
        c = kept["config"]
        a, b = st.columns(2)
        a.radio("Image", ["digits validation image", "sample photo", "upload"], key="train_map_source",
                horizontal=True)
        b.select_slider("Dense block", list(range(1, len(c.block_config) + 1)), key="train_map_block")
        try:
            image = None
            if state["train_map_source"] == "digits validation image":
                import numpy as np
                from PIL import Image

                images, labels = training_data.digits_images(8)
                st.number_input("Digit image number", 0, len(labels) - 1, key="train_map_index")
                i = int(state["train_map_index"])
                grey = (images[i, 0].numpy() * 255).astype(np.uint8)
                image = Image.fromarray(grey, "L").convert("RGB")
                st.caption(f"Image {i}: a {labels[i]}")
            elif state["train_map_source"] == "sample photo":
                from explorer.vision.images import SAMPLES, load_sample

                image = load_sample(st.selectbox("Sample", list(SAMPLES), key="train_map_sample"))
            else:
                from explorer.vision.images import UPLOAD_TYPES, decode_image

                up = st.file_uploader("Image", type=UPLOAD_TYPES, key="train_map_upload")
                if up is not None:
                    image = decode_image(up.getvalue(), up.name)
            if image is not None:
                x = featuremaps.prepare_image(image, c.input_size, kept["mean"], kept["std"])
                steps = featuremaps.block_feature_maps(kept["model"], x, int(state["train_map_block"]))
                st.caption(f"At most {featuremaps.MAX_MAPS} maps per step, each scaled to its own range.")
                with st.container(height=600):
                    for step in steps:
                        if step.label == "block input":
                            title = f"block input: {step.channels} channels"
                        elif step.label.startswith("transition"):
                            title = f"{step.label}: compressed to {step.channels} channels"
                        else:
                            title = f"{step.label}: +{step.new_channels} new maps → {step.channels} channels"
                        st.plotly_chart(charts.feature_map_mosaic(featuremaps.mosaic(step.maps), title),
                                        key=f"train_maps_{step.label}")
        except (ExplorerError, ConfigError) as error:
            show_error(error)
