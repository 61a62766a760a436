"""Plotly figures for the DenseNet page: pure functions, profile in, figure out."""

from __future__ import annotations

import plotly.graph_objects as go

from ..models.profile import Profile
from ..units import format_bytes

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
    """Params and MACs of each block row of a profile, side by side on two axes (any architecture)."""
    scale, unit = macs_unit
    names = [b.name for b in profile.blocks]
    fig = go.Figure()
    fig.add_bar(x=names, y=[b.params / 1e6 for b in profile.blocks], name="params (M)", offsetgroup=0,
                hovertemplate="%{x}: %{y:.3f} M params<extra></extra>")
    fig.add_bar(x=names, y=[b.macs / scale for b in profile.blocks], name=unit, yaxis="y2", offsetgroup=1,
                hovertemplate=f"%{{x}}: %{{y:.3f}} {unit}<extra></extra>")
    fig.update_layout(title=title, barmode="group", height=360, yaxis=dict(title="params (millions)"),
                      yaxis2=dict(title=unit, overlaying="y", side="right", showgrid=False),
                      legend=dict(orientation="h", y=-0.25), margin=dict(t=50, l=10, r=10, b=10))
    fig.update_layout(**layout)
    return fig


def per_block_bars(profile: Profile) -> go.Figure:
    return params_macs_bars(profile, "Parameters and MACs per block")


def activation_memory(profile: Profile) -> go.Figure:
    """Training activation memory kept for backward, per layer, coloured by kind."""
    fig = go.Figure()
    kinds = sorted({r.kind for r in profile.layers if r.activation_bytes})
    order = {r.name: i for i, r in enumerate(profile.layers)}
    for kind in kinds:
        rows = [r for r in profile.layers if r.kind == kind and r.activation_bytes]
        fig.add_bar(x=[order[r.name] for r in rows], y=[r.activation_bytes / MiB for r in rows], name=kind,
                    text=[r.name for r in rows],
                    hovertemplate="%{text}<br>%{y:.2f} MiB<extra></extra>")
    fig.update_layout(title=f"Training activation memory per layer, batch {profile.batch_size} "
                            f"(total {format_bytes(profile.activation_bytes)})",
                      barmode="stack", bargap=0, height=360, xaxis_title="layer (network order)",
                      yaxis_title="MiB kept for backward", legend=dict(orientation="h", y=-0.3),
                      margin=dict(t=50, l=10, r=10, b=10))
    return fig
