"""Plotly figures and labels for the Explain page: pure functions, predictions in, figure out."""

from __future__ import annotations

import re

import plotly.graph_objects as go

from . import style
from .tables import KIND_NAMES


def predictions_figure(predictions: list[tuple[int, str, float]], highlight: int | None = None,
                       title: str = "Top-5 predictions") -> go.Figure:
    """Horizontal bars of (index, label, probability), best on top; ``highlight`` (a class index,
    e.g. the explained class) is drawn in a second colour."""
    labels = [f"{label} ({index})" for index, label, _ in predictions][::-1]
    probs = [p for _, _, p in predictions][::-1]
    colours = [style.RED if index == highlight else style.BLUE for index, _, _ in predictions][::-1]
    return go.Figure(
        go.Bar(x=probs, y=labels, orientation="h", marker_color=colours,
               text=[f"{100 * p:.1f} %" for p in probs], textposition="auto",
               hovertemplate="%{y}<br>p = %{x:.4f}<extra></extra>"),
        layout=style.layout(title=title, xaxis=dict(title="probability", range=[0, 1], tickformat=".0%"),
                            yaxis=dict(automargin=True), height=100 + 40 * max(1, len(predictions))))


# Inception v3's modules by torchvision name (Mixed_5b ...), in the paper's words (see tables.py).
_V3_KINDS = {"5": "inception-A", "6a": "inception-B", "6": "inception-C", "7a": "inception-D", "7": "inception-E"}


def layer_note(layer: str) -> str:
    """One sentence on what a Grad-CAM layer is, by its name in the model."""
    if layer == "bn2":
        return ("bn2: EfficientNet-Lite0's last batch norm (with its ReLU6), after the 1×1 head conv to 1280 "
                "channels: the final 7×7 feature map before global pooling.")
    if layer == "features.relu5":
        return ("features.relu5: DenseNet's final batch norm and ReLU after the last dense block: the feature "
                "map the classifier pools.")
    if m := re.fullmatch(r"blocks\.(\d)", layer):
        return (f"{layer}: stage {int(m[1]) + 1} of 7 of EfficientNet's inverted-residual (MBConv) blocks; "
                "later stages see coarser, more class-specific features.")
    if m := re.fullmatch(r"features\.denseblock(\d)", layer):
        return f"{layer}: the output of dense block {m[1]} (every layer's maps concatenated), before its transition."
    if m := re.fullmatch(r"features\.transition(\d)", layer):
        return f"{layer}: transition {m[1]} (1×1 conv and 2×2 average pool) after dense block {m[1]}."
    if m := re.fullmatch(r"inception(\d[a-e])", layer):
        return f"{layer}: GoogLeNet's Inception module {m[1]} (paper Table 1); later modules see coarser grids."
    if m := re.fullmatch(r"Mixed_(\d)([a-e])", layer):
        kind = _V3_KINDS.get(m[1] + m[2]) or _V3_KINDS[m[1]]
        return f"{layer}: Inception v3's {KIND_NAMES[kind]}."
    if m := re.fullmatch(r"layer(\d)", layer):
        return f"{layer}: residual stage {m[1]} of 4 (its last block's output); later stages see coarser grids."
    return f"{layer}: the output of this module of the model."
