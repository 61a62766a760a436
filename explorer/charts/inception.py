"""Figures for the Inception page: pure functions, config or profile in, figure (plotly, or the module's
diagram as data and SVG) out."""

from __future__ import annotations

import html
import math
import unicodedata
from dataclasses import dataclass

import plotly.graph_objects as go

from . import style
from ..errors import ExplorerError
from ..i18n import ENGLISH, N_
from .densenet import params_macs_bars
from ..models.inception import ConvBN, InceptionModuleConfig, ModulePlan, inception_module_plan, module_report
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


def branch_title(name: str, _=ENGLISH) -> str:
    """A branch's name as people write it: '5x5' -> '5×5', 'pool' in the reader's language."""
    return _("pool") if name == "pool" else name.replace("x", "×")


# Diagram geometry, in rows (y, downwards negative) and columns (x: one per branch). Every arrow runs
# straight down inside its own column, from a box that spans all columns (input) or from the box
# above, so no arrow can cross another column's box.
_BOX_HALF_W, _BOX_HALF_H = 0.44, 0.3
_HEADER_GAP = 0.45  # from a branch's first box centre up to its name
_ROW = 1.0
DIAGRAM_FONT = 16  # px; the text keeps its size where it fits, the columns stretch
ROW_PX = 92  # px per row
_TEXT_PAD = 4  # px between a text and its box's border, on either side


