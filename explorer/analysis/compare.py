"""Compare architectures side by side: size, compute, memory and accuracy, one row per model.

Three kinds of entries share one row shape (``ComparisonRow``):

- the project's own presets (every architecture in the registry) and the user's builds use the
  analytic profile (``explorer.profile``): pure arithmetic;
- torchvision models the project does not describe itself (ResNet-50, ResNeXt-50, MobileNetV2,
  EfficientNet-B0, ...) are measured once per input size (``torchvision_costs``); until then a row
  can hold what their weights metadata publishes (``measure=False``).

Accuracy compares like with like by default: every model's original-recipe weights
(torchvision ``IMAGENET1K_V1``), with the newer recipe's figure beside it where one exists and the
paper's own figure where it differs (``reference``). Published numbers come from ``reference``; measured latency lives in ``latency`` and the
trade-off statements in ``advice``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..models.registry import ARCHITECTURES, all_presets, architecture_of, profile
from ..errors import ConfigError
from ..i18n import N_
from ..models.limits import BATCH_SIZE
from ..models.specs import FLOAT_BYTES
from .reference import FAMILY, RECIPES, TORCHVISION_MODELS, TorchvisionInfo, key_idea, torchvision_info
from .torchvision_costs import check_input_size, is_cached, measure_torchvision


# --- what is compared ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One thing to compare: a project config (preset or user build) or a measured torchvision model."""

    name: str
    kind: str  # "preset", "build" or "torchvision"
    config: object | None = None  # the project config for presets and builds

    @property
    def arch(self) -> str:
        return architecture_of(self.config).name if self.config is not None else FAMILY.get(self.name, self.name)

    @property
    def native_input_size(self) -> int:
        if self.config is not None:
            return int(self.config.input_size)
        return torchvision_info(self.name).input_size


def config_from_build(build: dict):
    """Rebuild a config from the session's ``{"arch": ..., "config": {...}}`` shape."""
    try:
        arch = ARCHITECTURES[build["arch"]]
    except (KeyError, TypeError):
        raise ConfigError("comparison_builds", N_("unknown architecture in build {build}"), build=repr(build)) from None
    return arch.config_type.from_dict(dict(build["config"]))


def available_models(builds: dict | None = None) -> list[str]:
    """Every name that can be compared: torchvision models, then project presets, then builds."""
    names = list(TORCHVISION_MODELS)
    names += [n for n in all_presets() if n not in names]
    names += [n for n in (builds or {}) if n not in names]
    return names


def resolve_entry(name: str, builds: dict | None = None) -> Entry:
    """User builds win over presets, presets (analytic) over measuring torchvision."""
    builds = builds or {}
    if name in builds:
        return Entry(name, "build", config_from_build(builds[name]))
    presets = all_presets()
    if name in presets:
        return Entry(name, "preset", presets[name][1])
    if name in TORCHVISION_MODELS:
        return Entry(name, "torchvision")
    raise ConfigError("models", N_("unknown model {name}; choose from {models}"), name=repr(name),
                      models=", ".join(available_models(builds)))


# --- the table rows ----------------------------------------------------------------------------

@dataclass
class ComparisonRow:
    name: str
    source: str  # "analytic" (the project's profile) or "measured" (torchvision, traced/run once)
    arch: str
    key_idea: str
    input_size: int
    native_input_size: int
    batch_size: int  # for activation_bytes
    params: int
    # None while a torchvision model waits for its measurement (source "published"): MACs at an input
    # size its weights metadata does not describe, and the activations always
    macs: int | None
    flops: int | None
    param_bytes: int
    activation_bytes: int | None  # training activations autograd saves at batch_size
    # ImageNet-1K accuracy of the weights the comparison uses: by default the original recipe
    # (torchvision IMAGENET1K_V1) for every model, so that the numbers compare like with like.
    top1: float | None = None
    top5: float | None = None
    weights: str | None = None  # torchvision weights tag of top1/top5
    weights_file_mb: float | None = None
    recipe: str | None = None  # people's words for those weights' training recipe
    newer_top1: float | None = None  # torchvision's newer recipe, where one exists (ResNet-50 V2)
    newer_top5: float | None = None
    newer_weights: str | None = None
    paper_top1: float | None = None  # the paper's own figure where it differs from the port
    paper_top5: float | None = None
    paper_source: str | None = None
    stages: tuple = field(default=(), repr=False)  # (name, out channels, height) per stage
    latency_ms: float | None = None  # median forward time at batch_size, when measured
    latency_q1_ms: float | None = None  # its spread: the interquartile range of the timed rounds
    latency_q3_ms: float | None = None

    @property
    def pending(self) -> bool:
        """Only torchvision's published numbers so far; the rest comes with the measurement."""
        return self.source == "published"

    def to_json(self) -> dict:
        """The CLI's JSON shape (``null`` where unknown)."""
        return {"name": self.name, "params": self.params, "macs": self.macs, "flops": self.flops,
                "param_bytes": self.param_bytes, "activation_bytes": self.activation_bytes,
                "input_size": self.input_size, "top1": self.top1, "top5": self.top5, "weights": self.weights,
                "top1_newer": self.newer_top1, "top5_newer": self.newer_top5, "weights_newer": self.newer_weights,
                "top1_paper": self.paper_top1, "paper_source": self.paper_source,
                "latency_ms": self.latency_ms, "latency_q1_ms": self.latency_q1_ms,
                "latency_q3_ms": self.latency_q3_ms}


