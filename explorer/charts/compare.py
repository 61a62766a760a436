"""Figures for the Compare page: data in, ``go.Figure`` (or a Vega-Lite spec) out (no Streamlit here)."""

from __future__ import annotations

import json
import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..i18n import ENGLISH, N_
from ..analysis.advice import recipe_words
from ..analysis.latency import where_measured
from ..units import format_bytes, format_count, format_macs
from . import style

GIB = 2**30
_LAYOUT = dict(template="plotly_white", margin=dict(l=60, r=20, t=60, b=50), height=420)


# The bubble chart's geometry: its plot's height (fixed; the width follows the screen), the narrowest
# plot it is drawn in (``labels.WIDTHS[0]``: a 390 px phone, less the page's margins and the y
# axis, in presentation mode too), the largest bubble's area (px², ~60 px across) and the labels'
# font size (px).
PLOT_HEIGHT = 420
MAX_BUBBLE_AREA = 2800
LABEL_FONT = 12


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2 or 5 times a power of ten, and its multiples, at or above ``value``
    (> 0), in steps that leave at most ten ticks."""
    for step in (m * 10.0 ** e for e in range(math.floor(math.log10(value)) - 1, math.ceil(math.log10(value)) + 1)
                 for m in (1, 2, 5)):
        if value / step <= 10:
            return math.ceil(value / step - 1e-9) * step
    return value


def accuracy_vs_macs(rows, _=ENGLISH, font_scale: float = 1.0) -> dict:
    """ImageNet top-1 against GMACs, bubble area proportional to params (DenseNet paper, Fig. 3).
    The title names the training recipe of the accuracies shown (like with like by default).

    A Vega-Lite spec (``style.vega_lite``), like every chart on Compare's first screen: with no
    plotly chart there, a new tab no longer loads and compiles plotly's script (~0.4 s; issue #12).
    Each model's name sits where it overlaps no other name and stays inside the plot at any width
    from a phone's (``labels.place_labels``, for the labels' drawn size: ``font_scale`` is what
    presentation mode enlarges the fonts by); the axes' ranges are fixed here, so that the places
    computed are where the browser draws. A model still being measured at an input size its
    weights metadata does not describe (no MACs yet) joins the chart when measured."""
    from .labels import WIDTHS, by_width, place_labels

    known = [r for r in rows if r.top1 is not None and r.macs is not None]
    missing = [r.name for r in rows if r.top1 is None]
    recipes = {r.recipe for r in known}
    which = (_("original training recipes: like with like") if recipes <= {"original recipe"}
             else _("newest weights: training recipes differ"))
    title = _("ImageNet top-1 vs compute (bubble area = params; {which})").format(which=which)
    if missing:
        title += " — " + _("no published accuracy: {models}").format(models=", ".join(missing))
    most = max((r.params for r in known), default=1)
    radius = {r.name: math.sqrt(MAX_BUBBLE_AREA * r.params / most / math.pi) + 0.5 for r in known}  # + the stroke
    # x from zero to where the rightmost bubble fits; y with room for the largest bubble at each end
    x_max = _nice_ceiling(max([r.macs / 1e9 / (1 - (radius[r.name] + 2) / WIDTHS[0]) for r in known],
                              default=1.0))
    low, high = min((r.top1 for r in known), default=0.0), max((r.top1 for r in known), default=100.0)
    margin = max(radius.values(), default=0) + 4
    span = max(high - low, 1.0) / (1 - 2 * margin / PLOT_HEIGHT)
    y_low, y_high = math.floor(low - margin / PLOT_HEIGHT * span), math.ceil(high + margin / PLOT_HEIGHT * span)
    points = [(r.macs / 1e9 / x_max, (y_high - r.top1) / (y_high - y_low) * PLOT_HEIGHT, radius[r.name], r.name)
              for r in known]
    tiers = [place_labels(points, PLOT_HEIGHT, width, LABEL_FONT * font_scale) for width in WIDTHS]
    models = [{"model": r.name, "gmacs": r.macs / 1e9, "top1": r.top1, "params": r.params,
               "params_text": format_count(r.params), "macs_text": format_macs(r.macs),
               "recipe": recipe_words(r.recipe, _)} for r in known]
    for i, model in enumerate(models):  # the label's place for each width, in px for the drawn font
        for k, places in enumerate(tiers):
            place = places[i]  # None: no place at that width (the label is hidden; the tooltip names it)
            model.update({f"dx{k}": place.dx if place else 0, f"dy{k}": place.dy if place else 0,
                          f"align{k}": place.align if place else "center", f"shown{k}": int(place is not None)})
            line = place.leader if place and place.leader else (0, 0, 0, 0)  # a far label's line to its bubble
            model.update({f"{end}{k}": value for end, value in zip(("x1_", "y1_", "x2_", "y2_"), line)})
    tier = lambda field: {"expr": by_width([f"{field}{k}" for k in range(len(WIDTHS))])}  # noqa: E731
    x = {"field": "gmacs", "type": "quantitative", "title": _("GMACs per image"),
         "scale": {"domain": [0, x_max], "nice": False, "zero": True}}
    y = {"field": "top1", "type": "quantitative", "title": _("top-1 accuracy (%)"),
         "scale": {"domain": [y_low, y_high], "nice": False, "zero": False}}
    spec = style.vega_lite(
        title=title, height=PLOT_HEIGHT, datasets={"models": models},
        layer=[
            # area proportional to params: a zero-based linear size scale, the biggest model ~60 px across
            {"data": {"name": "models"}, "mark": {"type": "circle", "opacity": 0.6, "stroke": "#333", "strokeWidth": 1,
                                                 "color": style.BLUE},
             "encoding": {"x": x, "y": y,
                          "size": {"field": "params", "type": "quantitative", "legend": None,
                                   "scale": {"zero": True, "domain": [0, most], "nice": False,
                                             "range": [0, MAX_BUBBLE_AREA]}},
                          "tooltip": [{"field": "model", "title": _("model")},
                                      {"field": "top1", "title": "top-1 (%)", "format": ".2f"},
                                      {"field": "recipe", "title": _("recipe")},
                                      {"field": "macs_text", "title": "MACs"},
                                      {"field": "params_text", "title": _("params")}]}},
            {"data": {"name": "models"},
             "mark": {"type": "text", "fontSize": LABEL_FONT, "color": style.TEXT_COLOUR, "baseline": "middle",
                      "align": tier("align"), "dx": tier("dx"), "dy": tier("dy"), "opacity": tier("shown")},
             "encoding": {"x": x, "y": y, "text": {"field": "model"}}},
            # a far label's line to its bubble (none: a line of no length)
            {"data": {"name": "models"},
             "mark": {"type": "rule", "color": "#888888", "strokeWidth": 1, "xOffset": tier("x1_"),
                      "yOffset": tier("y1_"), "x2Offset": tier("x2_"), "y2Offset": tier("y2_")},
             "encoding": {"x": x, "y": y, "x2": {"field": "gmacs"}, "y2": {"field": "top1"}}},
        ])
    # The plot is exactly PLOT_HEIGHT tall (the axes come on top), and drawn as SVG, whose text
    # a test can measure.
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    spec["usermeta"] = {"embedOptions": {"renderer": "svg"}}
    return spec


def size_compute_bars(rows, _=ENGLISH) -> go.Figure:
    """Params and MACs side by side, one bar per model."""
    names = [style.plotly_text(r.name) for r in rows]
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_("parameters (M)"), _("MACs per image (G)")))
    fig.add_trace(go.Bar(x=names, y=[r.params / 1e6 for r in rows], name=_("params"),
                         text=[format_count(r.params) for r in rows], textposition="outside"), row=1, col=1)
    fig.add_trace(go.Bar(x=names, y=[r.macs / 1e9 for r in rows], name="MACs",
                         text=[format_macs(r.macs) for r in rows], textposition="outside"), row=1, col=2)
    fig.update_layout(title=_("Size and compute"), showlegend=False, **_LAYOUT)
    return fig


def activation_vs_batch(curves: dict[str, tuple[list[int], list[int]]], _=ENGLISH) -> go.Figure:
    """Training activation memory (GiB) against batch size, one line per model."""
    fig = go.Figure()
    for name, (batches, values) in curves.items():
        fig.add_trace(go.Scatter(x=batches, y=[v / GIB for v in values], mode="lines+markers",
                                 name=style.plotly_text(name), customdata=[format_bytes(v) for v in values],
                                 hovertemplate="%{fullData.name}<br>" + _("batch")
                                 + " %{x}: %{customdata}<extra></extra>"))
    fig.update_layout(title=_("Training activation memory vs batch size"), xaxis_title=_("batch size"),
                      yaxis_title=_("saved activations (GiB)"), **_LAYOUT)
    return fig


def latency_bars(latencies, _=ENGLISH) -> go.Figure:
    """Median forward time per model with its spread (interquartile range of the timed rounds) as
    error bars, grouped by batch size; min and max on hover."""
    fig = go.Figure()
    for batch in sorted({lat.batch_size for lat in latencies}):
        group = [lat for lat in latencies if lat.batch_size == batch]
        fig.add_trace(go.Bar(
            x=[style.plotly_text(lat.name) for lat in group], y=[lat.median_ms for lat in group],
            name=_("batch {batch}").format(batch=batch),
            error_y=dict(type="data", symmetric=False, array=[lat.q3_ms - lat.median_ms for lat in group],
                         arrayminus=[lat.median_ms - lat.q1_ms for lat in group]),
            customdata=[[lat.q1_ms, lat.q3_ms, lat.min_ms, lat.max_ms, lat.images_per_s, lat.rounds]
                        for lat in group],
            hovertemplate="%{x}<br>" + _("median {median} ms, middle half {q1}-{q3}").format(
                median="%{y:.1f}", q1="%{customdata[0]:.1f}", q3="%{customdata[1]:.1f}") + "<br>"
                + _("min {least}, max {most} over {rounds} rounds").format(
                    least="%{customdata[2]:.1f}", most="%{customdata[3]:.1f}", rounds="%{customdata[5]}")
                + "<br>%{customdata[4]:.0f} " + _("images/s") + "<extra></extra>"))
    label = ", ".join(sorted({where_measured(lat.device, lat.threads, _)
                              for lat in latencies}))
    fig.update_layout(title=_("Measured forward latency ({where})").format(where=label) if label
                      else _("Measured forward latency"),
                      barmode="group", yaxis_title=_("median ms per forward (bars: middle half of rounds)"),
                      **_LAYOUT)
    return fig


def stage_channels(models: dict[str, tuple], _=ENGLISH) -> go.Figure:
    """Output channels per stage of each model (x: position in the network, 0 = input side)."""
    fig = go.Figure()
    for name, stages in models.items():
        n = max(len(stages) - 1, 1)
        fig.add_trace(go.Scatter(
            x=[i / n for i in range(len(stages))], y=[s[1] for s in stages], mode="lines+markers",
            name=style.plotly_text(name), line_shape="hv", customdata=[[s[0], s[2]] for s in stages],
            hovertemplate="%{fullData.name}<br>%{customdata[0]}: "
                          + _("{channels} channels at {size} px").format(channels="%{y}", size="%{customdata[1]}")
                          + "<extra></extra>"))
    fig.update_layout(title=_("Output channels per stage"), xaxis_title=_("relative position in the network"),
                      yaxis_title=_("output channels"), **_LAYOUT)
    return fig


_METRIC_LABELS = {"params": N_("parameters"), "macs": N_("MACs per image"), "flops": N_("FLOPs per image"),
                  "param_bytes": N_("weights"), "activation_bytes": N_("training activations")}


def _fmt(metric: str, value: float, _=ENGLISH) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _("refused")
    if metric.endswith("bytes"):
        return format_bytes(value)
    if metric == "macs":
        return format_macs(value)
    return format_count(value)


# The colours follow log10 of the value; the bar's labels are the values themselves, with units.
_COLOUR_TITLES = {"params": N_("parameters<br>(colour: log10 of<br>the count)"),
                  "macs": N_("MACs per image<br>(colour: log10 of<br>the MACs)"),
                  "flops": N_("FLOPs per image<br>(colour: log10 of<br>the FLOPs)"),
                  "param_bytes": N_("weights<br>(colour: log10 of<br>the bytes)"),
                  "activation_bytes": N_("training activations<br>(colour: log10 of<br>the bytes)")}


def log_ticks(low: float, high: float) -> list[float]:
    """Values at 1, 2 and 5 times a power of ten between ``low`` and ``high`` (both > 0), for a
    colour bar drawn on a log10 scale but labelled with the values themselves; the ends when fewer
    than two fall inside."""
    found = [m * 10.0 ** e for e in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
             for m in (1, 2, 5) if low <= m * 10.0 ** e <= high]
    return found if len(found) >= 2 else sorted({low, high})


def sweep_heatmap(result, metric: str, _=ENGLISH) -> dict:
    """One metric over the grid, as a Vega-Lite spec; refused configs are grey (hover says why). The
    colours follow log10 of the metric (it spans decades); the legend is labelled with the values
    themselves (7.98 M, 2.83 GMACs, 1.2 GiB) and says so. Vega-Lite rather than plotly: a step of a
    sweep control redraws ~400 cells in ~20 ms where plotly's heatmap took ~80 ms (issue #12)."""
    z = result.grid[metric]
    cells, refused = [], []
    for iy, y in enumerate(result.y_values):
        for ix, x in enumerate(result.x_values):
            cell = {"x": str(x), "y": str(y), "xi": ix, "yi": iy}
            value = z[iy, ix]
            if (iy, ix) in result.errors or not (np.isfinite(value) and value > 0):
                refused.append({**cell, "value": result.errors.get((iy, ix), _fmt(metric, value, _))})
            else:
                cells.append({**cell, "log": math.log10(value), "value": _fmt(metric, value, _)})
    finite = z[np.isfinite(z) & (z > 0)]
    ticks = log_ticks(float(finite.min()), float(finite.max())) if finite.size else []
    positions = [math.log10(v) for v in ticks]
    # each tick's label, chosen by comparing with the midpoints between ticks (no float formatting)
    label = json.dumps(_fmt(metric, ticks[-1], _), ensure_ascii=False) if ticks else "''"
    for position, nxt, tick in reversed(list(zip(positions, positions[1:], ticks))):
        label = f"datum.value < {(position + nxt) / 2!r} ? {json.dumps(_fmt(metric, tick, _), ensure_ascii=False)} : {label}"
    title = _(_METRIC_LABELS.get(metric, metric))
    if metric == "activation_bytes":
        title = _("{what} at batch {batch}").format(what=title, batch=result.batch_size)
    x = {"field": "x", "type": "ordinal", "sort": {"field": "xi", "op": "min"}, "title": _(result.x.label),
         "axis": {"labelOverlap": "greedy", "labelAngle": 0}}
    y = {"field": "y", "type": "ordinal", "sort": {"field": "yi", "op": "min", "order": "descending"}, "title": _(result.y.label),
         "axis": {"labelOverlap": "greedy"}}
    tooltip = [{"field": "x", "title": _(result.x.label)}, {"field": "y", "title": _(result.y.label)},
               {"field": "value", "title": _(_METRIC_LABELS.get(metric, metric))}]
    colour = {"field": "log", "type": "quantitative", "scale": {"scheme": "viridis"},
              "legend": {"title": _(_COLOUR_TITLES.get(metric, metric)).split("<br>"), "values": positions,
                         "labelExpr": label, "gradientLength": 220}}
    return style.vega_lite(
        title=title, height=_LAYOUT["height"], datasets={"cells": cells, "refused": refused},
        layer=[{"data": {"name": "cells"}, "mark": "rect",
                "encoding": {"x": x, "y": y, "color": colour, "tooltip": tooltip}},
               {"data": {"name": "refused"}, "mark": {"type": "rect", "color": "#dddddd"},
                "encoding": {"x": x, "y": y, "tooltip": tooltip}}])