def text_em(text: str) -> float:
    """A line's width in em, estimated per character, to fit it into a box before a browser has
    drawn it: CJK and full-width characters are 1 em in every font; a space 0.25 em; any other
    character 0.55 em (the app's Source Sans, measured in Chromium: digits 0.50, '×' 0.50,
    lower case 0.47 on average, capitals 0.57, '→' 0.62). '1×1 畳み込み' is 5.90 em (drawn: 5.69)."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.25 if c == " " else 0.55 for c in text)


@dataclass(frozen=True)
class DiagramBox:
    x0: float
    x1: float
    y: float  # centre
    lines: tuple[str, ...]
    colour: str


@dataclass(frozen=True)
class DiagramArrow:
    x: float
    y_from: float
    y_to: float  # the head


@dataclass(frozen=True)
class DiagramLabel:
    x: float
    y: float
    text: str
    bold: bool = False
    beside: bool = False  # written to the right of x (a count beside its arrow), else centred above y


@dataclass(frozen=True)
class ModuleDiagram:
    """A module drawn as boxes, arrows and labels, in rows and columns (``module_svg`` draws it)."""

    title: str
    columns: int
    top: float
    bottom: float
    boxes: tuple[DiagramBox, ...]
    arrows: tuple[DiagramArrow, ...]
    labels: tuple[DiagramLabel, ...]


def module_diagram(config: InceptionModuleConfig, _=ENGLISH) -> ModuleDiagram:
    """The module as boxes and arrows, laid out from its plan: input, four branches, concatenation."""
    plan: ModulePlan = inception_module_plan(config)
    depth = max(len(b.steps) for b in plan.branches)
    n = len(plan.branches)
    first_row = -1.7  # centre of every branch's first box
    bottom = first_row - _ROW * depth  # centre of the concatenation box
    boxes: list[DiagramBox] = []
    arrows: list[DiagramArrow] = []
    labels: list[DiagramLabel] = []

    def box(x0: float, x1: float, y: float, text: str, colour: str) -> None:
        # the translated texts mark their line breaks as plotly did: '<br>'
        boxes.append(DiagramBox(x0, x1, y, tuple(text.split("<br>")), colour))

    wide = (-_BOX_HALF_W, n - 1 + _BOX_HALF_W)
    box(*wide, 0, _("input: {c} ch, {h}×{w}").format(c=config.in_channels, h=config.input_size, w=config.input_size),
        style.GREY)
    for i, (branch, colour) in enumerate(zip(plan.branches, BRANCH_COLOURS)):
        header_y = first_row + _HEADER_GAP
        labels.append(DiagramLabel(i, header_y, branch_title(branch.name, _), bold=True))
        arrows.append(DiagramArrow(i, -_BOX_HALF_H, header_y + 0.32))
        channels = config.in_channels
        y = first_row
        for j, step in enumerate(branch.steps):
            y = first_row - _ROW * j
            box(i - _BOX_HALF_W, i + _BOX_HALF_W, y, step_label(step, channels, _), colour)
            if j:
                arrows.append(DiagramArrow(i, y + _ROW - _BOX_HALF_H, y + _BOX_HALF_H))
            channels = step.out_channels if isinstance(step, ConvBN) else channels
        # into the concatenation, its channel count written beside the arrow (not on it)
        arrows.append(DiagramArrow(i, y - _BOX_HALF_H, bottom + _BOX_HALF_H))
        labels.append(DiagramLabel(i + 0.04, bottom + _BOX_HALF_H + 0.2, f"{channels}", beside=True))
    parts = " + ".join(str(b.out_channels(config.in_channels)) for b in plan.branches)
    box(*wide, bottom, _("concatenate<br>{parts} = {c} ch").format(parts=parts, c=plan.out_channels), style.TEXT_COLOUR)
    return ModuleDiagram(_("The module, drawn from its config"), n, 0.45, bottom - 0.45, tuple(boxes), tuple(arrows),
                         tuple(labels))


def module_svg(diagram: ModuleDiagram, scale: float = 1.0) -> str:
    """The diagram as inline SVG: x in percent of the width (the columns stretch with the screen),
    y and text in pixels (the text stays legible on a phone and grows ``scale`` times on a
    projector). Drawn by the browser as plain SVG: a step redraws it in a few ms, where the same
    drawing as a plotly figure cost ~50 ms (issue #12). The text is the app's own (numbers and
    translated labels) and is escaped all the same.

    A text wider than its box at its size (Japanese '1×1 畳み込み' in a phone's 80 px column) is
    made smaller, in the browser, just enough to fit: its font size is the smaller of its own and
    its box's width (in ``cqw``, hundredths of the drawing's width: the drawing is its text's
    CSS container) over its widest line in em (``text_em``). Every box of a width takes the size of
    that width's widest text, so the four columns keep one size."""
    font, row = DIAGRAM_FONT * scale, ROW_PX * scale
    height = (diagram.top - diagram.bottom) * row
    column = 100 / diagram.columns  # percent of the width

    def x(value: float) -> str:
        return f"{(value + 0.5) * column:.3f}%"

    def y(value: float) -> float:
        return round((diagram.top - value) * row, 1)

    def fitted(size: float, room: float, em: float) -> str:
        """A style giving ``size`` px, or less where ``em`` would not fit ``room`` percent of the width."""
        return f' style="font-size:min({size:g}px, calc(({room:.2f}cqw - {2 * _TEXT_PAD}px) / {max(em, 1):.2f}))"'

    widest: dict[float, float] = {}  # box width -> its widest line, in em
    for b in diagram.boxes:
        key = round(b.x1 - b.x0, 6)
        widest[key] = max(widest.get(key, 0), *(text_em(line) for line in b.lines))
    parts = [f'<svg class="module-diagram" xmlns="http://www.w3.org/2000/svg" width="100%" height="{height:.0f}" '
             f'role="img" aria-label="{html.escape(diagram.title)}" font-size="{font:g}" fill="{style.TEXT_COLOUR}" '
             f'style="container-type:inline-size">']
    for b in diagram.boxes:
        width = (b.x1 - b.x0) * column
        parts.append(f'<rect x="{x(b.x0)}" y="{y(b.y + _BOX_HALF_H)}" width="{width:.3f}%" '
                     f'height="{2 * _BOX_HALF_H * row:.1f}" rx="4" fill="{_tint(b.colour)}" stroke="{b.colour}" '
                     f'stroke-width="2"/>')
        centre, first = x((b.x0 + b.x1) / 2), -(len(b.lines) - 1) * 0.6
        lines = "".join(f'<tspan x="{centre}" dy="{first if i == 0 else 1.2:g}em">{html.escape(line)}</tspan>'
                        for i, line in enumerate(b.lines))
        size = fitted(font, width, widest[round(b.x1 - b.x0, 6)])
        parts.append(f'<text y="{y(b.y)}" text-anchor="middle" dominant-baseline="central"{size}>{lines}</text>')
    for a in diagram.arrows:
        head = 9 * scale
        parts.append(f'<line x1="{x(a.x)}" x2="{x(a.x)}" y1="{y(a.y_from)}" y2="{y(a.y_to) - head + 1:.1f}" '
                     f'stroke="{style.GREY}" stroke-width="1.6"/>')
        # a nested svg puts the head's own pixel coordinates at a point given in percent
        parts.append(f'<svg x="{x(a.x)}" y="{y(a.y_to)}" overflow="visible"><polygon '
                     f'points="{-head / 2:g},{-head:g} {head / 2:g},{-head:g} 0,0" fill="{style.GREY}"/></svg>')
    # A name is centred over its column; a count starts beside its arrow and has the rest of the
    # column's right half (the last column's ends at the drawing's edge). Bold text is ~5 % wider.
    names = [label for label in diagram.labels if not label.beside]
    counts = [label for label in diagram.labels if label.beside]
    name_em = max((1.05 * text_em(label.text) for label in names), default=1)
    count_em = max((text_em(label.text) for label in counts), default=1)
    for label in diagram.labels:
        anchor = 'text-anchor="start" dominant-baseline="central"' if label.beside else 'text-anchor="middle"'
        weight = ' font-weight="bold"' if label.bold else ""
        if label.beside:
            size = f' font-size="{font - scale:g}"' + fitted(font - scale, (0.5 - (label.x - round(label.x))) * column,
                                                               count_em)
        else:
            size = fitted(font, column, name_em)
        parts.append(f'<text x="{x(label.x)}" y="{y(label.y)}" {anchor}{weight}{size}>{html.escape(label.text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _tint(colour: str, alpha: float = 0.14) -> str:
    """A pale fill of a '#rrggbb' colour (the border keeps the full colour)."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def branch_weight_bars(branches, _=ENGLISH) -> go.Figure:
    """Conv weights per branch with the 1x1 reductions and without them (``BranchReport`` rows)."""
    names = [branch_title(b.name, _) for b in branches]
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
                   name=branch_title(modules[0][1].branches[i].name, _) if modules else str(i),
                   marker_color=BRANCH_COLOURS[i],
                   hovertemplate=_("{x}: {n} channels").format(x="%{x}", n="%{y}") + "<extra>%{fullData.name}</extra>")
            for i in range(4)]
    return go.Figure(bars, layout=style.layout(
        title=_("How each module's output is shared among its branches"), barmode="stack", height=400,
        xaxis=dict(tickangle=-45, automargin=True), yaxis=dict(title=_("output channels"), automargin=True)))


def branch_lines(report, in_channels: int, _=ENGLISH) -> list[str]:
    """The module designer's arithmetic (``report``: a ``models.inception.module_report``), one
    Markdown line per branch (its channels and conv weights, with and without its 1×1 reduction),
    then the output."""
    lines = []
    for b in report.branches:
        name, c, w = branch_title(b.name, _), f"{b.out_channels:,}", f"{b.conv_weight_params:,}"
        if b.naive_conv_weight_params > b.conv_weight_params and b.conv_weight_params:
            lines.append(_("**{name}** branch: **{c}** channels, {w} conv weights with the 1×1 reduction vs {naive} "
                           "without ({ratio}× more)").format(
                name=name, c=c, w=w, naive=f"{b.naive_conv_weight_params:,}",
                ratio=f"{b.naive_conv_weight_params / b.conv_weight_params:.1f}"))
        elif b.naive_conv_weight_params < b.conv_weight_params:  # the pool branch's projection
            lines.append(_("**{name}** branch: **{c}** channels, {w} conv weights in its 1×1 projection; without it "
                           "the branch has no weights but passes all {c_in} input channels on").format(
                name=name, c=c, w=w, c_in=f"{in_channels:,}"))
        else:
            lines.append(_("**{name}** branch: **{c}** channels, {w} conv weights").format(name=name, c=c, w=w))
    lines.append(_("Output: {sum} = **{c}** channels; **{w}** conv weights in total.").format(
        sum=" + ".join(str(b.out_channels) for b in report.branches), c=f"{report.out_channels:,}",
        w=f"{report.conv_weight_params:,}"))
    return lines


def why_text(module: InceptionModuleConfig, _=ENGLISH) -> str:
    """The Inception page's "Why it works" (Markdown), with what factorisation saves in ``module``
    (the module designed on the page; nothing when it cannot be factorised)."""
    try:
        stacked = module_report(module.replace(factorize="stacked"))
        plain = module_report(module.replace(factorize="none"))
        asym = module_report(module.replace(factorize="asymmetric"))
        five = next(b for b in plain.branches if b.name == "5x5")  # the plan's branch name
        five_stacked = next(b for b in stacked.branches if b.name == "5x5")
        saving = _("In the module you designed, the 5×5 branch has {five} conv weights; as two 3×3 convs it has "
                   "{stacked}; with every n×n split into 1×n and n×1 the whole module has {asym} instead of "
                   "{plain}.").format(five=f"{five.conv_weight_params:,}",
                                      stacked=f"{five_stacked.conv_weight_params:,}",
                                      asym=f"{asym.conv_weight_params:,}", plain=f"{plain.conv_weight_params:,}")
    except ExplorerError:
        saving = ""
    return (
        _("**The three roles of a 1×1 convolution**") + "\n"
        + _("1. *Dimension reduction*: squeezing 192 channels to 16 before a 5×5 conv cuts its weights from "
            "5·5·192·32 = 153,600 to 1·1·192·16 + 5·5·16·32 = 15,872 (9.7× fewer), and its MACs by the same "
            "factor.") + "\n"
        + _("2. *Added non-linearity*: each 1×1 conv is followed by BN and ReLU, so the network gets deeper and "
            "more expressive at almost no cost.") + "\n"
        + _("3. *Cross-channel mixing*: a 1×1 conv is a small fully connected layer applied at every pixel; it "
            "recombines channels without looking at neighbours.") + "\n\n"
        + _("**Why branches of different kernel sizes**: the right receptive field is not known in advance: small "
            "objects need small kernels, large ones large kernels. The module runs 1×1, 3×3 and 5×5 convs and a "
            "pool in parallel, concatenates them, and lets training decide how much each scale contributes.")
        + "\n\n"
        + _("**What factorisation saves** (Inception v2/v3): a 5×5 conv sees as far as two stacked 3×3 convs but "
            "costs 25 against 2·9 = 18 weights per channel pair (28 % fewer, with one more non-linearity); an n×n "
            "conv split into 1×n then n×1 costs 2n instead of n² (33 % fewer for 3×3, 71 % for 7×7).")
        + f" {saving}\n\n"
        + _("**torchvision's quirk**: its GoogLeNet uses a 3×3 conv in the branch the paper calls 5×5; the weights "
            "were trained that way, so the `googlenet` preset keeps it (pytorch/vision#906). `googlenet-paper` "
            "uses true 5×5 convs. Both add batch normalisation, which the 2014 paper predates."))


V3_MODULES = N_("Modules as the paper (Szegedy et al. 2016) draws them, torchvision's names beside: Mixed_5b-d "
                "replace 5×5 by two 3×3 (paper Fig. 5; torchvision InceptionA); Mixed_6b-e split 7×7 into 1×7 "
                "and 7×1 (Fig. 6; InceptionC); Mixed_7b-c split 3×3 into parallel 1×3 and 3×1 (Fig. 7; "
                "InceptionE). Mixed_6a and Mixed_7a are the paper's grid-size reductions (Fig. 10), stride-2 "
                "branches beside a max pool: torchvision calls them InceptionB and InceptionD.")


def deltas_note(preset: str, matched: str, preset_size: int, _=ENGLISH) -> str:
    """What a GoogLeNet build's deltas compare against: ``preset`` at the build's input size and stem
    (``matched`` "same", see ``pages.ui.build.reference_profile``) or at its own ``preset_size``."""
    if matched == "same":
        return _("Deltas are against {preset} at the same input size, stem and batch.").format(preset=preset)
    return _("Deltas are against {preset} at its own input size ({size} px) and stem, and the same batch.").format(
        preset=preset, size=preset_size)
