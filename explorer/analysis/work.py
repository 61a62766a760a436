"""The Build and Compare pages' heavy work as jobs of the job layer (``explorer.jobs``): the
cross-check of a profile, forward timings and torchvision models' measurements, with their cost
estimates.

Each function runs in a worker process (so it is module-level and takes picklable arguments);
each ``*_cost`` estimates, before anything is allocated, what the job will need.
"""

from __future__ import annotations

from ..i18n import N_
from ..jobs.limits import Estimate, MiB
from ..jobs.worker import report


def cross_check_cost(profile) -> Estimate:
    """fvcore and FlopCounterMode each run the live model once at batch 1: its weights and
    activations a few times over, at tracing speed (~2 GFLOP/s with both counters' hooks)."""
    return Estimate(bytes=4 * (profile.param_bytes + profile.activation_bytes) + 256 * MiB,
                    seconds=1.0 + profile.flops / 2e9, reduce=N_("the model's size (input size, depth or width)"))


def cross_check(config):
    from .crosscheck import cross_check as run

    return run(config)


# --- Compare: measuring torchvision models and timing forwards ------------------------------------

# A latency job keeps its own time budget (``bounded``: no build or forward starts that is predicted
# to end past it); what one job may run (``limits.MAX_JOB_SECONDS``) caps the budget a page offers.
LATENCY_MAX_BUDGET_S = 120
_LATENCY_SLACK_S = 15.0  # a first build or forward (nothing to predict it from), a misprediction


def latency_cost(requests, rounds: int, budget_s: float) -> Estimate:
    """Checks a latency request (one line for what cannot fit: ``latency.check_latency_request``,
    meta copies only) and estimates its job: the memory it needs and its time budget."""
    from . import latency

    device = latency.best_device()
    jobs = latency.check_latency_request(requests, device, rounds=rounds, budget_s=budget_s)
    need, _worst = latency.latency_need(jobs)
    return Estimate(bytes=need, seconds=budget_s + _LATENCY_SLACK_S, gpu=device.type == "cuda", bounded=True,
                    reduce=N_("the latency batch, the input size or the number of models (or the time budget)"))


def measure_latencies(requests, rounds: int, budget_s: float):
    """``latency.measure_latencies`` in a worker, reporting before every forward (so at least once
    per round: "round r of n: model at batch b")."""
    from . import latency

    return latency.measure_latencies(requests, rounds=rounds, budget_s=budget_s,
                                     progress=lambda done, total, text: report(done / max(total, 1), text))


def torchvision_job(names: list[str], input_size: int | None) -> tuple[list[str], Estimate]:
    """The models one ``measure_torchvision_models`` job measures, and its estimate: all of
    ``names`` when they fit one job's time limit (all ten models up to ~310 px), else the longest
    run from the first that does (a page measures the rest in its next job). Models are measured
    one after another, so the job needs the largest one's memory."""
    from ..jobs.limits import JobRefused, limits_for
    from .reference import torchvision_info
    from .torchvision_costs import measure_bytes

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

    from .torchvision_costs import measure_torchvision as measure

    found = []
    for i, name in enumerate(names):
        report(i / len(names), f"{name} ({i + 1}/{len(names)})")
        found.append(measure(name, input_size))
        gc.collect()  # the last model's training forward, freed before the next one's
    report(1.0, "")
    return found
