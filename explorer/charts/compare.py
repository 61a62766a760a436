"""Plotly figures for the Compare page: data in, ``go.Figure`` out (no Streamlit here)."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..units import format_bytes, format_count, format_macs

GIB = 2**30
_LAYOUT = dict(template="plotly_white", margin=dict(l=60, r=20, t=60, b=50), height=420)


def accuracy_vs_macs(rows) -> go.Figure:
    """ImageNet top-1 against GMACs, bubble area proportional to params (DenseNet paper, Fig. 3).
    The title names the training recipe of the accuracies shown (like with like by default)."""
    known = [r for r in rows if r.top1 is not None]
    fig = go.Figure()
    if known:
        biggest = max(r.params for r in known)
        fig.add_trace(go.Scatter(
            x=[r.macs / 1e9 for r in known], y=[r.top1 for r in known], mode="markers+text",
            text=[r.name for r in known], textposition="top center",
            marker=dict(size=[r.params for r in known], sizemode="area", sizeref=2 * biggest / 60**2, sizemin=4,
                        opacity=0.6, line=dict(width=1)),
            customdata=[[format_count(r.params), format_macs(r.macs), r.recipe or ""] for r in known],
            hovertemplate="%{text}<br>top-1 %{y:.2f} % (%{customdata[2]})<br>%{customdata[1]}<br>"
                          "%{customdata[0]} params<extra></extra>"))
    missing = [r.name for r in rows if r.top1 is None]
    recipes = {r.recipe for r in known}
    which = ("original training recipes: like with like" if recipes == {"original recipe"}
             else "newest weights: training recipes differ")
    title = f"ImageNet top-1 vs compute (bubble area = params; {which})"
    if missing:
        title += f"<br><sup>no published accuracy: {', '.join(missing)}</sup>"
    fig.update_layout(title=title, xaxis_title="GMACs per image", yaxis_title="top-1 accuracy (%)", **_LAYOUT)
    return fig


def size_compute_bars(rows) -> go.Figure:
    """Params and MACs side by side, one bar per model."""
    names = [r.name for r in rows]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("parameters (M)", "MACs per image (G)"))
    fig.add_trace(go.Bar(x=names, y=[r.params / 1e6 for r in rows], name="params",
                         text=[format_count(r.params) for r in rows], textposition="outside"), row=1, col=1)
    fig.add_trace(go.Bar(x=names, y=[r.macs / 1e9 for r in rows], name="MACs",
                         text=[format_macs(r.macs) for r in rows], textposition="outside"), row=1, col=2)
    fig.update_layout(title="Size and compute", showlegend=False, **_LAYOUT)
    return fig


def activation_vs_batch(curves: dict[str, tuple[list[int], list[int]]]) -> go.Figure:
    """Training activation memory (GiB) against batch size, one line per model."""
    fig = go.Figure()
    for name, (batches, values) in curves.items():
        fig.add_trace(go.Scatter(x=batches, y=[v / GIB for v in values], mode="lines+markers", name=name,
                                 customdata=[format_bytes(v) for v in values],
                                 hovertemplate=f"{name}<br>batch %{{x}}: %{{customdata}}<extra></extra>"))
    fig.update_layout(title="Training activation memory vs batch size", xaxis_title="batch size",
                      yaxis_title="saved activations (GiB)", **_LAYOUT)
    return fig


def latency_bars(latencies) -> go.Figure:
    """Median forward time per model with its spread (interquartile range of the timed rounds) as
    error bars, grouped by batch size; min and max on hover."""
    fig = go.Figure()
    for batch in sorted({lat.batch_size for lat in latencies}):
        group = [lat for lat in latencies if lat.batch_size == batch]
        fig.add_trace(go.Bar(
            x=[lat.name for lat in group], y=[lat.median_ms for lat in group], name=f"batch {batch}",
            error_y=dict(type="data", symmetric=False, array=[lat.q3_ms - lat.median_ms for lat in group],
                         arrayminus=[lat.median_ms - lat.q1_ms for lat in group]),
            customdata=[[lat.q1_ms, lat.q3_ms, lat.min_ms, lat.max_ms, lat.images_per_s, lat.rounds]
                        for lat in group],
            hovertemplate="%{x}<br>median %{y:.1f} ms, middle half %{customdata[0]:.1f}-%{customdata[1]:.1f}"
                          "<br>min %{customdata[2]:.1f}, max %{customdata[3]:.1f} over %{customdata[5]} rounds"
                          "<br>%{customdata[4]:.0f} images/s<extra></extra>"))
    label = ", ".join(sorted({lat.label for lat in latencies}))
    fig.update_layout(title=f"Measured forward latency ({label})" if label else "Measured forward latency",
                      barmode="group", yaxis_title="median ms per forward (bars: middle half of rounds)",
                      **_LAYOUT)
    return fig


def stage_channels(models: dict[str, tuple]) -> go.Figure:
    """Output channels per stage of each model (x: position in the network, 0 = input side)."""
    fig = go.Figure()
    for name, stages in models.items():
        n = max(len(stages) - 1, 1)
        fig.add_trace(go.Scatter(
            x=[i / n for i in range(len(stages))], y=[s[1] for s in stages], mode="lines+markers", name=name,
            line_shape="hv", customdata=[[s[0], s[2]] for s in stages],
            hovertemplate=f"{name}<br>%{{customdata[0]}}: %{{y}} channels at %{{customdata[1]}} px<extra></extra>"))
    fig.update_layout(title="Output channels per stage", xaxis_title="relative position in the network",
                      yaxis_title="output channels", **_LAYOUT)
    return fig


_METRIC_LABELS = {"params": "parameters", "macs": "MACs per image", "flops": "FLOPs per image",
                  "param_bytes": "weights", "activation_bytes": "training activations"}


def _fmt(metric: str, value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "refused"
    if metric.endswith("bytes"):
        return format_bytes(value)
    if metric == "macs":
        return format_macs(value)
    return format_count(value)


def sweep_heatmap(result, metric: str) -> go.Figure:
    """One metric over the grid; refused configs are blank (hover says why)."""
    z = result.grid[metric]
    text = [[_fmt(metric, z[iy, ix]) if (iy, ix) not in result.errors else result.errors[(iy, ix)]
             for ix in range(z.shape[1])] for iy in range(z.shape[0])]
    fig = go.Figure(go.Heatmap(
        x=[str(v) for v in result.x_values], y=[str(v) for v in result.y_values], z=np.log10(z),
        text=text, colorscale="Viridis", colorbar=dict(title="log10"),
        hovertemplate=f"{result.x.label} %{{x}}<br>{result.y.label} %{{y}}<br>%{{text}}<extra></extra>"))
    batch = f" at batch {result.batch_size}" if metric == "activation_bytes" else ""
    fig.update_layout(title=f"{_METRIC_LABELS.get(metric, metric)}{batch}", xaxis_title=result.x.label,
                      yaxis_title=result.y.label, **_LAYOUT)
    return fig


def sweep_scatter(points: list[dict], front: list[bool], presets: list[dict], x_label: str, y_label: str) -> go.Figure:
    """Params vs MACs of every grid point, the Pareto front joined, the presets as stars.

    The first trace holds every point with ``customdata = [ix, iy]`` so a selection maps back
    to a grid cell.
    """
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=[p["params"] / 1e6 for p in points], y=[p["macs"] / 1e9 for p in points], mode="markers",
        name="grid points", marker=dict(size=6, color=[p["activation_bytes"] / GIB for p in points],
                                        colorscale="Viridis", colorbar=dict(title="activations GiB"), opacity=0.7),
        customdata=[[p["ix"], p["iy"], p["x"], p["y"]] for p in points],
        hovertemplate=f"{x_label} %{{customdata[2]}}, {y_label} %{{customdata[3]}}<br>%{{x:.3g}} M params, "
                      "%{y:.3g} GMACs<extra></extra>"))
    on_front = sorted((p for p, keep in zip(points, front) if keep), key=lambda p: p["params"])
    fig.add_trace(go.Scatter(x=[p["params"] / 1e6 for p in on_front], y=[p["macs"] / 1e9 for p in on_front],
                             mode="lines+markers", name="Pareto front", line=dict(color="crimson"),
                             marker=dict(size=8, color="crimson"), hoverinfo="skip"))
    if presets:
        fig.add_trace(go.Scatter(x=[p["params"] / 1e6 for p in presets], y=[p["macs"] / 1e9 for p in presets],
                                 mode="markers+text", name="presets", text=[p["name"] for p in presets],
                                 textposition="top center", marker=dict(symbol="star", size=13, color="black"),
                                 hovertemplate="%{text}<extra></extra>"))
    fig.update_layout(title="Params vs MACs of every point (click one to open it in its Build page)",
                      xaxis_title="parameters (M)", yaxis_title="GMACs per image", **_LAYOUT)
    fig.update_layout(legend=dict(orientation="h", y=-0.25), margin=dict(b=100))  # clear of the colour bar
    return fig
