"""The heavy work the pages hand to the job layer, with its cost estimates.

Each function runs in a worker process (so it is module-level and takes picklable arguments);
each ``*_cost`` estimates, before anything is allocated, what the job will need.
"""

from __future__ import annotations

from ..i18n import N_

from .limits import Estimate, MiB
from .worker import cached_model, report

# Explanations: the model's forward/backward at its input size, plus the heatmap and overlay at
# the image's size (~100 bytes per pixel of the image they are drawn on); the batched methods
# add at most their memory budget (``vision.attribution.MEMORY_BUDGET``).
_EXPLAIN_PASSES = {"gradcam": 1, "guided_gradcam": 2, "integrated_gradients": 32, "occlusion": 64}
_BATCHED = ("integrated_gradients", "occlusion")
_EXPLAIN_BASE_BYTES = 768 * MiB
_EXPLAIN_BYTES_PER_PIXEL = 100
_SECONDS_PER_PASS = 0.3  # one forward+backward of the largest model at 224-342 px, one core


_WEIGHTS_COPIES = 3  # a weights file's bytes, the state dict unpacked from them, the module built from it
_SECONDS_PER_WEIGHTS_BYTE = 1 / 200e6  # unpickling and checking a state dict


def explain_cost(image_size: tuple[int, int], method: str, weights_bytes: int = 0, on_cpu: bool = False) -> Estimate:
    """An explanation's cost; ``weights_bytes``: the size of a user's weights file the job loads
    first (estimated before loading: the file, its state dict and the module). Published and
    uploaded models load on ``best_device()``, so on a CUDA machine the job declares the GPU (its
    worker then runs without an address-space limit, under which CUDA cannot start); ``on_cpu``:
    the model stays on the CPU (a DenseNet trained in the app)."""
    from ..models.registry import best_device
    from ..vision.attribution import MEMORY_BUDGET

    width, height = image_size
    passes = _EXPLAIN_PASSES.get(method, 8)
    return Estimate(bytes=_EXPLAIN_BASE_BYTES + _EXPLAIN_BYTES_PER_PIXEL * width * height
                    + (MEMORY_BUDGET if method in _BATCHED else 0) + _WEIGHTS_COPIES * weights_bytes,
                    seconds=1.0 + passes * _SECONDS_PER_PASS + weights_bytes * _SECONDS_PER_WEIGHTS_BYTE,
                    gpu=not on_cpu and best_device().type == "cuda",
                    reduce=N_("the image's size or choose a cheaper method"))


def explain_pretrained(image, model_name: str, method: str, layer: str | None, target: int | None):
    """``explain`` with a published model, loaded once per worker."""
    from ..vision.explain import explain
    from ..vision.classifier import load_pretrained

    model = cached_model(("pretrained", model_name), lambda: load_pretrained(model_name, download=False))
    return explain(model, image, target=target, layer=layer, method=method)


def _digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def explain_uploaded(image, model_name: str, data: bytes, file_name: str, method: str, layer: str | None,
                     target: int | None):
    """``explain`` with a user's own state dict (.pth) for a published architecture, loaded here in
    the worker (never in the server) and kept for the next jobs under the hash of its bytes."""
    from ..vision.classifier import pretrained_from_upload
    from ..vision.explain import explain

    model = cached_model(("upload", model_name, _digest(data)),
                         lambda: pretrained_from_upload(model_name, data, file_name))
    return explain(model, image, target=target, layer=layer, method=method)


def explain_trained(image, data: bytes, file_name: str, method: str, layer: str | None, target: int | None):
    """``explain`` with a DenseNet trained in the app or uploaded as .safetensors
    (``training.weights.save_model``), loaded in the worker, kept under the hash of its bytes."""
    from ..vision.explain import explain
    from ..vision.trained import trained_classifier

    model = cached_model(("trained", _digest(data)), lambda: trained_classifier(data, file_name))
    return explain(model, image, target=target, layer=layer, method=method)


def cross_check_cost(profile) -> Estimate:
    """fvcore and FlopCounterMode each run the live model once at batch 1: its weights and
    activations a few times over, at tracing speed (~2 GFLOP/s with both counters' hooks)."""
    return Estimate(bytes=4 * (profile.param_bytes + profile.activation_bytes) + 256 * MiB,
                    seconds=1.0 + profile.flops / 2e9, reduce=N_("the model's size (input size, depth or width)"))


def cross_check(config):
    from ..analysis.crosscheck import cross_check as run

    return run(config)


# --- Compare: measuring torchvision models and timing forwards ------------------------------------

# A latency job keeps its own time budget (``bounded``: no build or forward starts that is predicted
# to end past it); what one job may run (``limits.MAX_JOB_SECONDS``) caps the budget a page offers.
LATENCY_MAX_BUDGET_S = 120
_LATENCY_SLACK_S = 15.0  # a first build or forward (nothing to predict it from), a misprediction


def latency_cost(requests, rounds: int, budget_s: float) -> Estimate:
    """Checks a latency request (one line for what cannot fit: ``latency.check_latency_request``,
    meta copies only) and estimates its job: the memory it needs and its time budget."""
    from ..analysis import latency

    device = latency.best_device()
    jobs = latency.check_latency_request(requests, device, rounds=rounds, budget_s=budget_s)
    need, _worst = latency.latency_need(jobs)
    return Estimate(bytes=need, seconds=budget_s + _LATENCY_SLACK_S, gpu=device.type == "cuda", bounded=True,
                    reduce=N_("the latency batch, the input size or the number of models (or the time budget)"))


def measure_latencies(requests, rounds: int, budget_s: float):
    """``latency.measure_latencies`` in a worker, reporting before every forward (so at least once
    per round: "round r of n: model at batch b")."""
    from ..analysis import latency

    return latency.measure_latencies(requests, rounds=rounds, budget_s=budget_s,
                                     progress=lambda done, total, text: report(done / max(total, 1), text))


def torchvision_job(names: list[str], input_size: int | None) -> tuple[list[str], Estimate]:
    """The models one ``measure_torchvision_models`` job measures, and its estimate: all of
    ``names`` when they fit one job's time limit (all ten models up to ~310 px), else the longest
    run from the first that does (a page measures the rest in its next job). Models are measured
    one after another, so the job needs the largest one's memory."""
    from ..analysis.reference import torchvision_info
    from ..analysis.torchvision_costs import measure_bytes
    from .limits import JobRefused, limits_for

    chosen, seconds, peak = [], 0.0, 0
    for name in names:
        size = torchvision_info(name).input_size if input_size is None else input_size
        # One FlopCounterMode pass on meta and training forwards at batches 2 and 3, on one core.
        more = 5.0 + 5.0 * (size / 224) ** 2
        if chosen:
            try:
                limits_for(Estimate(bytes=0, seconds=seconds + more))
            except JobRefused:
                break
        chosen.append(name)
        seconds += more
        peak = max(peak, measure_bytes(name, size))
    return chosen, Estimate(bytes=peak, seconds=seconds, reduce=N_("the common input size"))


def measure_torchvision_models(names: list[str], input_size: int | None) -> list:
    """``torchvision_costs.measure_torchvision`` of each model in turn, in one worker (each result
    also goes to the disk cache as soon as it is measured), reporting which model it is at."""
    import gc

    from ..analysis.torchvision_costs import measure_torchvision as measure

    found = []
    for i, name in enumerate(names):
        report(i / len(names), f"{name} ({i + 1}/{len(names)})")
        found.append(measure(name, input_size))
        gc.collect()  # the last model's training forward, freed before the next one's
    report(1.0, "")
    return found