TABLE_COLUMNS = ["name", "source", "arch", "input_size", "params", "macs", "flops", "param_bytes",
                 "activation_bytes", "batch_size", "top1", "top5", "weights", "newer_top1", "newer_top5",
                 "newer_weights", "paper_top1", "paper_top5", "weights_file_mb", "latency_ms", "latency_q1_ms",
                 "latency_q3_ms", "key_idea"]

# The columns only a measurement gives a torchvision model (a "published" row may lack them).
MEASURED = ("macs", "flops", "activation_bytes")

# Which direction is better, for marking the best value of a column.
BETTER = {"params": min, "macs": min, "flops": min, "param_bytes": min, "activation_bytes": min,
          "top1": max, "top5": max, "newer_top1": max, "newer_top5": max, "weights_file_mb": min,
          "latency_ms": min}


def _accuracy_applies(entry: Entry, info: TorchvisionInfo | None, params: int) -> bool:
    """Published accuracy belongs to a project preset only when it *is* the torchvision model."""
    return info is not None and (entry.kind == "torchvision" or (entry.kind == "preset" and params == info.num_params))


def comparison_row(entry: Entry, batch_size: int = 1, input_size: int | None = None,
                   recipe: str = "original", measure: bool = True) -> ComparisonRow:
    """One row; ``input_size=None`` means the model's native input size. ``recipe`` picks the
    accuracy compared: "original" (every model's IMAGENET1K_V1 weights, like with like) or "newest".
    ``measure=False``: a torchvision model not measured yet at this size gets what its weights
    metadata says (source "published": ``num_params``, and ``_ops`` at its native size) and None
    for the rest, at once; a page measures it in a job meanwhile."""
    if recipe not in RECIPES:
        raise ConfigError("accuracy", N_("choose {choices}, got {value}"), choices=" or ".join(RECIPES), value=repr(recipe))
    if batch_size not in BATCH_SIZE:
        raise ConfigError("batch_size", N_("must be {allowed}, got {value}"), allowed=BATCH_SIZE.describe(),
                          value=repr(batch_size))
    native = entry.native_input_size
    size = native if input_size is None else input_size
    info = torchvision_info(entry.name)
    if entry.config is not None:
        config = entry.config if size == native else entry.config.replace(input_size=size)
        result = profile(config, batch_size=batch_size)  # MACs are per image, activations per batch
        params, macs, activation = result.params, result.macs, result.activation_bytes
        stages = tuple((b.name, b.out_channels, b.height) for b in result.blocks if b.kind not in ("head",))
        source = "analytic"
    elif measure or is_cached(entry.name, size):
        measured = measure_torchvision(entry.name, size)
        params, macs, activation = measured.params, measured.macs, measured.activation_bytes(batch_size)
        stages, source = measured.stages, "measured"
    else:
        check_input_size(entry.name, size)
        # the weights' meta: num_params holds at any size (adaptive pooling), _ops (GMACs, 3
        # decimals) only at the size the weights were evaluated at
        params, activation, stages, source = info.num_params, None, (), "published"
        macs = round(info.gmacs * 1e9) if size == native else None
    row = ComparisonRow(
        entry.name, source, entry.arch, key_idea(entry.name, entry.arch if entry.config is not None else None),
        size, native, batch_size, params, macs, None if macs is None else 2 * macs, params * FLOAT_BYTES,
        activation, stages=stages)
    if _accuracy_applies(entry, info, params):
        chosen = info.accuracy(recipe)
        row.top1, row.top5, row.weights, row.weights_file_mb = chosen.top1, chosen.top5, chosen.weights, chosen.file_mb
        row.recipe = chosen.recipe
        if info.newer is not None:
            row.newer_top1, row.newer_top5, row.newer_weights = info.newer.top1, info.newer.top5, info.newer.weights
        if info.paper is not None:
            row.paper_top1, row.paper_top5, row.paper_source = info.paper.top1, info.paper.top5, info.paper.source
    return row


