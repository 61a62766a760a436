"""Figures of the teaching material: pure functions, numbers in, plotly figure out.

``_`` is the reader's translator (identity by default), so titles and axes follow the language.
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..i18n import N_

_LAYOUT = dict(margin=dict(t=60, l=10, r=10, b=10))
_GREY = "#9AA5B1"
_PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#EECA3B", "#B279A2", "#FF9DA6",
            "#9D755D", "#BAB0AC")


def _identity(message: str) -> str:
    return message


def dense_block_figure(entering: list[int], k0: int, k: int, _=_identity) -> go.Figure:
    """The channels entering each layer of one dense block as stacked bars: the block's input (k0)
    at the bottom, then the k maps of every earlier layer, so the concatenation is seen growing."""
    layers = [_("layer {l}").format(l=l + 1) for l in range(len(entering))]
    fig = go.Figure()
    fig.add_bar(x=layers, y=[k0] * len(entering), name=_("block input (k0 = {k0})").format(k0=k0),
                marker_color=_GREY)
    many = len(entering) > len(_PALETTE)
    for source in range(len(entering) - 1):
        # Layer source+1's k maps enter every later layer: one colour per producing layer.
        heights = [k if l > source else 0 for l in range(len(entering))]
        fig.add_bar(x=layers, y=heights, name=_("from layer {l}").format(l=source + 1),
                    marker_color=_PALETTE[source % len(_PALETTE)], showlegend=not many)
    fig.add_scatter(x=layers, y=entering, mode="text", text=[str(c) for c in entering], textposition="top center",
                    showlegend=False, hoverinfo="skip")
    fig.update_layout(barmode="stack", title=_("Channels entering each layer: k0 + k(l − 1)"),
                      yaxis_title=_("channels"), legend_orientation="h", **_LAYOUT)
    return fig


def concatenation_figure(parts: list[tuple[str, int]], _=_identity) -> go.Figure:
    """One stacked bar: the branches' channels concatenated into the module's output."""
    fig = go.Figure()
    for i, (name, channels) in enumerate(parts):
        fig.add_bar(x=[_("output")], y=[channels], name=f"{name}: {channels}", marker_color=_PALETTE[i % 10],
                    text=[str(channels)], textposition="inside")
    fig.update_layout(barmode="stack", title=_("Concatenation: {total} channels").format(
        total=sum(c for _n, c in parts)), yaxis_title=_("channels"), **_LAYOUT)
    return fig


def cost_bars(labels: list[str], values: list[int], title: str, axis: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=labels, y=values, text=[f"{v:,}" for v in values], textposition="outside",
                           marker_color=[_PALETTE[0], _PALETTE[1]][: len(values)] + [_GREY] * (len(values) - 2)))
    fig.update_layout(title=title, yaxis_title=axis, **_LAYOUT)
    return fig


# --- normalisation: which entries of N x C x (H·W) share their statistics ------------------------

NORMALISATIONS = {  # key: (message, the axes its mean and variance are taken over)
    "batch": (N_("BatchNorm"), ("N", "H", "W")),
    "layer": (N_("LayerNorm"), ("C", "H", "W")),
    "instance": (N_("InstanceNorm"), ("H", "W")),
    "group": (N_("GroupNorm"), ("C/G", "H", "W")),
}


def normalisation_groups(method: str, n: int, c: int, groups: int = 2) -> list[list[int]]:
    """For an N x C tensor of feature maps, the id of the statistics set each (sample, channel)
    map belongs to: maps with the same id are normalised together (over all their H x W values)."""
    if method == "batch":
        return [[ch for ch in range(c)] for _s in range(n)]
    if method == "layer":
        return [[s] * c for s in range(n)]
    if method == "instance":
        return [[s * c + ch for ch in range(c)] for s in range(n)]
    if method == "group":
        per_group = c // groups
        return [[s * groups + ch // per_group for ch in range(c)] for s in range(n)]
    raise ValueError(f"unknown normalisation {method!r}")


def normalisation_figure(_=_identity, n: int = 4, c: int = 6, groups: int = 2) -> go.Figure:
    """The four normalisations side by side: rows are samples (N), columns channels (C), each cell
    one H×W map; cells of one colour share a mean and a variance."""
    names = [_(label) for label, _axes in NORMALISATIONS.values()]
    titles = [f"{name}<br>{', '.join(axes)}" for name, (_l, axes) in zip(names, NORMALISATIONS.values())]
    fig = make_subplots(rows=1, cols=4, subplot_titles=titles, horizontal_spacing=0.04)
    shapes = []
    for col, method in enumerate(NORMALISATIONS, start=1):
        ids = normalisation_groups(method, n, c, groups)
        colours = [[_PALETTE[i % len(_PALETTE)] for i in row] for row in ids]
        # Heatmaps need numbers: draw each map as a coloured square instead, all set at once below
        # (fig.add_shape re-validates every shape so far: 96 of them took 1.5 s, issue #24).
        axis = "" if col == 1 else str(col)
        shapes += [dict(type="rect", x0=ch, x1=ch + 0.92, y0=s, y1=s + 0.92, fillcolor=colours[s][ch],
                        line_width=0, xref=f"x{axis}", yref=f"y{axis}") for s in range(n) for ch in range(c)]
        fig.add_scatter(x=[c / 2], y=[n / 2], mode="markers", marker_opacity=0, showlegend=False,
                        hoverinfo="skip", row=1, col=col)
        fig.update_xaxes(range=[-0.1, c], title_text=_("C (channels)"), showticklabels=False, showgrid=False,
                         zeroline=False, row=1, col=col)
        fig.update_yaxes(range=[n, -0.1], showticklabels=False, showgrid=False, zeroline=False, row=1, col=col,
                         title_text=_("N (samples)") if col == 1 else None)
    fig.update_layout(title=_("Each cell is one H×W map; one colour = one set of statistics"),
                      height=330, shapes=shapes, **_LAYOUT)
    return fig


FIGURES = {"normalisation": normalisation_figure}
