"""Plotly figures for the Explain page: pure functions, predictions in, figure out."""

from __future__ import annotations

import plotly.graph_objects as go


def predictions_figure(predictions: list[tuple[int, str, float]], highlight: int | None = None,
                       title: str = "Top-5 predictions") -> go.Figure:
    """Horizontal bars of (index, label, probability), best on top; ``highlight`` (a class index,
    e.g. the explained class) is drawn in a second colour."""
    labels = [f"{label} ({index})" for index, label, _ in predictions][::-1]
    probs = [p for _, _, p in predictions][::-1]
    colours = ["#d62728" if index == highlight else "#1f77b4" for index, _, _ in predictions][::-1]
    fig = go.Figure(go.Bar(x=probs, y=labels, orientation="h", marker_color=colours,
                           text=[f"{100 * p:.1f} %" for p in probs], textposition="auto",
                           hovertemplate="%{y}<br>p = %{x:.4f}<extra></extra>"))
    fig.update_layout(title=title, xaxis=dict(title="probability", range=[0, 1], tickformat=".0%"),
                      height=80 + 40 * max(1, len(predictions)), margin=dict(l=10, r=10, t=40, b=40))
    return fig