def sweep_scatter(points: list[dict], front: list[bool], presets: list[dict], x_label: str, y_label: str,
                  _=ENGLISH) -> go.Figure:
    """Params vs MACs of every grid point, the Pareto front joined, the presets as stars.

    A "front" of one point is no front: that point has both the fewest params and the fewest MACs,
    so it is marked as such, with no line. The first trace holds every point with
    ``customdata = [ix, iy]`` so a selection maps back to a grid cell.
    """
    fig = go.Figure()
    # float32 arrays: plotly sends numpy arrays as base64 (4 bytes a value instead of ~18 characters of
    # JSON), a third of the bytes of a 41 x 41 sweep; the hover shows 3-4 significant digits anyway.
    column = lambda values: np.array(values, dtype=np.float32)  # noqa: E731
    fig.add_trace(go.Scatter(
        x=column([p["params"] / 1e6 for p in points]), y=column([p["macs"] / 1e9 for p in points]), mode="markers",
        name=_("grid points"), marker=dict(size=6, color=column([p["activation_bytes"] / GIB for p in points]),
                                           colorscale="Viridis", opacity=0.7,
                                           colorbar=dict(title=dict(text=_("training<br>activations<br>(GiB)")))),
        customdata=column([[p["ix"], p["iy"], p["x"], p["y"]] for p in points]).reshape(-1, 4),
        hovertemplate=f"{x_label} %{{customdata[2]:.4~g}}, {y_label} %{{customdata[3]:.4~g}}<br>%{{x:.3g}} M "
                      + _("params") + ", %{y:.3g} GMACs<extra></extra>"))
    on_front = sorted((p for p, keep in zip(points, front) if keep), key=lambda p: p["params"])
    distinct = {(p["params"], p["macs"]) for p in on_front}
    if len(distinct) >= 2:
        fig.add_trace(go.Scatter(x=[p["params"] / 1e6 for p in on_front], y=[p["macs"] / 1e9 for p in on_front],
                                 mode="lines+markers", name=_("Pareto front"), line=dict(color="crimson"),
                                 marker=dict(size=8, color="crimson"), hoverinfo="skip"))
    elif on_front:
        fig.add_trace(go.Scatter(x=[on_front[0]["params"] / 1e6], y=[on_front[0]["macs"] / 1e9], mode="markers",
                                 name=_("fewest params and fewest MACs (no trade-off)"),
                                 marker=dict(size=12, color="crimson", symbol="diamond"), hoverinfo="skip"))
    if presets:
        fig.add_trace(go.Scatter(x=[p["params"] / 1e6 for p in presets], y=[p["macs"] / 1e9 for p in presets],
                                 mode="markers+text", name=_("presets"), text=[p["name"] for p in presets],
                                 textposition="top center", marker=dict(symbol="star", size=13, color="black"),
                                 hovertemplate="%{text}<extra></extra>"))
    fig.update_layout(title=_("Params vs MACs of every point (click one to open it in its Build page)"),
                      xaxis_title=_("parameters (M)"), yaxis_title=_("GMACs per image"), **_LAYOUT)
    fig.update_layout(legend=dict(orientation="h", y=-0.25), margin=dict(b=100))  # clear of the colour bar
    return fig


def sweep_figure(result, view: str, base, _=ENGLISH):
    """One chart of a sweep (``analysis.sweep.sweep``'s result, of preset config ``base``): a
    heatmap of the metric ``view``, or ("scatter") params vs MACs with the Pareto front and the
    architecture's presets (those with ``base``'s stem)."""
    from ..analysis.sweep import pareto_front, preset_points

    if view != "scatter":
        return sweep_heatmap(result, view, _=_)
    points = result.points
    front = pareto_front([p["params"] for p in points], [p["macs"] for p in points])
    presets = preset_points(result.arch, 1, getattr(base, "stem", None))
    return sweep_scatter(points, front, presets, _(result.x.label), _(result.y.label), _=_)


def selected_cell(selection: dict | None) -> tuple[int, int] | None:
    """The grid cell (ix, iy) of the first grid point among a plotly selection's points (the
    scatter's first trace, ``customdata`` ``[ix, iy, ...]``); None when none is selected."""
    chosen = [p for p in (selection or {}).get("points", []) if p.get("curve_number", 0) == 0 and p.get("customdata")]
    return (int(chosen[0]["customdata"][0]), int(chosen[0]["customdata"][1])) if chosen else None
