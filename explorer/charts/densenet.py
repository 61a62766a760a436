"""Figures for the DenseNet page: pure functions, profile in, figure (plotly, or a Vega-Lite spec) out."""

from __future__ import annotations

import plotly.graph_objects as go

from ..i18n import ENGLISH, N_
from ..models.profile import Profile
from ..units import format_bytes
from . import style

MiB = 2**20


def channel_growth(profile: Profile, growth_rate: int, _=ENGLISH) -> dict:
    """Channels entering each dense layer, in network order; transitions show as drops.

    Layer l of a block receives k0 + k(l-1) channels, where k0 is what entered the block. A
    Vega-Lite spec (not plotly): its data sit in named datasets and the rest of the spec is the same
    for every config, so a slider step only swaps the data, which the browser redraws in place
    (~15 ms a step, where the plotly figure took ~65 ms; issue #12).
    """
    layers = []
    for row in profile.layers:
        if row.kind == "concat" and ".denselayer" in row.name:
            block, layer = row.name.split(".")[1:3]
            layers.append({"layer": len(layers) + 1, "channels": row.in_channels, "name": f"{block} {layer}"})
    transitions = []  # after each dense block (the last one feeds the head): its output channels
    position = 0
    for block in profile.blocks:
        if block.kind == "denseblock":
            position += block.layers
            transitions.append({"x": position + 0.5, "channels": block.out_channels})
    # two lines: an axis title does not wrap, and one line is cut on a phone
    x = {"field": "layer", "type": "quantitative", "axis": {"tickMinStep": 1},
         "title": [_("dense layer (network order)"), _("dotted lines = transitions")]}
    y = {"field": "channels", "type": "quantitative", "title": _("input channels")}
    at = {"field": "x", "type": "quantitative"}
    return style.vega_lite(
        title=_("Channels entering each dense layer: k0 + k(l-1), k = {k}").format(k=growth_rate), height=330,
        datasets={"layers": layers, "transitions": transitions},
        layer=[
            {"data": {"name": "transitions"}, "mark": {"type": "rule", "color": "#bbb", "strokeDash": [2, 3]},
             "encoding": {"x": at}},
            {"data": {"name": "transitions"}, "mark": {"type": "text", "dy": -9, "fontSize": 11, "color": "#555"},
             "encoding": {"x": at, "y": {"field": "channels", "type": "quantitative"}, "text": {"field": "channels"}}},
            {"data": {"name": "layers"}, "mark": {"type": "line", "color": style.BLUE, "point": {"size": 18}},
             "encoding": {"x": x, "y": y, "tooltip": [{"field": "name", "title": _("layer")},
                                                      {"field": "channels", "title": _("channels in")}]}},
        ])


def params_macs_bars(profile: Profile, title: str, macs_unit: tuple[float, str] = (1e9, "GMACs"), _=ENGLISH,
                     **layout) -> go.Figure:
    """Params (top panel) and MACs (bottom panel) of each block row of a profile (any architecture).
    Two panels rather than two overlaid axes, so each axis has round ticks of its own. ``title`` is
    already in the reader's language."""
    scale, unit = macs_unit
    names = [b.name for b in profile.blocks]
    return go.Figure(
        [go.Bar(x=names, y=[b.params / 1e6 for b in profile.blocks], name=_("params (M)"), marker_color=style.BLUE,
                hovertemplate="%{x}: %{y:.3f} M " + _("params") + "<extra></extra>", yaxis="y"),
         go.Bar(x=names, y=[b.macs / scale for b in profile.blocks], name=unit, marker_color=style.ORANGE,
                hovertemplate=f"%{{x}}: %{{y:.3f}} {unit}<extra></extra>", yaxis="y2")],
        layout=style.layout(title=title, height=460, showlegend=False,
                            xaxis=dict(anchor="y2", tickangle=-45, automargin=True),
                            yaxis=dict(title=_("params (millions)"), domain=[0.55, 1], automargin=True),
                            yaxis2=dict(title=unit, domain=[0, 0.45], automargin=True), **layout))


def per_block_bars(profile: Profile, _=ENGLISH) -> go.Figure:
    return params_macs_bars(profile, _("Parameters and MACs per block"), _=_)


