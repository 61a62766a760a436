"""Plotly figures for the Train & observe page: pure functions, data in, figure out. Each takes
``_`` (the reader's language) for its titles, axes, legends and hover labels."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..i18n import ENGLISH
from ..units import format_bytes
from . import style

def training_curves(history: list[dict], step_losses: list[tuple[float, float]], _=ENGLISH) -> go.Figure:
    """Loss per step and per epoch (left) and accuracy per epoch (right), against epochs."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_("Loss (cross-entropy)"), _("Accuracy")))
    if step_losses:
        xs, ys = zip(*step_losses)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=_("training loss (per step)"), opacity=0.4,
                                 line=dict(width=1, color=style.GREY)), 1, 1)
    epochs = [h["epoch"] for h in history]
    fig.add_trace(go.Scatter(x=epochs, y=[h["val_loss"] for h in history], mode="lines+markers",
                             name=_("validation loss"), line=dict(color=style.RED)), 1, 1)
    fig.add_trace(go.Scatter(x=epochs, y=[h["train_accuracy"] for h in history], mode="lines+markers",
                             name=_("training accuracy (during the epoch)"), line=dict(color=style.ORANGE)), 1, 2)
    fig.add_trace(go.Scatter(x=epochs, y=[h["val_accuracy"] for h in history], mode="lines+markers",
                             name=_("validation accuracy"), line=dict(color=style.BLUE)), 1, 2)
    fig.update_xaxes(title_text=_("epoch"))
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", row=1, col=2)
    fig.update_layout(**style.layout(height=360, margin=dict(l=10, r=10, t=40, b=10)))
    return fig


def reuse_heatmap(block, _=ENGLISH) -> go.Figure:
    """One dense block's reuse matrix (``explorer.analysis.reuse.ReuseBlock``), as the paper's
    Figure 5: sources across (x), targets down (y); blank where there is no connection."""
    z = [[math.nan if v is None else v for v in row] for row in block.matrix]
    hover = _("target {target}<br>source {source}<br>{value} of the row's largest").format(
        target="%{y}", source="%{x}", value="%{z:.3f}")
    fig = go.Figure(go.Heatmap(z=z, x=block.sources, y=block.targets, colorscale="Viridis", zmin=0, zmax=1,
                               hovertemplate=hover + "<extra></extra>", colorbar=dict(title=_("rel. |w|"))))
    fig.update_yaxes(autorange="reversed", title_text=_("target (reads)"))
    fig.update_xaxes(title_text=_("source (written by)"))
    fig.update_layout(**style.layout(title=block.name, height=160 + 22 * len(block.targets)))
    return fig


def feature_map_mosaic(tiles: np.ndarray, title: str) -> go.Figure:
    """One step's maps tiled into one image (NaN gaps drawn blank), greyscale; ``title`` is
    already in the reader's language."""
    h, w = tiles.shape
    fig = go.Figure(go.Heatmap(z=tiles, colorscale="gray", zmin=0, zmax=1, showscale=False,
                               hovertemplate="%{z:.2f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", visible=False, scaleanchor="x")
    fig.update_xaxes(visible=False)
    fig.update_layout(**style.layout(title=title, height=min(60 + 6 * h, 600), margin=dict(l=0, r=0, t=30, b=0)))
    return fig


def depth_scaling_figure(scaling, _=ENGLISH) -> go.Figure:
    """Activation memory against depth for both implementations: predicted lines, measured
    markers, and the fitted growth exponent in each legend entry (log-log axes)."""
    fig = go.Figure()
    names = {"standard": _("standard"), "memory-efficient": _("memory-efficient")}
    for label, colour in (("standard", style.RED), ("memory-efficient", style.BLUE)):
        fig.add_trace(go.Scatter(x=scaling.depths, y=scaling.predicted[label], mode="lines",
                                 line=dict(color=colour), name=_("{name}: predicted").format(name=names[label])))
        fig.add_trace(go.Scatter(
            x=scaling.depths, y=scaling.measured[label], mode="markers",
            marker=dict(color=colour, size=9, symbol="circle-open"),
            name=_("{name}: measured (growth ~ L^{exponent})").format(
                name=names[label], exponent=f"{scaling.exponent[label]:.2f}"),
            text=[format_bytes(v) for v in scaling.measured[label]],
            hovertemplate="L=%{x}: %{text}<extra></extra>"))
    fig.update_xaxes(type="log", title_text=_("depth L (one dense block)"))
    fig.update_yaxes(type="log", title_text=_("activation bytes (batch as measured)"))
    fig.update_layout(**style.layout(height=400))
    return fig


def footprint_bars(footprint, _=ENGLISH) -> go.Figure:
    """What the training step's total is made of (one stacked bar) beside inference."""
    parts = [(_("weights"), footprint.weights), (_("gradients"), footprint.gradients),
             (_("optimizer state"), footprint.optimizer_state), (_("activations"), footprint.activations),
             (_("backward buffers"), footprint.backward_buffers), (_("checkpoint RNG"), footprint.checkpoint_rng)]
    moments = {"forward": _("end of forward"), "backward": _("backward"), "optimizer step": _("optimizer step")}
    fig = go.Figure()
    for name, value in parts:
        fig.add_trace(go.Bar(y=[_("parts (not all alive at once)")], x=[value], name=name, orientation="h",
                             text=format_bytes(value), hovertemplate=f"{name}: {format_bytes(value)}<extra></extra>"))
    peak = _("training peak ({moment})").format(moment=moments.get(footprint.peak_at, footprint.peak_at))
    fig.add_trace(go.Bar(y=[_("training step (peak)")], x=[footprint.training_bytes], orientation="h",
                         name=peak, text=format_bytes(footprint.training_bytes)))
    fig.add_trace(go.Bar(y=[_("inference")], x=[footprint.inference_bytes], orientation="h", name=_("inference"),
                         text=format_bytes(footprint.inference_bytes)))
    fig.update_layout(**style.layout(barmode="stack", height=300, xaxis_title=_("bytes")))
    return fig
