"""Plotly figures for the Inception page: pure functions, config or profile in, figure out."""

from __future__ import annotations

import math

import plotly.graph_objects as go

from . import style
from ..i18n import ENGLISH
from .densenet import params_macs_bars
from ..models.inception import ConvBN, InceptionModuleConfig, ModulePlan, inception_module_plan
from ..models.profile import Profile

BRANCH_COLOURS = (style.BLUE, style.ORANGE, style.GREEN, style.PURPLE)


def _kernel(spec) -> str:
    k = spec.kernel_size
    return f"{k}×{k}" if isinstance(k, int) else f"{k[0]}×{k[1]}"


def step_label(step, in_channels: int, _=ENGLISH) -> str:
    """'1×1 conv<br>192 → 16' or '3×3 max<br>pool': two short lines, so four columns fit a phone."""
    if isinstance(step, ConvBN):
        conv = step.conv
        return _("{kernel} conv<br>{c_in} → {c_out}").format(kernel=_kernel(conv), c_in=conv.in_channels,
                                                              c_out=conv.out_channels)
    kernel = f"{step.kernel_size}×{step.kernel_size}"
    return _("{kernel} max<br>pool").format(kernel=kernel) if step.mode == "max" else \
        _("{kernel} avg<br>pool").format(kernel=kernel)


def branch_title(name: str) -> str:
    """A branch's name as people write it: '5x5' -> '5×5'."""
    return name.replace("x", "×")


# Diagram geometry, in data units: one column per branch, one row per step. Every arrow runs
# straight down inside its own column, from a box that spans all columns (input) or from the box
# above, so no arrow can cross another column's box.
_BOX_HALF_W, _BOX_HALF_H = 0.44, 0.3
_HEADER_GAP = 0.45  # from a branch's first box centre up to its name
_ROW = 1.0
DIAGRAM_FONT = 16


def module_diagram(config: InceptionModuleConfig, _=ENGLISH) -> go.Figure:
    """The module as boxes and arrows, laid out from its plan: input, four branches, concatenation."""
    plan: ModulePlan = inception_module_plan(config)
    depth = max(len(b.steps) for b in plan.branches)
    n = len(plan.branches)
    first_row = -1.7  # centre of every branch's first box
    bottom = first_row - _ROW * depth  # centre of the concatenation box
    # Shapes and annotations are collected and handed to the figure in one call: adding them one by
    # one re-validates the growing list each time.
    shapes: list[dict] = []
    annotations: list[dict] = []

    def box(x0: float, x1: float, y: float, text: str, colour: str) -> None:
        shapes.append(dict(type="rect", x0=x0, x1=x1, y0=y - _BOX_HALF_H, y1=y + _BOX_HALF_H, layer="below",
                           line=dict(color=colour, width=2), fillcolor=_tint(colour)))
        annotations.append(dict(x=(x0 + x1) / 2, y=y, text=text, showarrow=False,
                                font=dict(size=DIAGRAM_FONT, color=style.TEXT_COLOUR)))

    def arrow(x: float, y_from: float, y_to: float) -> None:
        annotations.append(dict(x=x, y=y_to, ax=x, ay=y_from, xref="x", yref="y", axref="x", ayref="y", text="",
                                showarrow=True, arrowhead=2, arrowsize=1.2, arrowwidth=1.6, arrowcolor=style.GREY))

    wide = (-_BOX_HALF_W, n - 1 + _BOX_HALF_W)
    box(*wide, 0, _("input: {c} ch, {h}×{w}").format(c=config.in_channels, h=config.input_size, w=config.input_size),
        style.GREY)
    for i, (branch, colour) in enumerate(zip(plan.branches, BRANCH_COLOURS)):
        header_y = first_row + _HEADER_GAP
        annotations.append(dict(x=i, y=header_y, text=f"<b>{branch_title(branch.name)}</b>", showarrow=False,
                                yanchor="bottom", font=dict(size=DIAGRAM_FONT, color=style.TEXT_COLOUR)))
        arrow(i, -_BOX_HALF_H, header_y + 0.32)
        channels = config.in_channels
        y = first_row
        for j, step in enumerate(branch.steps):
            y = first_row - _ROW * j
            box(i - _BOX_HALF_W, i + _BOX_HALF_W, y, step_label(step, channels, _), colour)
            if j:
                arrow(i, y + _ROW - _BOX_HALF_H, y + _BOX_HALF_H)
            channels = step.out_channels if isinstance(step, ConvBN) else channels
        # into the concatenation, its channel count written beside the arrow (not on it)
        arrow(i, y - _BOX_HALF_H, bottom + _BOX_HALF_H)
        annotations.append(dict(x=i + 0.04, y=bottom + _BOX_HALF_H + 0.2, text=f"{channels}", showarrow=False,
                                xanchor="left", yanchor="middle",
                                font=dict(size=DIAGRAM_FONT - 1, color=style.TEXT_COLOUR)))
    parts = " + ".join(str(b.out_channels(config.in_channels)) for b in plan.branches)
    box(*wide, bottom, _("concatenate<br>{parts} = {c} ch").format(parts=parts, c=plan.out_channels), style.TEXT_COLOUR)
    return go.Figure(layout=style.layout(
        shapes=shapes, annotations=annotations, title=_("The module, drawn from its config"),
        xaxis=dict(visible=False, range=[-0.5, n - 0.5], fixedrange=True),
        yaxis=dict(visible=False, range=[bottom - 0.45, 0.45], fixedrange=True),
        height=80 + 95 * (depth + 2.7), showlegend=False, plot_bgcolor="white", meta=dict(diagram=True)))


