"""Exercises with random numbers, seeded so that a teacher can hand out the same set by its link.

``make_exercises(count, seed, lang)`` gives the same numbers in every language: each exercise
draws its numbers from its own ``random.Random(f"{seed}:{index}:{kind}")`` before any text is
written. An exercise carries its question, the answer (a number, or the key of the right choice),
a worked solution with the same numbers and a link that opens the explorer with those settings.
Answers come from the project's engine (plans, module reports, profiles) where it has one.
"""

from __future__ import annotations

import json
import math
import random
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Callable

from ..errors import ExplorerError
from ..i18n import N_, translator


class ExerciseError(ExplorerError):
    pass


@dataclass
class Exercise:
    kind: str
    question: str
    answer: int | float | str  # a number, or the key of the right choice
    solution: list[str]  # the worked solution, one line per step, with the same numbers
    link: str  # relative URL of the page that shows the setting live
    tolerance: float = 0.0  # relative; 0 = exact
    params: dict = field(default_factory=dict)  # the drawn numbers, language-neutral
    choices: dict[str, str] = field(default_factory=dict)  # key -> label, for multiple choice

    @property
    def is_choice(self) -> bool:
        return bool(self.choices)

    def answer_text(self) -> str:
        if self.is_choice:
            return self.choices[self.answer]
        return f"{self.answer:,}" if isinstance(self.answer, int) else f"{self.answer:g}"

    def to_dict(self) -> dict:
        data = asdict(self)
        data["answer_text"] = self.answer_text()
        return data


# --- checking answers ---------------------------------------------------------------------------