KIND_WORDS = {"concat": N_("concatenations"), "bn": N_("batch norms"), "relu": N_("ReLUs"),
              "conv": N_("convolutions"), "maxpool": N_("max pools"), "avgpool": N_("average pools"),
              "linear": N_("linear"), "dropout": N_("dropout"), "input": N_("input image")}
KIND_COLOURS = {"concat": style.BLUE, "bn": style.ORANGE, "relu": style.GREEN, "conv": style.PURPLE,
                "maxpool": style.RED, "avgpool": "#9D755D", "linear": "#BAB0AC", "dropout": "#72B7B2",
                "input": style.GREY}


def memory_by_block(profile: Profile) -> list[tuple[str, dict[str, int]]]:
    """Training activation bytes per block row, split by layer kind: [(block, {kind: bytes})], in
    network order. The input image counts under the stem."""
    blocks = {b.name: {} for b in profile.blocks}
    first = profile.blocks[0].name if profile.blocks else ""
    for row in profile.layers:
        if row.activation_bytes:
            kinds = blocks.setdefault(row.block or first, {})
            kinds[row.kind] = kinds.get(row.kind, 0) + row.activation_bytes
    return [(name, kinds) for name, kinds in blocks.items() if kinds]


def activation_memory(profile: Profile, _=ENGLISH) -> go.Figure:
    """Training activation memory kept for backward, one stacked bar per block, coloured by layer kind."""
    per_block = memory_by_block(profile)
    names = [name for name, _kinds in per_block]
    kinds = [k for k in KIND_WORDS if any(k in block_kinds for _name, block_kinds in per_block)]
    totals = [sum(block_kinds.values()) for _name, block_kinds in per_block]
    bars = [_kind_bar(names, [block_kinds.get(kind, 0) / MiB for _name, block_kinds in per_block], kind, _)
            for kind in kinds]
    bars.append(go.Scatter(x=names, y=[t / MiB for t in totals], mode="text", showlegend=False,
                           text=[format_bytes(t) for t in totals], textposition="top center", hoverinfo="skip",
                           textfont=dict(size=style.FONT_SIZE - 2), cliponaxis=False))
    return go.Figure(bars, layout=style.layout(
        title=_("Training activation memory per block, batch {batch} (total {total})").format(
            batch=profile.batch_size, total=format_bytes(profile.activation_bytes)),
        barmode="stack", height=460, xaxis=dict(tickangle=-45, automargin=True, range=[-0.7, len(names) - 0.3]),
        yaxis=dict(title=_("MiB kept for backward"), automargin=True, range=[0, max(totals, default=1) / MiB * 1.15])))


def _kind_bar(names: list[str], mib: list[float], kind: str, _) -> go.Bar:
    word = _(KIND_WORDS[kind])
    return go.Bar(x=names, y=mib, name=word, marker_color=KIND_COLOURS[kind],
                  hovertemplate=_("{x}: {mib} MiB in {kind}").format(x="%{x}", mib="%{y:,.2f}", kind=word)
                  + "<extra></extra>")


def block_layer_memory(profile: Profile, block: str, _=ENGLISH) -> go.Figure:
    """The detail of one block: memory per layer inside it, stacked by kind (dense layer 1, 2, ...)."""
    groups: dict[str, dict[str, int]] = {}
    for row in profile.layers:
        if row.block == block and row.activation_bytes:
            parts = row.name.split(".")
            layer = next((p for p in parts if p.startswith("denselayer")), parts[-1])
            label = _("block output") if layer == "cat" else (
                _("layer {n}").format(n=layer.removeprefix("denselayer")) if layer.startswith("denselayer") else layer)
            kinds = groups.setdefault(label, {})
            kinds[row.kind] = kinds.get(row.kind, 0) + row.activation_bytes
    names = list(groups)
    kinds = [k for k in KIND_WORDS if any(k in g for g in groups.values())]
    bars = [_kind_bar(names, [groups[n].get(kind, 0) / MiB for n in names], kind, _) for kind in kinds]
    return go.Figure(bars, layout=style.layout(
        title=_("Inside {block}: memory per layer, batch {batch}").format(block=block, batch=profile.batch_size),
        barmode="stack", height=400, xaxis=dict(title=_("layer (in order)"), automargin=True),
        yaxis=dict(title=_("MiB kept for backward"), automargin=True)))
