"""Design-space sweep: totals over a grid of two hyperparameters, and the Pareto front.

The full profile records a row per layer (about 3 ms for DenseNet-121), too slow for a 40 x 40
grid. ``densenet_totals`` computes only the five totals, from the same plan arithmetic as
``densenet.profile_densenet`` but without building rows, specs or a config object; the tests
check that it equals ``explorer.profile`` exactly (and refuses exactly the same configs) on many
random points. Architectures without a fast path fall back to ``explorer.profile``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Callable

import numpy as np

from ..i18n import ENGLISH, N_, Message
from ..errors import ConfigError, ExplorerError
from ..models.densenet import LIMITS, DenseNetConfig, transition_channels, validate_fields
from ..models.googlenet import GoogLeNetConfig, profile_googlenet
from ..models.limits import BATCH_SIZE, DENSENET_OFFERED
from ..models.registry import ARCHITECTURES, all_presets, architecture_of, profile
from ..models.specs import FLOAT_BYTES, INDEX_BYTES, conv_output_size

METRICS = ("params", "macs", "flops", "param_bytes", "activation_bytes")
MAX_POINTS = 10_000  # a 100 x 100 grid
OFFERED_STEPS = (2, 60)  # steps per axis a page offers (``axis_values`` takes up to 100)


# --- fast DenseNet totals ------------------------------------------------------------------------

def densenet_totals(d: dict, batch_size: int = 1) -> dict:
    """Totals of ``profile(DenseNetConfig(**d), batch_size=batch_size)`` without the rows.

    MACs are per image (as in the profile); activation bytes are for the whole batch.
    ``d`` holds every DenseNetConfig field (``DenseNetConfig.to_dict()`` shape). Raises
    ConfigError for the configs DenseNetConfig refuses. Byte terms follow profile_densenet's
    "what autograd keeps" rules, written out per op in the same order.
    """
    validate_fields(d)  # the config's own range checks; the plan's are below, while counting
    B, F = batch_size, FLOAT_BYTES
    k, c0, size = d["growth_rate"], d["num_init_features"], d["input_size"]
    eff, bottleneck, dropout = d["memory_efficient"], d["bottleneck"], d["drop_rate"] > 0
    width = d["bn_size"] * k
    params = macs = 0
    saved = B * 3 * size * size * F  # the input image, kept by conv0
    if d["stem"] == "imagenet":
        h = conv_output_size(size, 7, 2, 3)
        params += 3 * c0 * 49 + 2 * c0
        macs += 3 * c0 * 49 * h * h
        saved += 2 * B * c0 * h * h * F + 2 * c0 * F  # conv0 out (norm0 keeps), norm0 out + stats
        h2 = conv_output_size(h, 3, 2, 1)
        saved += B * c0 * h2 * h2 * INDEX_BYTES + (B * c0 * h2 * h2 * F if eff else 0)  # pool0
        h = h2
    else:
        h = size
        params += 27 * c0
        macs += 27 * c0 * h * h
        saved += B * c0 * h * h * F if eff else 0
    if h < 1:
        raise ConfigError("input_size", N_("{size} px is too small for the stem"), size=size)

    channels = c0
    blocks = d["block_config"]
    for b, n in enumerate(blocks):
        hw = h * h
        # Sums over the layers of the block: layer j (0-based) sees channels + j*k inputs.
        cin_sum = n * channels + k * n * (n - 1) // 2
        params += 2 * cin_sum
        if not eff:
            saved += 2 * B * cin_sum * hw * F + 2 * cin_sum * F  # concat and norm1 out, norm1 stats
        kept_new = (n - 1) if eff else 0  # layers whose new maps a later checkpoint keeps
        if bottleneck:
            params += cin_sum * width + n * (2 * width + 9 * width * k)
            macs += (cin_sum * width + n * 9 * width * k) * hw
            saved += n * (2 * B * width * hw * F + 2 * width * F)  # conv1 out, norm2 out + stats
        else:
            params += 9 * k * cin_sum
            macs += 9 * k * cin_sum * hw
        new_maps = B * k * hw * F
        if dropout:
            saved += n * new_maps + kept_new * new_maps  # noise tensors; kept dropout outputs
        else:
            saved += kept_new * new_maps
        channels += n * k
        saved += B * channels * hw * F  # the block's concatenation
        if b < len(blocks) - 1:
            out = transition_channels(channels, d["compression"])
            if out < 1:
                raise ConfigError("compression", N_("theta={theta} leaves no channels after block {block} "
                                                     "({channels} channels); raise theta"),
                                  theta=d["compression"], block=b + 1, channels=channels)
            params += 2 * channels + channels * out
            macs += channels * out * hw
            saved += B * channels * hw * F + 2 * channels * F + B * out * hw * F  # norm, conv out
            h //= 2
            if h < 1:
                raise ConfigError("input_size", N_("{size} px shrinks to nothing after transition {n}"), size=size, n=b + 1)
            if eff:
                saved += B * out * h * h * F
            channels = out
    nc = d["num_classes"]
    params += 2 * channels + channels * nc + nc
    macs += channels * nc
    saved += 2 * channels * F + B * channels * h * h * F + B * channels * F  # norm5 stats, relu5, avgpool
    return {"params": params, "macs": macs, "flops": 2 * macs, "param_bytes": params * F,
            "activation_bytes": saved}


# --- what can be swept ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    name: str
    label: str
    integer: bool
    low: float  # allowed range
    high: float
    apply: Callable[[dict, float], None] | None = None  # edits a config dict; None: set the field


def _set_all_blocks(d: dict, value) -> None:
    d["block_config"] = [int(value)] * len(d["block_config"])


def _scale_blocks(d: dict, value) -> None:
    d["block_config"] = [max(1, min(LIMITS["block_layers"][1], round(n * value))) for n in d["block_config"]]


DENSENET_PARAMS = {
    "growth_rate": Param("growth_rate", N_("growth rate k"), True, *LIMITS["growth_rate"]),
    "compression": Param("compression", N_("compression θ"), False, *DENSENET_OFFERED["compression"]),
    "depth_multiplier": Param("depth_multiplier", N_("depth multiplier (every block's layers × m)"), False, 0.1, 4.0,
                              _scale_blocks),
    "layers_per_block": Param("layers_per_block", N_("layers per block (all blocks)"), True,
                              *LIMITS["block_layers"], _set_all_blocks),
    "bn_size": Param("bn_size", N_("bottleneck width bn_size"), True, *LIMITS["bn_size"]),
    "num_init_features": Param("num_init_features", N_("stem features k0"), True, 8, 256),
    "input_size": Param("input_size", N_("input size (px)"), True, 32, 512),
}


# People's words for the config fields swept by name (labels are translated where they are drawn).
_FIELD_LABELS = {"width_multiplier": N_("width multiplier"),
                 "branch3_kernel": N_("kernel of the \"5×5\" branch (px)"),
                 "input_size": N_("input size (px)"), "num_classes": N_("number of classes")}


def sweep_params(config) -> dict[str, Param]:
    """Hyperparameters that can be swept for this config's architecture: DenseNet's named ones,
    otherwise every numeric (int or float, not bool) field of the config dataclass."""
    if isinstance(config, DenseNetConfig):
        return dict(DENSENET_PARAMS)
    result = {}
    for f in fields(config):
        value = getattr(config, f.name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or "drop" in f.name:
            continue  # dropout changes no count
        integer = isinstance(value, int)
        low, high = (1, max(4 * value, 512)) if integer else (0.1 * value if value else 0.0, max(4 * value, 1.0))
        result[f.name] = Param(f.name, _FIELD_LABELS.get(f.name, f.name.replace("_", " ")), integer, low, high)
    return result


def axis_values(param: Param, low: float, high: float, steps: int) -> list:
    """``steps`` values from low to high (integers: distinct, rounded)."""
    if not 2 <= steps <= 100:
        raise ConfigError("steps", N_("must be {allowed}, got {value}"),
                          allowed=Message(N_("an integer from {low} to {high}"), low=2, high=100), value=repr(steps))
    if not param.low <= low < high <= param.high:
        raise ConfigError(param.name, N_("range must satisfy {min} <= low < high <= {max}, got {low}..{high}"),
                          min=param.low, max=param.high, low=low, high=high)
    values = np.linspace(low, high, steps)
    if param.integer:
        return sorted({int(round(v)) for v in values})
    return [round(float(v), 4) for v in values]


def apply_value(d: dict, param: Param, value) -> None:
    if param.apply is not None:
        param.apply(d, value)
    else:
        d[param.name] = int(value) if param.integer else float(value)


def config_at(base, x: Param, x_value, y: Param, y_value):
    """The config at one grid point (validated: raises ConfigError when refused)."""
    d = base.to_dict()
    apply_value(d, x, x_value)
    apply_value(d, y, y_value)
    return type(base).from_dict(d)


def _totals_function(base) -> Callable[[dict, int], dict]:
    if isinstance(base, DenseNetConfig):
        return densenet_totals
    if isinstance(base, GoogLeNetConfig):
        return lambda d, batch_size: profile_googlenet(GoogLeNetConfig.from_dict(d), batch_size, totals_only=True)
    config_type = type(base)
    return lambda d, batch_size: profile(config_type.from_dict(d), batch_size=batch_size).totals


@dataclass
class SweepResult:
    arch: str
    x: Param
    y: Param
    x_values: list
    y_values: list
    batch_size: int
    grid: dict[str, np.ndarray]  # metric -> array [len(y_values), len(x_values)], NaN where refused
    errors: dict[tuple[int, int], str]  # (iy, ix) -> why the config was refused

    @property
    def points(self) -> list[dict]:
        """Every valid point: x, y, the metrics, and its grid index."""
        result = []
        for iy, yv in enumerate(self.y_values):
            for ix, xv in enumerate(self.x_values):
                if (iy, ix) in self.errors:
                    continue
                point = {"x": xv, "y": yv, "ix": ix, "iy": iy}
                point.update({m: int(self.grid[m][iy, ix]) for m in METRICS})
                result.append(point)
        return result


def sweep(base, x: str, x_values: list, y: str, y_values: list, batch_size: int = 1) -> SweepResult:
    """Totals at every (x, y) on the grid; refused configs are NaN with their reason kept."""
    params = sweep_params(base)
    for name in (x, y):
        if name not in params:
            raise ConfigError("sweep", N_("{name} cannot be swept for {arch}; choose from {params}"), name=repr(name),
                              arch=architecture_of(base).name, params=", ".join(params))
    if x == y:
        raise ConfigError("sweep", N_("choose two different hyperparameters"))
    if len(x_values) * len(y_values) > MAX_POINTS:
        raise ConfigError("sweep", N_("at most {n} points, got {got}"), n=MAX_POINTS, got=len(x_values) * len(y_values))
    BATCH_SIZE.check("batch_size", batch_size)
    px, py = params[x], params[y]
    totals = _totals_function(base)
    base_dict = base.to_dict()
    grid = {m: np.full((len(y_values), len(x_values)), np.nan) for m in METRICS}
    errors = {}
    for iy, yv in enumerate(y_values):
        for ix, xv in enumerate(x_values):
            d = dict(base_dict)  # the apply functions assign new lists, never edit the base's
            apply_value(d, px, xv)
            apply_value(d, py, yv)
            try:
                result = totals(d, batch_size)
            except ExplorerError as error:
                errors[(iy, ix)] = str(error)
                continue
            for m in METRICS:
                grid[m][iy, ix] = result[m]
    return SweepResult(architecture_of(base).name, px, py, list(x_values), list(y_values), batch_size, grid, errors)


def pareto_front(xs, ys) -> list[bool]:
    """True for the points no other point beats in both coordinates (both minimised).

    Sorted by (x, y), a point is on the front when its y is below every y before it (those all
    have x' <= x); exact duplicates of a front point are on the front too.
    """
    order = sorted(range(len(xs)), key=lambda i: (xs[i], ys[i]))
    mask = [False] * len(xs)
    best_y, last = math.inf, None
    for i in order:
        if ys[i] < best_y:
            best_y, last = ys[i], (xs[i], ys[i])
            mask[i] = True
        elif (xs[i], ys[i]) == last:
            mask[i] = True
    return mask


def preset_points(arch: str, batch_size: int = 1, stem: str | None = None) -> list[dict]:
    """Presets of an architecture with their totals, for reference on the scatter."""
    result = []
    for name, (a, config) in all_presets().items():
        if a.name != arch or (stem is not None and getattr(config, "stem", stem) != stem):
            continue
        result.append({"name": name, **profile(config, batch_size=batch_size).totals})
    return result


# --- what the Compare page offers ---------------------------------------------------------------------

def preset_names(arch: str) -> list[str]:
    return [name for name, (a, _) in all_presets().items() if a.name == arch]


def sweepable_archs() -> list[str]:
    """Architectures with presets whose configs have numeric fields (profile-only ones excluded)."""
    result = []
    for arch in ARCHITECTURES.values():
        if arch.presets and any(sweep_params(c) for c in arch.presets.values()):
            result.append(arch.name)
    return result


def default_range(param: Param) -> tuple:
    """The range a sweep axis starts with: growth rate 8..64, anything else its whole range."""
    ends = (8, 64) if param.name == "growth_rate" else (param.low, param.high)
    return tuple(int(v) for v in ends) if param.integer else tuple(float(v) for v in ends)


def range_text(ends) -> str:
    """A range in a page's address ("12,40", "0.25,0.75"): what ``sharing.read_pair`` reads back."""
    return ",".join(repr(v) if isinstance(v, float) else str(v) for v in ends)


def ranges_from_link(query: dict[str, str], arch: str, base_name: str, x: str, y: str) -> tuple[dict, list]:
    """The axis ranges a link carries (``sweep_xr`` for ``x``, ``sweep_yr`` for ``y``, as
    ``range_text`` writes them) for a sweep of preset ``base_name`` of ``arch``: {axis: (low, high)},
    clamped to what the axis allows; and notes on what was ignored or clamped."""
    from ..sharing import read_pair

    found, notes = {}, []
    if base_name not in preset_names(arch) or not any(k in query for k in ("sweep_xr", "sweep_yr")):
        return found, notes
    params = sweep_params(all_presets()[base_name][1])
    for key, axis in (("sweep_xr", x), ("sweep_yr", y)):
        p = params.get(axis)
        if key in query and p is not None:
            ends, more = read_pair(query, key, p.low, p.high, p.integer)
            notes += more
            if ends is not None:
                found[p.name] = ends
    return found, notes


def front_caption(points: list[dict], x: Param, y: Param, _=ENGLISH) -> str:
    """What the Pareto front of a sweep's scatter (params vs MACs of its ``points``, over axes
    ``x`` and ``y``) shows, or why there is none: one config cheapest on both counts ("" for no
    point at all)."""
    from ..units import format_count, format_macs

    front = pareto_front([p["params"] for p in points], [p["macs"] for p in points])
    best = {(p["params"], p["macs"]): p for p, keep in zip(points, front) if keep}
    if len(best) >= 2:
        return _("{n} configs are on the Pareto front (red line): for each, no other config has both fewer "
                 "parameters and fewer MACs. These are the trade-offs worth choosing between.").format(n=len(best))
    if not best:
        return ""
    p = next(iter(best.values()))
    return _("No Pareto front here: one config, {x} = {xv} and {y} = {yv}, has both the fewest parameters ({params}) "
             "and the fewest MACs ({macs}) of the whole grid (red diamond), so it beats every other point on both "
             "counts and there is no trade-off between the two to draw. Both counts grow together over these "
             "ranges; sweep a hyperparameter that trades one for the other, or weigh a third goal such as "
             "accuracy.").format(x=_(x.label), xv=p["x"], y=_(y.label), yv=p["y"],
                                 params=format_count(p["params"]), macs=format_macs(p["macs"]))


def sweep_choice(arch, base, x, y) -> tuple[str, str, str, str]:
    """A sweep's architecture, preset and two axes: those asked for where they are offered, else
    the first offered (DenseNet, DenseNet-121, growth rate against compression where they are)."""
    archs = sweepable_archs()
    arch = arch if arch in archs else "densenet" if "densenet" in archs else archs[0]
    presets = preset_names(arch)
    base = base if base in presets else "densenet121" if "densenet121" in presets else presets[0]
    params = list(sweep_params(all_presets()[base][1]))
    x = x if x in params else "growth_rate" if "growth_rate" in params else params[0]
    y = y if y in params else next(n for n in ["compression", "input_size", *params] if n in params and n != x)
    return arch, base, x, y


def grid_axes(params: dict[str, Param], x: str, y: str, ranges: dict, steps: int) -> tuple:
    """A sweep's two axes (``Param``s) and their values: ``steps`` over each axis's range
    (``ranges``: {name: (low, high)}); refused for the same hyperparameter on both."""
    if x == y:
        raise ConfigError("sweep", N_("choose two different hyperparameters for x and y"))
    px, py = params[x], params[y]
    return px, py, axis_values(px, *ranges[px.name], steps), axis_values(py, *ranges[py.name], steps)


def slider_range(param: Param) -> tuple:
    """The bounds and step of a slider choosing a range of ``param``: whole numbers or hundredths."""
    return (int(param.low), int(param.high), 1) if param.integer else (float(param.low), float(param.high), 0.01)
