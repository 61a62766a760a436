"""The whole memory of a training step and of inference, predicted from the analytic profile
and measured on a real step.

Prediction: a training step's peak is the largest of three moments, each summed from the
profile's rows (see ``training_footprint``):
- end of the forward pass: every storage autograd saved, the batch and the logits;
- during backward, walking the rows in reverse: the saved storages of the rows not yet
  differentiated, the gradients of the parameters already reached, the gradient flowing out of
  and into the current row, and (inside a dense block) the gradients pending for the maps of
  the earlier layers, which accumulate until their own layer is reached;
- the optimizer step: all gradients, the optimizer state and the update's temporaries.
Weights, BatchNorm running statistics and optimizer state are live throughout.

Measurement (``measure_training_step``): ``torch.profiler`` with ``profile_memory=True`` records
every allocation and free of the CPU allocator with its size and time; the profiler starts
before the model is built, so the running sum of these events is the live bytes of everything
the step touches, and its maximum during the second step (optimizer state exists by then) is
the peak. The same function reports ``torch.cuda.max_memory_allocated`` on a CUDA device.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

from ..errors import ConfigError
from ..i18n import ENGLISH, N_, Message, render
from ..models.specs import FLOAT_BYTES

OPTIMIZERS = ("sgd", "momentum", "adam")  # adam: Adam and AdamW keep the same state
PRECISIONS = ("fp32", "amp")
STATE_TENSORS = {"sgd": 0, "momentum": 1, "adam": 2}  # float32 tensors kept per parameter
# torch.utils.checkpoint (non-reentrant) keeps the CPU RNG state of every checkpointed call so
# that dropout draws the same masks when it recomputes: a 5,056-byte uint8 tensor (measured).
CPU_RNG_STATE_BYTES = 5056
RECOMPUTED_MAPS = 2  # concatenation + norm1 output, rebuilt by a checkpointed layer's backward


def _check(optimizer: str, precision: str) -> None:
    if optimizer not in OPTIMIZERS:
        raise ConfigError("optimizer", N_("must be one of {choices}, got {value}"),
                          choices=", ".join(OPTIMIZERS), value=repr(optimizer))
    if precision not in PRECISIONS:
        raise ConfigError("precision", N_("must be one of {choices}, got {value}"),
                          choices=", ".join(PRECISIONS), value=repr(precision))


@dataclass(frozen=True)
class Footprint:
    """Bytes of one training step (at its peak) and of inference, for one batch size."""

    batch_size: int
    optimizer: str
    precision: str
    weights: int  # parameters (float32) and BatchNorm running statistics
    gradients: int  # one float32 gradient per parameter
    optimizer_state: int  # momentum buffer (momentum), two moments (adam); none for plain sgd
    activations: int  # storages autograd saves for backward (the profile's activation memory)
    backward_buffers: int  # gradients in flight at the backward peak (flowing and pending)
    checkpoint_rng: int  # RNG states kept by memory-efficient layers
    training_bytes: int  # the peak of a whole step
    peak_at: str  # "forward", "backward" or "optimizer step"
    inference_bytes: int  # weights and the largest set of tensors alive at once under no_grad
    can_train: bool
    reason: str  # why not, when can_train is False

    def to_dict(self) -> dict:
        return asdict(self)


def _dense_layer_of(name: str) -> tuple[str, int] | None:
    parts = name.split(".")
    if len(parts) >= 3 and parts[1].startswith("denseblock") and parts[2].startswith("denselayer"):
        return parts[1], int(parts[2][len("denselayer"):])
    return None


def cannot_train(profile) -> str:
    """Why a training step would fail (a ``Message``: English text that translates), or '' when
    it can run: BatchNorm in training mode needs more than one value per channel, so a 1x1 map at
    batch 1 raises in PyTorch."""
    if profile.batch_size > 1:
        return ""
    for row in profile.layers:
        if row.kind == "bn" and row.height * row.width == 1:
            return Message(N_("{layer} normalises a 1x1 map at batch 1: BatchNorm needs more than one value per "
                              "channel in training (use batch 2 or more, or a larger input)"), layer=row.name)
    return ""


def training_footprint(profile, optimizer: str = "sgd", precision: str = "fp32") -> Footprint:
    """The whole footprint of a training step predicted from a DenseNet profile (see the module
    docstring for the three moments); ``precision="amp"`` follows autocast to bfloat16/float16."""
    _check(optimizer, precision)
    rows = profile.layers
    batch = profile.batch_size
    params = profile.params
    bn_stats = sum(2 * r.out_channels * FLOAT_BYTES + 8 for r in rows if r.kind == "bn")  # + num_batches_tracked
    weights = params * FLOAT_BYTES + bn_stats
    gradients = params * FLOAT_BYTES
    state = STATE_TENSORS[optimizer] * params * FLOAT_BYTES
    efficient = bool(profile.config.get("memory_efficient"))
    rng = CPU_RNG_STATE_BYTES * sum(1 for r in rows if r.name.endswith(".norm1")) if efficient else 0
    # Under autocast, convolutions run in 16 bits and everything after them follows (BatchNorm
    # keeps the input dtype): saved maps and the gradients flowing back take 2 bytes; autocast
    # also caches a 16-bit copy of every weight for the duration of forward and backward.
    half = precision == "amp"
    item = 2 if half else FLOAT_BYTES
    cast_cache = params * 2 if half else 0
    activations = profile.activation_bytes * item // FLOAT_BYTES

    def maps(channels, h, w):
        return batch * channels * h * w * item

    # Forward: everything saved is alive at the end; the logits and the loss are tiny.
    logits = maps(rows[-1].out_channels, 1, 1)
    forward = activations + rng + 2 * logits + cast_cache

    # Backward: walk the rows in reverse.
    saved_left = activations + rng + cast_cache
    grads_done = 0
    backward, buffers_at_peak = 0, 0
    layer_inputs = {}
    for r in rows:
        key = _dense_layer_of(r.name)
        if key is not None and r.kind == "concat":
            layer_inputs[key] = maps(r.out_channels, r.height, r.width)
    prev_hw = {rows[0].name: (rows[0].height, rows[0].width)}
    hw_in = []
    last = (rows[0].height, rows[0].width)
    for r in rows:
        hw_in.append(last)
        last = (r.height, r.width)
    for i in range(len(rows) - 1, -1, -1):
        r = rows[i]
        grads_done += r.params * FLOAT_BYTES
        h_in, w_in = hw_in[i]
        flowing = maps(r.out_channels, r.height, r.width) + maps(r.in_channels, h_in, w_in)
        key = _dense_layer_of(r.name)
        pending = layer_inputs.get(key, 0) if key is not None else 0
        if efficient and key is not None:
            # Recomputation: while a memory-efficient layer is differentiated, its concatenation
            # and norm1's output exist again (and are saved for that backward).
            pending += RECOMPUTED_MAPS * layer_inputs.get(key, 0)
        live = saved_left + grads_done + flowing + pending
        if live > backward:
            backward, buffers_at_peak = live, flowing + pending
        saved_left -= r.activation_bytes * item // FLOAT_BYTES

    # Optimizer step: activations are gone; gradients, state and the update's temporaries remain.
    largest = max((r.params for r in rows), default=0) * FLOAT_BYTES
    step = gradients + (largest if optimizer == "adam" else 0)

    moments = {"forward": forward, "backward": backward, "optimizer step": step}
    peak_at = max(moments, key=moments.get)
    training = weights + state + moments[peak_at]
    reason = cannot_train(profile)
    return Footprint(batch, optimizer, precision, weights, gradients, state, activations, buffers_at_peak, rng,
                     training, peak_at, weights + inference_peak(profile), not reason, reason)


def inference_peak(profile) -> int:
    """The largest set of tensors alive at once in a no_grad forward: a row's input and output,
    plus (inside a dense block) the block input and new maps the block keeps in its list."""
    batch = profile.batch_size
    peak = 0
    prev = 0
    for r in profile.layers:
        out = batch * r.out_channels * r.height * r.width * FLOAT_BYTES
        key = _dense_layer_of(r.name)
        held = batch * r.in_channels * r.height * r.width * FLOAT_BYTES if key is not None else 0
        peak = max(peak, prev + out + held)
        prev = out
    return peak


def make_optimizer(name: str, params):
    if name == "sgd":
        return torch.optim.SGD(params, lr=0.01)
    if name == "momentum":
        return torch.optim.SGD(params, lr=0.01, momentum=0.9)
    return torch.optim.Adam(params, lr=1e-3)


def _amp_dtype(device: torch.device) -> torch.dtype:
    return torch.float16 if device.type == "cuda" else torch.bfloat16


def _training_step(model, optimizer, x, y, precision: str):
    optimizer.zero_grad(set_to_none=True)
    if precision == "amp":
        with torch.autocast(x.device.type, dtype=_amp_dtype(x.device)):
            logits = model(x)
    else:
        logits = model(x)
    loss = torch.nn.functional.cross_entropy(logits.float(), y)
    del logits
    loss.backward()
    del loss
    optimizer.step()


def measure_training_step(config, batch_size: int, optimizer: str = "sgd", precision: str = "fp32",
                          device: str | torch.device = "cpu", seed: int = 0) -> int:
    """Peak bytes of the second training step of a freshly built model, everything included
    (weights, optimizer state, the batch, activations, gradients, temporaries)."""
    from ..models.densenet import DenseNet

    _check(optimizer, precision)
    device = torch.device(device)
    generator = torch.Generator().manual_seed(seed)

    def setup():
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = DenseNet(config).to(device).train()
        opt = make_optimizer(optimizer, list(model.parameters()))
        x = torch.randn(batch_size, 3, config.input_size, config.input_size, generator=generator).to(device)
        y = torch.randint(0, config.num_classes, (batch_size,), generator=generator).to(device)
        return model, opt, x, y

    if device.type == "cuda":
        # A throwaway step first: cuBLAS and cuDNN keep workspaces from their first call on,
        # which belong to the process, not to this model's step.
        _training_step(*setup(), precision)
        torch.cuda.synchronize(device)
        torch.cuda.empty_cache()
        base = torch.cuda.memory_allocated(device)
        model, opt, x, y = setup()
        _training_step(model, opt, x, y, precision)
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        _training_step(model, opt, x, y, precision)
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device) - base

    from torch.profiler import ProfilerActivity, profile, record_function

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        model, opt, x, y = setup()
        _training_step(model, opt, x, y, precision)
        with record_function("explorer_measured_step"):
            _training_step(model, opt, x, y, precision)
    events = list(prof.profiler.kineto_results.events())
    start = min(e.start_ns() for e in events if e.name() == "explorer_measured_step")
    live = peak = 0
    for event in sorted((e for e in events if e.name() == "[memory]"), key=lambda e: e.start_ns()):
        live += event.nbytes()
        if event.start_ns() >= start:
            peak = max(peak, live)
    return peak


# --- growth with depth and the price of memory-efficient mode, measured -------------------

def measure_forward_bytes(config, batch_size: int, seed: int = 0) -> int:
    """Bytes backward will need after a training-mode forward: what the forward left allocated
    (CPU allocator events: saved storages, checkpoint RNG states, the logits), plus the input
    image (conv0 keeps it), minus the logits (the loss reads them, backward does not)."""
    from torch.profiler import ProfilerActivity, profile, record_function

    from ..models.densenet import DenseNet

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = DenseNet(config).train()
        x = torch.randn(batch_size, 3, config.input_size, config.input_size)
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            with record_function("explorer_forward"):
                out = model(x)
        adjust = x.nbytes - out.nbytes
        del out
    events = list(prof.profiler.kineto_results.events())
    span = [e for e in events if e.name() == "explorer_forward"][0]
    return adjust + sum(e.nbytes() for e in events if e.name() == "[memory]"
                        and span.start_ns() <= e.start_ns() <= span.end_ns())


@dataclass(frozen=True)
class DepthScaling:
    layers_per_block: list[int]
    depths: list[int]  # L as the paper counts it
    predicted: dict  # implementation ("standard", "memory-efficient") -> bytes per depth
    measured: dict
    exponent: dict  # fitted growth exponent of the measured bytes against L (log-log least squares)


def growth_exponent(xs: list[float], ys: list[float]) -> float:
    lx = [math.log(x) for x in xs]
    ly = [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def depth_scaling(base, layers: tuple[int, ...] = (2, 4, 8, 12, 16), batch_size: int = 2) -> DepthScaling:
    """Activation memory of ``base`` with 1 dense block of n layers, for both implementations:
    predicted (profile + RNG states) and measured (``measure_forward_bytes``)."""
    from ..models.densenet import profile_densenet

    predicted, measured, exponent, depths = {}, {}, {}, []
    for efficient, label in ((False, "standard"), (True, "memory-efficient")):
        predicted[label], measured[label] = [], []
        for n in layers:
            config = base.replace(block_config=(n,), memory_efficient=efficient)
            p = profile_densenet(config, batch_size)
            f = training_footprint(p)
            predicted[label].append(f.activations + f.checkpoint_rng)
            measured[label].append(measure_forward_bytes(config, batch_size))
            if not efficient:
                depths.append(config.depth)
        exponent[label] = growth_exponent(depths, measured[label])
    return DepthScaling(list(layers), depths, predicted, measured, exponent)


def efficient_overhead(config, batch_size: int = 16, repeats: int = 7, seed: int = 0) -> dict:
    """Time of forward + backward in memory-efficient mode over the standard one: the median of
    ``repeats`` interleaved runs of each (same weights, same batch, after one warm-up each)."""
    import statistics
    import time

    from ..models.densenet import DenseNet

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        standard = DenseNet(config.replace(memory_efficient=False)).train()
        efficient = DenseNet(config.replace(memory_efficient=True)).train()
        efficient.load_state_dict(standard.state_dict())
        x = torch.randn(batch_size, 3, config.input_size, config.input_size)

    def run(model):
        start = time.perf_counter()
        model(x).sum().backward()
        model.zero_grad(set_to_none=True)
        return time.perf_counter() - start

    run(standard), run(efficient)
    times = {"standard": [], "memory-efficient": []}
    for _ in range(repeats):
        times["standard"].append(run(standard))
        times["memory-efficient"].append(run(efficient))
    s, e = statistics.median(times["standard"]), statistics.median(times["memory-efficient"])
    return {"standard_s": s, "efficient_s": e, "overhead": e / s - 1, "repeats": repeats, "batch_size": batch_size}


def measure_inference(config, batch_size: int, seed: int = 0) -> int:
    """Peak bytes of a no_grad eval forward of a freshly built model (weights included), from
    the CPU allocator's events."""
    from torch.profiler import ProfilerActivity, profile

    from ..models.densenet import DenseNet

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            model = DenseNet(config).eval()
            x = torch.randn(batch_size, 3, config.input_size, config.input_size)
            with torch.no_grad():
                out = model(x)
            del out
    live = peak = 0
    for event in sorted((e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"),
                        key=lambda e: e.start_ns()):
        live += event.nbytes()
        peak = max(peak, live)
    return peak - x.nbytes  # the caller's batch is not the model's


# --- questions the UI asks -------------------------------------------------------------------

def footprint_of(config, batch_size: int, optimizer: str = "sgd", precision: str = "fp32") -> Footprint:
    from ..models.registry import profile

    return training_footprint(profile(config, batch_size=batch_size), optimizer, precision)


def largest_batch(config, memory_bytes: int, optimizer: str = "sgd", precision: str = "fp32",
                  limit: int = 4096) -> int:
    """The largest batch (up to ``limit``) whose training step fits in ``memory_bytes``; 0 if
    not even batch 1 (or 2, where batch 1 cannot train) fits. The footprint grows with the batch,
    so a binary search over the profile (milliseconds each) finds it."""
    def fits(b: int) -> bool:
        f = footprint_of(config, b, optimizer, precision)
        return f.can_train and f.training_bytes <= memory_bytes

    # Memory grows with the batch, so fits() is monotone from batch 2 on (batch 1 may be unable to
    # train at all): search the largest b with fits(max(b, 2)), then check batch 1 on its own.
    if fits(limit):
        return limit
    low, high = 1, limit  # the answer lies in [low - 1, high - 1]
    while low < high:
        mid = (low + high) // 2
        if fits(max(mid, 2)):
            low = mid + 1
        else:
            high = mid
    best = low - 1  # never 1: fits(2) decides mid=1 and mid=2 alike
    if best == 0:
        return 1 if fits(1) else 0
    return best


# --- what the Train page's memory view says, in the language of ``_`` (Markdown) ----------------------

PARTS_NOTE = N_(
    "Weights: float32 parameters and BatchNorm running statistics. Gradients: one float32 per parameter. "
    "Optimizer state: SGD none, momentum one buffer, Adam/AdamW two moments, per parameter. Activations: "
    "what autograd saves for backward (the profile's number; under mixed precision 2 bytes per value). "
    "Backward buffers: gradients in flight at the backward peak. Checkpoint RNG: the 5,056-byte CPU RNG "
    "state that memory-efficient mode keeps per dense layer. The peak is the largest of end of forward, "
    "the backward walk and the optimizer step: parts do not all live at once. Inference: weights plus the "
    "largest set of tensors alive at once under no_grad. Predictions are checked in the tests against "
    "the CPU allocator (torch.profiler memory events, within 5 %) and torch.cuda.max_memory_allocated "
    "(within 10 %).")
DEPTH_NOTE = N_("One dense block of 2 to 16 layers at 16 px, batch 2, both implementations: predicted (lines) "
                "and measured with the CPU allocator (markers). Pleiss et al. (2017): the standard "
                "implementation stores O(L²) feature maps, the memory-efficient one O(L), for about 15-20 % "
                "more training time.")
MOMENTS = {"forward": N_("end of forward"), "backward": N_("backward"), "optimizer step": N_("optimizer step")}


def model_line(config, session_model: bool, _=ENGLISH) -> str:
    """Which model the view answers for (the session's, or the default), and its shape."""
    return _("For {which}: {variant}, L={depth}, k={k}, {size} px{efficient}.").format(
        which=_("the session model") if session_model else _("the default model"), variant=config.variant,
        depth=config.depth, k=config.growth_rate, size=config.input_size,
        efficient=_(", memory-efficient") if config.memory_efficient else "")


def step_answer(f: Footprint, batch: int, memory_gb: float, _=ENGLISH) -> tuple[bool, str]:
    """Whether a training step at ``batch`` can run at all, and the Markdown line that says so in the
    language of ``_``: why not, or its peak against ``memory_gb`` GB (in bold) and inference beside it."""
    if not f.can_train:
        return False, _("Cannot train at batch {batch}: {reason}.").format(batch=batch, reason=render(f.reason, _))
    from ..units import format_bytes

    verdict = (_("A training step at batch {batch} needs {bytes} at its peak ({moment}): it fits in {gb} GB.")
               if f.training_bytes <= int(memory_gb * 1e9) else
               _("A training step at batch {batch} needs {bytes} at its peak ({moment}): it does not fit "
                 "in {gb} GB."))
    moment = _(MOMENTS[f.peak_at]) if f.peak_at in MOMENTS else f.peak_at
    inference = _("Inference at batch {batch}: {bytes}.").format(batch=batch, bytes=format_bytes(f.inference_bytes))
    return True, "**" + verdict.format(batch=batch, bytes=format_bytes(f.training_bytes), moment=moment,
                                       gb=f"{memory_gb:g}") + "** " + inference


def largest_batch_answer(best: int, memory_gb: float, _=ENGLISH) -> str:
    """The largest batch that ``largest_batch`` found for ``memory_gb`` GB (its search stops at 4,096)."""
    return (_("Largest batch whose training step fits in {gb} GB: **{batch}**").format(gb=f"{memory_gb:g}",
                                                                                       batch=f"{best:,}")
            + (_(" (the search stops at 4,096)") if best == 4096 else ""))


def overhead_answer(o: dict, _=ENGLISH) -> str:
    """``efficient_overhead``'s result beside the published 15-20 %."""
    return _("Memory-efficient forward + backward: {efficient} s against {standard} s (median of "
             "{repeats} interleaved runs, batch {batch}): **{overhead} %**, beside the published "
             "15-20 %.").format(efficient=f"{o['efficient_s']:.3f}", standard=f"{o['standard_s']:.3f}",
                                repeats=o["repeats"], batch=o["batch_size"], overhead=f"{100 * o['overhead']:+.1f}")