def comparison_rows(names: list[str], batch_size: int = 1, input_size: int | None = None,
                    builds: dict | None = None, recipe: str = "original",
                    progress: Callable[[int, int, str], None] | None = None,
                    measure: bool = True) -> list[ComparisonRow]:
    """Rows for ``names``; ``progress(done, total, name)`` is called before each row; ``measure``:
    see ``comparison_row``."""
    if not names:
        raise ConfigError("models", N_("choose at least one model to compare"))
    entries = [resolve_entry(name, builds) for name in dict.fromkeys(names)]
    rows = []
    for i, entry in enumerate(entries):
        if progress is not None:
            progress(i, len(entries), entry.name)
        rows.append(comparison_row(entry, batch_size, input_size, recipe, measure))
    if progress is not None:
        progress(len(entries), len(entries), "")
    return rows


def builds_first(rows: list[ComparisonRow], builds: dict | None) -> list[ComparisonRow]:
    """The rows of the user's ``builds`` first, the rest after, each part in its order."""
    return sorted(rows, key=lambda r: r.name not in (builds or {}))


def uncached(names: list[str], input_size: int | None = None, builds: dict | None = None) -> list[str]:
    """The torchvision models among ``names`` not measured yet at this size (slow: a page measures
    them in one job, showing their published numbers meanwhile)."""
    result = []
    for name in dict.fromkeys(names):
        entry = resolve_entry(name, builds)
        if entry.kind == "torchvision":
            size = entry.native_input_size if input_size is None else input_size
            if not is_cached(name, size):
                result.append(name)
    return result


def activation_curve(name: str, batch_sizes: list[int], input_size: int | None = None,
                     builds: dict | None = None) -> list[int]:
    """Training activation bytes at each batch size (analytic, or the measured line)."""
    entry = resolve_entry(name, builds)
    return [comparison_row(entry, b, input_size).activation_bytes for b in batch_sizes]


def best_values(rows: list[ComparisonRow]) -> dict[str, float]:
    """The best value of each comparable column (min or max, see ``BETTER``), over known values;
    none in a column a row still being measured lacks (that model may yet be the best)."""
    best = {}
    for column, pick in BETTER.items():
        if any(r.pending and getattr(r, column) is None for r in rows):
            continue
        values = [getattr(r, column) for r in rows if getattr(r, column) is not None]
        if values:
            best[column] = pick(values)
    return best


def sort_rows(rows: list[ComparisonRow], column: str) -> list[ComparisonRow]:
    """The rows best first by ``column`` (``BETTER``: fewest params, MACs, bytes, milliseconds;
    highest accuracy); rows without the value go last, in their order."""
    known = [r for r in rows if getattr(r, column) is not None]
    return (sorted(known, key=lambda r: getattr(r, column), reverse=BETTER[column] is max)
            + [r for r in rows if getattr(r, column) is None])


def table_records(rows: list[ComparisonRow]) -> list[dict]:
    return [{c: getattr(r, c) for c in TABLE_COLUMNS} for r in rows]


def rows_csv(rows: list[ComparisonRow]) -> str:
    """The table as CSV; a build's name is text a spreadsheet never runs (``sharing.csv_text``)."""
    from ..csvtext import csv_text

    return csv_text(TABLE_COLUMNS, ([("" if v is None else v) for v in record.values()]
                                    for record in table_records(rows)))


# --- builds and models in a page's address -------------------------------------------------------

def builds_from_link(query: dict[str, str], count: int) -> tuple[dict, list]:
    """The builds a link carries (``build1``..``build<count>``, each ``sharing.build_to_text``'s
    text) in the session's shape ``{name: {"arch": ..., "config": {...}}}``, and notes on what was refused."""
    from ..sharing import build_from_text

    builds, notes = {}, []
    for i in range(1, count + 1):
        if f"build{i}" in query:
            name, config, more = build_from_text(query[f"build{i}"])
            notes += more
            if config is not None:
                builds[name] = {"arch": architecture_of(config).name, "config": config.to_dict()}
    return builds, notes


def build_links(builds: dict, count: int) -> dict[str, str]:
    """The address keys carrying the first ``count`` of ``builds``: what ``builds_from_link`` reads."""
    from ..sharing import build_to_text

    return {f"build{i}": build_to_text(name, config_from_build(build))
            for i, (name, build) in enumerate(list(builds.items())[:count], start=1)}


def models_from_link(text: str, allowed: list[str]) -> tuple[list[str], list[str]]:
    """The models a link's comma-separated list names (64 at most, each once) that are among
    ``allowed`` (``available_models``), in its order; and a note naming the others."""
    wanted = [n for n in text.split(",", 64)[:64] if n]
    unknown = [n for n in wanted if n not in allowed]
    notes = [f"models: unknown {', '.join(n[:30] for n in unknown[:3])} (ignored)"] if unknown else []
    return [n for n in dict.fromkeys(wanted) if n in allowed], notes