def _tint(colour: str, alpha: float = 0.14) -> str:
    """A pale fill of a '#rrggbb' colour (the border keeps the full colour)."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def branch_weight_bars(branches, _=ENGLISH) -> go.Figure:
    """Conv weights per branch with the 1x1 reductions and without them (``BranchReport`` rows)."""
    names = [branch_title(b.name) for b in branches]
    with_red = [b.conv_weight_params for b in branches]
    naive = [b.naive_conv_weight_params for b in branches]
    # a ratio only where the reduction saves weights (the pool branch without projection has none)
    ratios = [f"{n / w:.1f}×" if w and n > w else "" for w, n in zip(with_red, naive)]
    weights = _("{x}: {n} weights").format(x="%{x}", n="%{y:,}")
    return go.Figure(
        [go.Bar(x=names, y=with_red, name=_("with 1×1 reduction"), marker_color=style.BLUE,
                hovertemplate=weights + "<extra>" + _("with reduction") + "</extra>"),
         go.Bar(x=names, y=naive, name=_("without (straight from the input)"), marker_color=style.RED,
                text=ratios, textposition="outside",
                hovertemplate=weights + "<extra>" + _("without reduction") + "</extra>")],
        layout=style.layout(title=_("Conv weights per branch (no bias, no BN)"), barmode="group", height=380,
                            yaxis=dict(title=_("conv weights"), tickformat=",", automargin=True)))


def _stages(profile: Profile):
    return [b for b in profile.blocks if b.kind != "aux"]


def stage_shapes(profile: Profile, _=ENGLISH) -> go.Figure:
    """Output channels (top panel) and spatial size (bottom panel, log scale) after each stage.

    Two panels, each with its own axis, instead of two overlaid axes: overlaid axes share tick
    positions, which puts ticks such as 27.9 and -1.1 px on the size axis."""
    stages = _stages(profile)
    names = [b.name for b in stages]
    sizes = [b.height for b in stages]
    return go.Figure(
        [go.Bar(x=names, y=[b.out_channels for b in stages], name=_("output channels"), marker_color=style.BLUE,
                hovertemplate=_("{x}: {n} channels").format(x="%{x}", n="%{y:,}") + "<extra></extra>", yaxis="y"),
         go.Scatter(x=names, y=sizes, name=_("height = width (px)"), yaxis="y2", mode="lines+markers",
                    line=dict(color=style.ORANGE, shape="hv"), marker=dict(size=8),
                    hovertemplate="%{x}: %{y} px<extra></extra>")],
        layout=style.layout(
            title=_("Channels grow while the feature map shrinks"), height=460, showlegend=False,
            xaxis=dict(anchor="y2", tickangle=-45, automargin=True),
            yaxis=dict(title=_("output channels"), domain=[0.52, 1], tickformat=",", automargin=True),
            yaxis2=dict(title=_("size (px)"), domain=[0, 0.44], type="log", tickmode="array",
                        tickvals=(ticks := style.readable_ticks(sizes)), ticktext=[str(t) for t in ticks],
                        range=[-0.15, math.log10(max(sizes)) + 0.15], automargin=True)))


def module_costs(profile: Profile, _=ENGLISH) -> go.Figure:
    """Params and MACs per module (and stem, pools, aux heads, head), one panel each."""
    return params_macs_bars(profile, _("Parameters and MACs per module (aux heads: training only, no inference MACs)"),
                            (1e6, "MMACs"), _=_)


def branch_channels(modules, _=ENGLISH) -> go.Figure:
    """Output channels of each branch, stacked per module (``(name, ModulePlan)`` pairs)."""
    names = [name for name, _plan in modules]
    bars = [go.Bar(x=names, y=[plan.branches[i].out_channels(plan.in_channels) for _name, plan in modules],
                   name=branch_title(modules[0][1].branches[i].name) if modules else str(i),
                   marker_color=BRANCH_COLOURS[i],
                   hovertemplate=_("{x}: {n} channels").format(x="%{x}", n="%{y}") + "<extra>%{fullData.name}</extra>")
            for i in range(4)]
    return go.Figure(bars, layout=style.layout(
        title=_("How each module's output is shared among its branches"), barmode="stack", height=400,
        xaxis=dict(tickangle=-45, automargin=True), yaxis=dict(title=_("output channels"), automargin=True)))