_SUFFIX = {"k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9}


def parse_number(text: str) -> float | None:
    """'163,328', '163 328', '１６３３２８', '1.5M', '2.83 G' -> a number; anything else -> None."""
    text = unicodedata.normalize("NFKC", str(text or "")).strip()
    text = re.sub(r"[,_\s]", "", text)
    match = re.fullmatch(r"([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)([kKMG]?)", text)
    if not match:
        return None
    return float(match.group(1)) * _SUFFIX.get(match.group(2), 1)


def check_answer(exercise: Exercise, given) -> bool:
    """True when ``given`` (a choice key, or text typed by the learner) is right."""
    if exercise.is_choice:
        return given == exercise.answer
    value = parse_number(given)
    if value is None:
        return False
    expected = float(exercise.answer)
    return math.isclose(value, expected, rel_tol=exercise.tolerance, abs_tol=1e-9)


# --- the generators -----------------------------------------------------------------------------

def _grouped(n: int) -> str:
    return f"{n:,}"


def _densenet_link(k: int, blocks, k0: int | None = None, theta: float | None = None) -> str:
    query = f"preset=densenet121&k={k}&blocks={','.join(map(str, blocks))}"
    if k0 is not None:
        query += f"&k0={k0}"
    if theta is not None:
        query += f"&theta={theta:g}"
    return f"densenet?{query}"


def _inception_link(c: int, widths, size: int) -> str:
    return f"inception?in_channels={c}&widths={','.join(map(str, widths))}&size={size}"


def dense_channels(rng: random.Random, _) -> Exercise:
    k = rng.choice([12, 16, 24, 32, 40, 48])
    k0 = rng.choice([16, 24, 32, 2 * k, 64, 96, 128])
    n = rng.randint(2, 24)
    answer = k0 + n * k
    return Exercise(
        "dense_channels",
        _("A dense block receives k0 = {k0} channels and has {n} layers with growth rate k = {k}. How many "
          "channels does the block output?").format(k0=k0, n=n, k=k),
        answer,
        [_("Every layer adds k channels to the concatenation: k0 + n·k."),
         f"{k0} + {n} × {k} = {answer}"],
        _densenet_link(k, [n], k0), params={"k0": k0, "k": k, "n": n})


def transition_channels(rng: random.Random, _) -> Exercise:
    k = rng.choice([12, 24, 32, 48])
    k0 = rng.choice([2 * k, 64, 96])
    n = rng.randint(3, 24)
    m = k0 + n * k
    theta = rng.choice([0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9])
    size = rng.choice([56, 28, 14, 32, 16])
    answer = math.floor(Fraction(str(theta)) * m)
    return Exercise(
        "transition_channels",
        _("A dense block outputs m = {m} channels of {size}×{size}. How many channels leave the transition "
          "layer after it, with compression θ = {theta}?").format(m=m, size=size, theta=theta),
        answer,
        [_("A transition keeps floor(θ·m) channels (rounded down) and halves the size."),
         f"floor({theta} × {m}) = floor({float(Fraction(str(theta)) * m):g}) = {answer}",
         _("The size becomes {half}×{half}.").format(half=size // 2)],
        _densenet_link(k, [n, 6], k0, theta), params={"m": m, "theta": theta, "size": size, "k": k, "k0": k0, "n": n})


def bottleneck_params(rng: random.Random, _) -> Exercise:
    k = rng.choice([12, 16, 24, 32, 48])
    c = rng.choice([64, 2 * k, 96, 128]) + k * rng.randint(0, 20)
    width = 4 * k
    answer = 2 * c + c * width + 2 * width + 9 * width * k
    return Exercise(
        "bottleneck_params",
        _("A dense layer with a bottleneck (BN-ReLU-1×1 conv to 4k, BN-ReLU-3×3 conv to k, no biases) receives "
          "{c} channels, with k = {k}. How many parameters does it have, counting the BN scales and "
          "shifts?").format(c=c, k=k),
        answer,
        [_("BN on the input: 2 × {c} = {v}").format(c=c, v=2 * c),
         _("1×1 conv to 4k = {w}: {c} × {w} = {v}").format(c=c, w=width, v=_grouped(c * width)),
         _("BN on the bottleneck: 2 × {w} = {v}").format(w=width, v=2 * width),
         _("3×3 conv to k: 9 × {w} × {k} = {v}").format(w=width, k=k, v=_grouped(9 * width * k)),
         _("Total: {v}").format(v=_grouped(answer))],
        _densenet_link(k, [6, 12, 24, 16]), tolerance=0.0, params={"c": c, "k": k})


def _inception_numbers(rng: random.Random) -> tuple[int, tuple[int, ...], int]:
    c = rng.choice([64, 128, 192, 256, 320, 480, 512])
    widths = (rng.choice([32, 64, 96, 128, 160]), rng.choice([48, 64, 96, 128]), rng.choice([64, 96, 128, 192, 208]),
              rng.choice([8, 16, 24, 32]), rng.choice([16, 32, 48, 64, 96]), rng.choice([16, 32, 64]))
    size = rng.choice([7, 14, 28])
    return c, widths, size


def _module_weights(c: int, w: tuple[int, ...], reduction: bool) -> tuple[list[str], int]:
    a, r3, b, r5, d, p = w
    if reduction:
        terms = [(f"{c} × {a}", c * a), (f"{c} × {r3} + 9 × {r3} × {b}", c * r3 + 9 * r3 * b),
                 (f"{c} × {r5} + 25 × {r5} × {d}", c * r5 + 25 * r5 * d), (f"{c} × {p}", c * p)]
    else:
        terms = [(f"{c} × {a}", c * a), (f"9 × {c} × {b}", 9 * c * b), (f"25 × {c} × {d}", 25 * c * d)]
    return [f"{text} = {value:,}" for text, value in terms], sum(value for _t, value in terms)


def inception_params(rng: random.Random, _) -> Exercise:
    c, w, size = _inception_numbers(rng)
    lines, total = _module_weights(c, w, True)
    return Exercise(
        "inception_params",
        _("An Inception module receives {c} channels. Its widths are #1×1 {w[0]}, #3×3 reduce {w[1]}, #3×3 {w[2]}, "
          "#5×5 reduce {w[3]}, #5×5 {w[4]}, pool proj {w[5]}. How many conv weights does it have (no biases, "
          "no BN)?").format(c=c, w=w),
        total, lines + [_("Total: {v}").format(v=_grouped(total))], _inception_link(c, w, size), 0.0,
        {"c": c, "widths": list(w), "size": size})


def inception_naive(rng: random.Random, _) -> Exercise:
    c, w, size = _inception_numbers(rng)
    lines, total = _module_weights(c, w, False)
    return Exercise(
        "inception_naive",
        _("The same kind of module without any 1×1 reduction: {c} channels in, #1×1 {a}, #3×3 {b}, #5×5 {d}, and "
          "the pool branch passed through unchanged. How many conv weights does it have?").format(
            c=c, a=w[0], b=w[2], d=w[4]),
        total, lines + [_("The pool branch has no weights. Total: {v}").format(v=_grouped(total))],
        _inception_link(c, w, size), 0.0, {"c": c, "widths": list(w), "size": size})


def inception_macs(rng: random.Random, _) -> Exercise:
    c, w, size = _inception_numbers(rng)
    lines, total = _module_weights(c, w, True)
    macs = total * size * size
    return Exercise(
        "inception_macs",
        _("An Inception module works on {size}×{size} maps with {c} channels in and widths {widths} (#1×1, "
          "#3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj). How many MACs do its convolutions take per "
          "image? (1% tolerance)").format(size=size, c=c, widths=", ".join(map(str, w))),
        macs,
        lines + [_("Conv weights: {v}; every conv keeps the {size}×{size} size, so each weight is used "
                   "{area} times.").format(v=_grouped(total), size=size, area=size * size),
                 f"{total:,} × {size * size} = {macs:,}"],
        _inception_link(c, w, size), 0.01, {"c": c, "widths": list(w), "size": size})


def reduction_saving(rng: random.Random, _) -> Exercise:
    c = rng.choice([128, 192, 256, 480, 512, 832])
    r = rng.choice([8, 16, 24, 32, 48])
    d = rng.choice([32, 48, 64, 96, 128])
    with_r, without = c * r + 25 * r * d, 25 * c * d
    answer = without - with_r
    return Exercise(
        "reduction_saving",
        _("A 5×5 convolution maps {c} channels to {d}. How many conv weights are saved by putting a 1×1 "
          "convolution to {r} channels before it?").format(c=c, d=d, r=r),
        answer,
        [_("Without the reduction: 25 × {c} × {d} = {v}").format(c=c, d=d, v=_grouped(without)),
         _("With it: {c} × {r} + 25 × {r} × {d} = {v}").format(c=c, r=r, d=d, v=_grouped(with_r)),
         _("Saved: {a} − {b} = {v} ({ratio:.1f}× fewer)").format(a=_grouped(without), b=_grouped(with_r),
                                                                v=_grouped(answer), ratio=without / with_r)],
        _inception_link(c, (64, 96, 128, r, d, 32), 28), 0.0, {"c": c, "r": r, "d": d})


def output_size(rng: random.Random, _) -> Exercise:
    size = rng.choice([7, 14, 28, 32, 56, 64, 112, 224, 227, 299])
    kind = rng.choice(["conv", "conv", "pool"])
    kernel = rng.choice([1, 3, 5, 7, 11]) if kind == "conv" else rng.choice([2, 3])
    stride = rng.choice([1, 2, 2, 4]) if kind == "conv" else rng.choice([1, 2])
    padding = rng.choice([0, kernel // 2]) if kind == "conv" else rng.choice([0, kernel // 2])
    if size + 2 * padding < kernel:
        padding = kernel // 2
    answer = (size + 2 * padding - kernel) // stride + 1
    what = _("convolution") if kind == "conv" else _("max pooling")
    return Exercise(
        "output_size",
        _("A {k}×{k} {what} with stride {s} and padding {p} is applied to a {h}×{h} input. What is the height of "
          "its output?").format(k=kernel, what=what, s=stride, p=padding, h=size),
        answer,
        [_("Output size = floor((H + 2P − K) / S) + 1"),
         f"floor(({size} + 2 × {padding} − {kernel}) / {stride}) + 1 = {answer}"],
        "learn?topic=factorised", 0.0, {"size": size, "kernel": kernel, "stride": stride, "padding": padding,
                                        "op": kind})


def receptive_field(rng: random.Random, _) -> Exercise:
    n = rng.randint(2, 6)
    answer = 2 * n + 1
    return Exercise(
        "receptive_field",
        _("A stack of {n} 3×3 convolutions with stride 1. What is the side of the receptive field of one output "
          "value on the input?").format(n=n),
        answer,
        [_("Each 3×3 convolution with stride 1 widens the receptive field by 2: 1 + 2n."),
         f"1 + 2 × {n} = {answer}",
         _("So the stack sees as far as one {r}×{r} convolution.").format(r=answer)],
        "learn?topic=factorised", 0.0, {"n": n})


def factorised_weights(rng: random.Random, _) -> Exercise:
    n = rng.choice([2, 3])
    c = rng.choice([32, 64, 96, 128, 192, 256])
    big = 2 * n + 1
    single, stacked = big * big * c * c, n * 9 * c * c
    answer = single - stacked
    return Exercise(
        "factorised_weights",
        _("A {big}×{big} convolution with {c} channels in and out is replaced by {n} stacked 3×3 convolutions "
          "({c} → {c}) that see the same region. How many weights are saved (no biases)?").format(big=big, c=c, n=n),
        answer,
        [_("One {big}×{big}: {big} × {big} × {c} × {c} = {v}").format(big=big, c=c, v=_grouped(single)),
         _("{n} × 3×3: {n} × 9 × {c} × {c} = {v}").format(n=n, c=c, v=_grouped(stacked)),
         _("Saved: {v}").format(v=_grouped(answer))],
        "learn?topic=factorised", 0.0, {"n": n, "c": c})


def depthwise_separable(rng: random.Random, _) -> Exercise:
    k = rng.choice([3, 3, 5, 7])
    m = rng.choice([16, 32, 64, 96, 128, 256])
    n = rng.choice([32, 64, 128, 256, 512])
    standard, separable = k * k * m * n, k * k * m + m * n
    return Exercise(
        "depthwise_separable",
        _("A standard {k}×{k} convolution maps M = {m} channels to N = {n}. How many weights does the depthwise "
          "separable convolution that replaces it have (no biases)?").format(k=k, m=m, n=n),
        separable,
        [_("Depthwise: D_K·D_K·M = {k} × {k} × {m} = {v}").format(k=k, m=m, v=_grouped(k * k * m)),
         _("Pointwise: M·N = {m} × {n} = {v}").format(m=m, n=n, v=_grouped(m * n)),
         _("Total {v}, against D_K·D_K·M·N = {s} for the standard convolution.").format(
             v=_grouped(separable), s=_grouped(standard))],
        "learn?topic=depthwise", 0.0, {"k": k, "m": m, "n": n})


def resnext_grouped(rng: random.Random, _) -> Exercise:
    groups = rng.choice([8, 16, 32, 64])
    per_group = rng.choice([2, 4, 8, 16])
    width = groups * per_group
    answer = 9 * width * per_group
    return Exercise(
        "resnext_grouped",
        _("A ResNeXt block uses a 3×3 grouped convolution with cardinality {g} and {d} channels per group "
          "({g}x{d}d: {w} channels in and out). How many weights does it have (no biases)?").format(
            g=groups, d=per_group, w=width),
        answer,
        [_("Each of the {g} groups maps {d} channels to {d}: 9 × {d} × {d} = {v}").format(
            g=groups, d=per_group, v=_grouped(9 * per_group * per_group)),
         _("{g} groups: {g} × {v} = {total} (a dense 3×3 would have {dense}).").format(
             g=groups, v=_grouped(9 * per_group * per_group), total=_grouped(answer), dense=_grouped(9 * width * width))],
        "learn?topic=resnext", 0.0, {"groups": groups, "per_group": per_group})


_NORM_AXES_TEXT = {"batch": "N, H, W", "layer": "C, H, W", "instance": "H, W", "group": "C/G, H, W"}
_NORM_NAMES = {"batch": N_("BatchNorm"), "layer": N_("LayerNorm"), "instance": N_("InstanceNorm"),
               "group": N_("GroupNorm")}


def norm_axes(rng: random.Random, _) -> Exercise:
    method = rng.choice(list(_NORM_NAMES))
    return Exercise(
        "norm_axes",
        _("For an N×C×H×W input, over which axes does {name} compute each mean and variance?").format(
            name=_(_NORM_NAMES[method])),
        method,
        [_("{name} normalises over {axes}.").format(name=_(_NORM_NAMES[m]), axes=_NORM_AXES_TEXT[m])
         for m in _NORM_NAMES],
        "learn?topic=normalisation", 0.0, {"method": method},
        choices={m: _NORM_AXES_TEXT[m] for m in _NORM_NAMES})


MODEL_CHOICES = ("densenet121", "densenet169", "densenet201", "densenet161", "googlenet", "inception_v3")


def _model_numbers(batch: int) -> dict[str, dict]:
    from ..analysis.compare import torchvision_info
    from ..models.registry import profile

    numbers = {}
    for name in MODEL_CHOICES:
        totals = profile(name, batch_size=batch).totals
        numbers[name] = {"params": totals["params"], "macs": totals["macs"],
                         "activation_bytes": totals["activation_bytes"], "top1": torchvision_info(name).top1}
    return numbers


def model_choice(rng: random.Random, _) -> Exercise:
    from ..units import format_bytes, format_count, format_macs

    measure = rng.choice(["params", "macs", "activation_bytes"])
    batch = rng.choice([8, 16, 32, 64]) if measure == "activation_bytes" else 1
    numbers = _model_numbers(batch)
    values = sorted({v[measure] for v in numbers.values()})
    # A limit halfway between two models at least 5 % apart, so that rounding it for display
    # cannot move it across a model.
    gaps = [i for i in range(len(values) - 1) if values[i + 1] > 1.05 * values[i]]
    i = rng.choice(gaps)
    limit = (values[i] + values[i + 1]) // 2
    fmt = {"params": format_count, "macs": format_macs, "activation_bytes": format_bytes}[measure]
    allowed = [name for name in MODEL_CHOICES if numbers[name][measure] <= limit]
    answer = max(allowed, key=lambda name: numbers[name]["top1"])
    what = {"params": _("at most {limit} parameters"), "macs": _("at most {limit} per image"),
            "activation_bytes": _("at most {limit} of training activation memory at batch {batch}")}[measure]
    return Exercise(
        "model_choice",
        _("You need a model with {constraint}. Which of these has the best ImageNet top-1 accuracy within "
          "that limit?").format(constraint=what.format(limit=fmt(limit), batch=batch)),
        answer,
        [f"{name}: {fmt(numbers[name][measure])}, top-1 {numbers[name]['top1']:.1f} %"
         + ("" if name in allowed else " ✗") for name in MODEL_CHOICES]
        + [_("Within the limit, {name} has the best top-1.").format(name=answer)],
        "compare", 0.0, {"measure": measure, "limit": limit, "batch": batch},
        choices={name: name for name in MODEL_CHOICES})


GENERATORS: dict[str, Callable] = {
    "dense_channels": dense_channels, "transition_channels": transition_channels,
    "bottleneck_params": bottleneck_params, "inception_params": inception_params,
    "inception_naive": inception_naive, "inception_macs": inception_macs, "reduction_saving": reduction_saving,
    "output_size": output_size, "receptive_field": receptive_field, "factorised_weights": factorised_weights,
    "depthwise_separable": depthwise_separable, "resnext_grouped": resnext_grouped, "norm_axes": norm_axes,
    "model_choice": model_choice,
}

KIND_TITLES = {
    "dense_channels": N_("Channels after n dense layers"), "transition_channels": N_("Channels after a transition"),
    "bottleneck_params": N_("Parameters of a bottleneck dense layer"),
    "inception_params": N_("Inception module weights"), "inception_naive": N_("Inception module without reductions"),
    "inception_macs": N_("Inception module MACs"), "reduction_saving": N_("Saving of a 1×1 reduction"),
    "output_size": N_("Output size of a conv or pool"), "receptive_field": N_("Receptive field of stacked 3×3 convs"),
    "factorised_weights": N_("Stacked 3×3 vs one large kernel"),
    "depthwise_separable": N_("Depthwise separable convolution"), "resnext_grouped": N_("ResNeXt grouped convolution"),
    "norm_axes": N_("Normalisation axes"), "model_choice": N_("Model choice under a constraint"),
}

MAX_COUNT = 100


def make_exercise(kind: str, seed: int, index: int = 0, lang: str = "en") -> Exercise:
    if kind not in GENERATORS:
        raise ExerciseError(N_("unknown exercise kind {kind}; expected one of {kinds}"), kind=repr(kind),
                            kinds=", ".join(GENERATORS))
    rng = random.Random(f"{seed}:{index}:{kind}")
    return GENERATORS[kind](rng, translator(lang).gettext)


def make_exercises(count: int = 12, seed: int = 0, lang: str = "en", kinds=None) -> list[Exercise]:
    """``count`` exercises cycling through ``kinds`` (all by default) in an order drawn from ``seed``."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise ExerciseError(N_("count must be an integer from 1 to {high}, got {value}"), high=MAX_COUNT, value=repr(count))
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ExerciseError(N_("seed must be a non-negative integer, got {value}"), value=repr(seed))
    kinds = list(kinds or GENERATORS)
    unknown = [k for k in kinds if k not in GENERATORS]
    if unknown:
        raise ExerciseError(N_("unknown exercise kind {kind}; expected one of {kinds}"), kind=repr(unknown[0]),
                            kinds=", ".join(GENERATORS))
    random.Random(seed).shuffle(kinds)
    return [make_exercise(kinds[i % len(kinds)], seed, i, lang) for i in range(count)]


# --- worksheets ---------------------------------------------------------------------------------

def worksheet_markdown(exercises: list[Exercise], seed: int, lang: str = "en") -> str:
    """A printable worksheet: the questions, then the answer key with worked solutions."""
    _ = translator(lang).gettext
    lines = [_("# Exercises (seed {seed})").format(seed=seed), ""]
    for i, ex in enumerate(exercises, 1):
        lines.append(f"{i}. **{_(KIND_TITLES[ex.kind])}** — {ex.question}")
        if ex.is_choice:
            lines += [f"   - ({chr(97 + j)}) {label}" for j, label in enumerate(ex.choices.values())]
        lines.append("")
    lines += ["---", "", _("## Answer key"), ""]
    for i, ex in enumerate(exercises, 1):
        lines.append(f"{i}. **{ex.answer_text()}**")
        lines += [f"   - {step}" for step in ex.solution]
    return "\n".join(lines) + "\n"


def worksheet_json(exercises: list[Exercise], seed: int, lang: str = "en") -> str:
    return json.dumps({"seed": seed, "lang": lang, "exercises": [ex.to_dict() for ex in exercises]},
                      ensure_ascii=False, indent=2)
