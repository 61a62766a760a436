"""Plotly figures for the DenseNet page: pure functions, profile in, figure out."""

from __future__ import annotations

import plotly.graph_objects as go

from ..models.profile import Profile
from ..units import format_bytes
from . import style

MiB = 2**20


def channel_growth(profile: Profile, growth_rate: int) -> go.Figure:
    """Channels entering each dense layer, in network order; transitions show as drops.

    Layer l of a block receives k0 + k(l-1) channels, where k0 is what entered the block.
    """
    xs, ys, text = [], [], []
    for row in profile.layers:
        if row.kind == "concat" and ".denselayer" in row.name:
            block, layer = row.name.split(".")[1:3]
            xs.append(len(xs) + 1)
            ys.append(row.in_channels)
            text.append(f"{block} {layer}")
    fig = go.Figure(go.Scatter(x=xs, y=ys, mode="lines+markers", text=text, marker=dict(size=4),
                               hovertemplate="%{text}<br>%{y} channels in<extra></extra>", name="channels in"))
    position = 0
    for block in profile.blocks:
        if block.kind == "denseblock":
            position += block.layers
            fig.add_vline(x=position + 0.5, line=dict(color="#bbb", dash="dot"))
            fig.add_annotation(x=position + 0.5, y=block.out_channels, text=f"{block.out_channels}",
                               showarrow=False, yshift=10, font=dict(size=11, color="#555"))
    fig.update_layout(title=f"Channels entering each dense layer: k0 + k(l-1), k = {growth_rate}",
                      xaxis_title="dense layer (network order; dotted lines = transitions)",
                      yaxis_title="input channels", height=360, margin=dict(t=50, l=10, r=10, b=10))
    return fig


def params_macs_bars(profile: Profile, title: str, macs_unit: tuple[float, str] = (1e9, "GMACs"),
                     **layout) -> go.Figure:
    """Params (top panel) and MACs (bottom panel) of each block row of a profile (any architecture).
    Two panels rather than two overlaid axes, so each axis has round ticks of its own."""
    scale, unit = macs_unit
    names = [b.name for b in profile.blocks]
    return go.Figure(
        [go.Bar(x=names, y=[b.params / 1e6 for b in profile.blocks], name="params (M)", marker_color=style.BLUE,
                hovertemplate="%{x}: %{y:.3f} M params<extra></extra>", yaxis="y"),
         go.Bar(x=names, y=[b.macs / scale for b in profile.blocks], name=unit, marker_color=style.ORANGE,
                hovertemplate=f"%{{x}}: %{{y:.3f}} {unit}<extra></extra>", yaxis="y2")],
        layout=style.layout(title=title, height=460, showlegend=False,
                            xaxis=dict(anchor="y2", tickangle=-45, automargin=True),
                            yaxis=dict(title="params (millions)", domain=[0.55, 1], automargin=True),
                            yaxis2=dict(title=unit, domain=[0, 0.45], automargin=True), **layout))


def per_block_bars(profile: Profile) -> go.Figure:
    return params_macs_bars(profile, "Parameters and MACs per block")


KIND_WORDS = {"concat": "concatenations", "bn": "batch norms", "relu": "ReLUs", "conv": "convolutions",
              "maxpool": "max pools", "avgpool": "average pools", "linear": "linear", "dropout": "dropout",
              "input": "input image"}
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


def activation_memory(profile: Profile) -> go.Figure:
    """Training activation memory kept for backward, one stacked bar per block, coloured by layer kind."""
    per_block = memory_by_block(profile)
    names = [name for name, _ in per_block]
    kinds = [k for k in KIND_WORDS if any(k in kinds for _, kinds in per_block)]
    totals = [sum(kinds.values()) for _, kinds in per_block]
    bars = [go.Bar(x=names, y=[kinds.get(kind, 0) / MiB for _, kinds in per_block], name=KIND_WORDS[kind],
                   marker_color=KIND_COLOURS[kind],
                   hovertemplate=f"%{{x}}: %{{y:,.2f}} MiB in {KIND_WORDS[kind]}<extra></extra>") for kind in kinds]
    bars.append(go.Scatter(x=names, y=[t / MiB for t in totals], mode="text", showlegend=False,
                           text=[format_bytes(t) for t in totals], textposition="top center", hoverinfo="skip",
                           textfont=dict(size=style.FONT_SIZE - 2), cliponaxis=False))
    return go.Figure(bars, layout=style.layout(
        title=f"Training activation memory per block, batch {profile.batch_size} "
              f"(total {format_bytes(profile.activation_bytes)})",
        barmode="stack", height=460, xaxis=dict(tickangle=-45, automargin=True, range=[-0.7, len(names) - 0.3]),
        yaxis=dict(title="MiB kept for backward", automargin=True, range=[0, max(totals, default=1) / MiB * 1.15])))


def block_layer_memory(profile: Profile, block: str) -> go.Figure:
    """The detail of one block: memory per layer inside it, stacked by kind (dense layer 1, 2, ...)."""
    groups: dict[str, dict[str, int]] = {}
    for row in profile.layers:
        if row.block == block and row.activation_bytes:
            parts = row.name.split(".")
            layer = next((p for p in parts if p.startswith("denselayer")), parts[-1])
            label = {"cat": "block output"}.get(layer, layer.replace("denselayer", "layer "))
            kinds = groups.setdefault(label, {})
            kinds[row.kind] = kinds.get(row.kind, 0) + row.activation_bytes
    names = list(groups)
    kinds = [k for k in KIND_WORDS if any(k in g for g in groups.values())]
    bars = [go.Bar(x=names, y=[groups[n].get(kind, 0) / MiB for n in names], name=KIND_WORDS[kind],
                   marker_color=KIND_COLOURS[kind],
                   hovertemplate=f"%{{x}}: %{{y:,.2f}} MiB in {KIND_WORDS[kind]}<extra></extra>") for kind in kinds]
    return go.Figure(bars, layout=style.layout(
        title=f"Inside {block}: memory per layer, batch {profile.batch_size}", barmode="stack", height=400,
        xaxis=dict(title="layer (in order)", automargin=True),
        yaxis=dict(title="MiB kept for backward", automargin=True)))
