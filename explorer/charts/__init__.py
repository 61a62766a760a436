"""Plotly figures built by pure functions: data in, ``go.Figure`` out."""
