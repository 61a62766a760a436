"""Plotly figures for the Inception page: pure functions, config or profile in, figure out."""

from __future__ import annotations

import plotly.graph_objects as go

from .densenet import params_macs_bars
from ..models.inception import ConvBN, InceptionModuleConfig, ModulePlan, inception_module_plan
from ..models.profile import Profile

BRANCH_COLOURS = ("#4C78A8", "#F58518", "#54A24B", "#B279A2")
_LAYOUT = dict(margin=dict(t=50, l=10, r=10, b=10))


def _kernel(spec) -> str:
    k = spec.kernel_size
    return f"{k}×{k}" if isinstance(k, int) else f"{k[0]}×{k[1]}"


def step_label(step, in_channels: int) -> str:
    """'1×1 conv<br>192 → 16' or '3×3 max pool<br>192 ch'."""
    if isinstance(step, ConvBN):
        conv = step.conv
        return f"{_kernel(conv)} conv<br>{conv.in_channels} → {conv.out_channels}"
    return f"{step.kernel_size}×{step.kernel_size} {step.mode} pool<br>{in_channels} ch"


def module_diagram(config: InceptionModuleConfig) -> go.Figure:
    """The module as boxes and arrows, laid out from its plan: input, four branches, concatenation."""
    plan: ModulePlan = inception_module_plan(config)
    depth = max(len(b.steps) for b in plan.branches)
    box_w, box_h = 0.42, 0.34
    fig = go.Figure()

    def box(x: float, y: float, text: str, colour: str, width: float = box_w) -> None:
        fig.add_shape(type="rect", x0=x - width, x1=x + width, y0=y - box_h, y1=y + box_h,
                      line=dict(color=colour, width=2), fillcolor=colour, opacity=0.18, layer="below")
        fig.add_annotation(x=x, y=y, text=text, showarrow=False, font=dict(size=12))

    def arrow(x0: float, y0: float, x1: float, y1: float, text: str = "") -> None:
        fig.add_annotation(x=x1, y=y1 + box_h, ax=x0, ay=y0 - box_h, xref="x", yref="y", axref="x", ayref="y",
                           text="", showarrow=True, arrowhead=2, arrowwidth=1.2, arrowcolor="#666")
        if text:
            fig.add_annotation(x=(x0 + x1) / 2, y=(y0 + y1) / 2, text=text, showarrow=False,
                               font=dict(size=11, color="#333"), bgcolor="white")

    centre = (len(plan.branches) - 1) / 2
    bottom = -(depth + 1)
    box(centre, 0, f"input<br>{config.in_channels} ch, {config.input_size}×{config.input_size}", "#888",
        width=1.2)
    for i, (branch, colour) in enumerate(zip(plan.branches, BRANCH_COLOURS)):
        channels, y_prev, x_prev = config.in_channels, 0, centre
        for j, step in enumerate(branch.steps):
            y = -(j + 1)
            box(i, y, step_label(step, channels), colour)
            arrow(x_prev, y_prev, i, y)
            channels = step.out_channels if isinstance(step, ConvBN) else channels
            y_prev, x_prev = y, i
        arrow(i, y_prev, centre, bottom, f"{channels}")
    box(centre, bottom, f"concatenate: {' + '.join(str(b.out_channels(config.in_channels)) for b in plan.branches)}"
        f" = {plan.out_channels} ch", "#333", width=1.6)
    for i, branch in enumerate(plan.branches):
        fig.add_annotation(x=i, y=0.55, text=f"<b>{branch.name}</b>", showarrow=False,
                           font=dict(color=BRANCH_COLOURS[i]), yref="y")
    fig.update_xaxes(visible=False, range=[-0.6, len(plan.branches) - 0.4])
    fig.update_yaxes(visible=False, range=[bottom - 0.6, 0.8])
    fig.update_layout(title="The module, drawn from its config", height=150 + 110 * (depth + 2), showlegend=False,
                      plot_bgcolor="white", **_LAYOUT)
    return fig


def branch_weight_bars(branches) -> go.Figure:
    """Conv weights per branch with the 1x1 reductions and without them (``BranchReport`` rows)."""
    names = [b.name for b in branches]
    with_red = [b.conv_weight_params for b in branches]
    naive = [b.naive_conv_weight_params for b in branches]
    ratios = [f"{n / w:.1f}×" if w and n != w else "" for w, n in zip(with_red, naive)]
    fig = go.Figure()
    fig.add_bar(x=names, y=with_red, name="with 1×1 reduction", marker_color="#4C78A8",
                hovertemplate="%{x}: %{y:,} weights<extra>with reduction</extra>")
    fig.add_bar(x=names, y=naive, name="without (straight from the input)", marker_color="#E45756",
                text=ratios, textposition="outside",
                hovertemplate="%{x}: %{y:,} weights<extra>without reduction</extra>")
    fig.update_layout(title="Conv weights per branch (no bias, no BN)", barmode="group", height=360,
                      yaxis_title="conv weights", legend=dict(orientation="h", y=-0.2), **_LAYOUT)
    return fig


def _stages(profile: Profile):
    return [b for b in profile.blocks if b.kind != "aux"]


def stage_shapes(profile: Profile) -> go.Figure:
    """Output channels (bars) and spatial size (line, right axis) after each stage."""
    stages = _stages(profile)
    names = [b.name for b in stages]
    fig = go.Figure()
    fig.add_bar(x=names, y=[b.out_channels for b in stages], name="output channels", marker_color="#4C78A8",
                hovertemplate="%{x}: %{y} channels<extra></extra>")
    fig.add_scatter(x=names, y=[b.height for b in stages], name="output size (px)", yaxis="y2",
                    mode="lines+markers", line=dict(color="#F58518"),
                    hovertemplate="%{x}: %{y} px<extra></extra>")
    fig.update_layout(title="Channels grow while the feature map shrinks", height=360,
                      yaxis=dict(title="output channels"),
                      yaxis2=dict(title="height = width (px)", overlaying="y", side="right", showgrid=False),
                      legend=dict(orientation="h", y=-0.3), **_LAYOUT)
    return fig


def module_costs(profile: Profile) -> go.Figure:
    """Params and MACs per module (and stem, pools, aux heads, head) on two axes."""
    return params_macs_bars(profile, "Parameters and MACs per module (aux heads: training only, no inference MACs)",
                            (1e6, "MMACs"), height=380, legend=dict(orientation="h", y=-0.3), **_LAYOUT)


def branch_channels(modules) -> go.Figure:
    """Output channels of each branch, stacked per module (``(name, ModulePlan)`` pairs)."""
    fig = go.Figure()
    names = [name for name, _ in modules]
    for i in range(4):
        fig.add_bar(x=names, y=[plan.branches[i].out_channels(plan.in_channels) for _, plan in modules],
                    name=modules[0][1].branches[i].name if modules else str(i), marker_color=BRANCH_COLOURS[i],
                    hovertemplate="%{x}: %{y} channels<extra>%{fullData.name}</extra>")
    fig.update_layout(title="How each module's output is shared among its branches", barmode="stack", height=360,
                      yaxis_title="output channels", legend=dict(orientation="h", y=-0.3), **_LAYOUT)
    return fig
