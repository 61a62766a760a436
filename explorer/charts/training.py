"""Plotly figures for the Train & observe page: pure functions, data in, figure out."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..units import format_bytes


def training_curves(history: list[dict], step_losses: list[tuple[float, float]]) -> go.Figure:
    """Loss per step and per epoch (left) and accuracy per epoch (right), against epochs."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss (cross-entropy)", "Accuracy"))
    if step_losses:
        xs, ys = zip(*step_losses)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="training loss (per step)", opacity=0.4,
                                 line=dict(width=1)), 1, 1)
    epochs = [h["epoch"] for h in history]
    fig.add_trace(go.Scatter(x=epochs, y=[h["val_loss"] for h in history], mode="lines+markers",
                             name="validation loss"), 1, 1)
    fig.add_trace(go.Scatter(x=epochs, y=[h["train_accuracy"] for h in history], mode="lines+markers",
                             name="training accuracy (during the epoch)"), 1, 2)
    fig.add_trace(go.Scatter(x=epochs, y=[h["val_accuracy"] for h in history], mode="lines+markers",
                             name="validation accuracy"), 1, 2)
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", row=1, col=2)
    fig.update_layout(height=330, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.25))
    return fig


def reuse_heatmap(block) -> go.Figure:
    """One dense block's reuse matrix (``explorer.analysis.reuse.ReuseBlock``), as the paper's
    Figure 5: sources across (x), targets down (y); blank where there is no connection."""
    z = [[math.nan if v is None else v for v in row] for row in block.matrix]
    fig = go.Figure(go.Heatmap(z=z, x=block.sources, y=block.targets, colorscale="Viridis", zmin=0, zmax=1,
                               hovertemplate="target %{y}<br>source %{x}<br>%{z:.3f} of the row's largest"
                                             "<extra></extra>", colorbar=dict(title="rel. |w|")))
    fig.update_yaxes(autorange="reversed", title_text="target (reads)")
    fig.update_xaxes(title_text="source (written by)")
    fig.update_layout(title=block.name, height=140 + 22 * len(block.targets), margin=dict(l=10, r=10, t=40, b=10))
    return fig


def feature_map_mosaic(tiles: np.ndarray, title: str) -> go.Figure:
    """One step's maps tiled into one image (NaN gaps drawn blank), greyscale."""
    h, w = tiles.shape
    fig = go.Figure(go.Heatmap(z=tiles, colorscale="gray", zmin=0, zmax=1, showscale=False,
                               hovertemplate="%{z:.2f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", visible=False, scaleanchor="x")
    fig.update_xaxes(visible=False)
    fig.update_layout(title=title, height=min(60 + 6 * h, 600), margin=dict(l=0, r=0, t=30, b=0))
    return fig


def depth_scaling_figure(scaling) -> go.Figure:
    """Activation memory against depth for both implementations: predicted lines, measured
    markers, and the fitted growth exponent in each legend entry (log-log axes)."""
    fig = go.Figure()
    for label, colour in (("standard", "#d62728"), ("memory-efficient", "#1f77b4")):
        fig.add_trace(go.Scatter(x=scaling.depths, y=scaling.predicted[label], mode="lines",
                                 line=dict(color=colour), name=f"{label}: predicted"))
        fig.add_trace(go.Scatter(x=scaling.depths, y=scaling.measured[label], mode="markers",
                                 marker=dict(color=colour, size=9, symbol="circle-open"),
                                 name=f"{label}: measured (growth ~ L^{scaling.exponent[label]:.2f})",
                                 text=[format_bytes(v) for v in scaling.measured[label]],
                                 hovertemplate="L=%{x}: %{text}<extra></extra>"))
    fig.update_xaxes(type="log", title_text="depth L (one dense block)")
    fig.update_yaxes(type="log", title_text="activation bytes (batch as measured)")
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=20, b=10), legend=dict(orientation="h", y=-0.3))
    return fig


def footprint_bars(footprint) -> go.Figure:
    """What the training step's total is made of (one stacked bar) beside inference."""
    parts = [("weights", footprint.weights), ("gradients", footprint.gradients),
             ("optimizer state", footprint.optimizer_state), ("activations", footprint.activations),
             ("backward buffers", footprint.backward_buffers), ("checkpoint RNG", footprint.checkpoint_rng)]
    fig = go.Figure()
    for name, value in parts:
        fig.add_trace(go.Bar(y=["parts (not all alive at once)"], x=[value], name=name, orientation="h", text=format_bytes(value),
                             hovertemplate=f"{name}: {format_bytes(value)}<extra></extra>"))
    fig.add_trace(go.Bar(y=["training step (peak)"], x=[footprint.training_bytes], orientation="h",
                         name=f"training peak ({footprint.peak_at})", text=format_bytes(footprint.training_bytes)))
    fig.add_trace(go.Bar(y=["inference"], x=[footprint.inference_bytes], orientation="h", name="inference",
                         text=format_bytes(footprint.inference_bytes)))
    fig.update_layout(barmode="stack", height=260, margin=dict(l=10, r=10, t=20, b=10),
                      legend=dict(orientation="h", y=-0.35), xaxis_title="bytes")
    return fig
