"""Charts and labels for the Explain page: pure functions, predictions in, a Vega-Lite spec out."""

from __future__ import annotations

import re

from ..i18n import ENGLISH
from . import style
from .tables import KIND_NAMES


def predictions_figure(predictions: list[tuple[int, str, float]], highlight: int | None = None,
                       title: str | None = None, _=ENGLISH) -> dict:
    """Horizontal bars of (index, label, probability), the most probable on top; ``highlight`` (a
    class index, e.g. the explained class) is drawn in a second colour. A Vega-Lite spec (``style.vega_lite``):
    with no plotly chart on the Explain page, a new tab does not load plotly's script (issue #12)."""
    title = _("Top-5 predictions") if title is None else title
    bars = [{"label": f"{label} ({index})", "p": p, "explained": index == highlight}
            for index, label, p in sorted(predictions, key=lambda prediction: -prediction[2])]
    x = {"field": "p", "type": "quantitative", "title": _("probability"), "scale": {"domain": [0, 1]},
         "axis": {"format": ".0%"}}
    # Best on top, the order fixed in the spec: with a data-driven order ("sort": None) a rerun that
    # only changes the data kept the classes already drawn in their places (Streamlit updates the
    # chart's data in place, Vega keeps its domain's order), so a new top class sat in the middle
    # (issue #23). Every label drawn, whole up to 200 px (Vega cuts at 180 by default).
    order = [bar["label"] for bar in bars]
    y = {"field": "label", "type": "nominal", "sort": order, "scale": {"domain": order}, "title": None,
         "axis": {"labelLimit": 200, "labelOverlap": False}}
    percent = {"field": "p", "type": "quantitative", "format": ".1%"}
    return style.vega_lite(
        title=title, height=40 * max(1, len(predictions)), datasets={"predictions": bars},
        layer=[
            {"data": {"name": "predictions"}, "mark": {"type": "bar"},
             "encoding": {"x": x, "y": y,
                          "color": {"condition": {"test": "datum.explained", "value": style.RED}, "value": style.BLUE},
                          "tooltip": [{"field": "label", "title": _("class")},
                                      {"field": "p", "title": _("probability"), "format": ".4f"}]}},
            # the percentage inside a long bar, beside a short one
            *({"data": {"name": "predictions"}, "transform": [{"filter": test}],
               "mark": {"type": "text", "align": align, "dx": dx, "fontSize": 12, "color": colour},
               "encoding": {"x": x, "y": y, "text": percent}}
              for test, align, dx, colour in (("datum.p > 0.5", "right", -4, "white"),
                                              ("datum.p <= 0.5", "left", 4, style.TEXT_COLOUR))),
        ])


# Inception v3's modules by torchvision name (Mixed_5b ...), in the paper's words (see tables.py).
_V3_KINDS = {"5": "inception-A", "6a": "inception-B", "6": "inception-C", "7a": "inception-D", "7": "inception-E"}


def layer_note(layer: str, _=ENGLISH) -> str:
    """One sentence on what a Grad-CAM layer is, by its name in the model."""
    if layer == "bn2":
        return _("bn2: EfficientNet-Lite0's last batch norm (with its ReLU6), after the 1×1 head conv to 1280 "
                 "channels: the final 7×7 feature map before global pooling.")
    if layer == "features.relu5":
        return _("features.relu5: DenseNet's final batch norm and ReLU after the last dense block: the feature "
                 "map the classifier pools.")
    if m := re.fullmatch(r"blocks\.(\d)", layer):
        return _("{layer}: stage {n} of 7 of EfficientNet's inverted-residual (MBConv) blocks; later stages see "
                 "coarser, more class-specific features.").format(layer=layer, n=int(m[1]) + 1)
    if m := re.fullmatch(r"features\.denseblock(\d)", layer):
        return _("{layer}: the output of dense block {n} (every layer's maps concatenated), before its "
                 "transition.").format(layer=layer, n=m[1])
    if m := re.fullmatch(r"features\.transition(\d)", layer):
        return _("{layer}: transition {n} (1×1 conv and 2×2 average pool) after dense block {n}.").format(
            layer=layer, n=m[1])
    if m := re.fullmatch(r"inception(\d[a-e])", layer):
        return _("{layer}: GoogLeNet's Inception module {n} (paper Table 1); later modules see coarser "
                 "grids.").format(layer=layer, n=m[1])
    if m := re.fullmatch(r"Mixed_(\d)([a-e])", layer):
        kind = _V3_KINDS.get(m[1] + m[2]) or _V3_KINDS[m[1]]
        return _("{layer}: Inception v3's {kind}.").format(layer=layer, kind=_(KIND_NAMES[kind]))
    if m := re.fullmatch(r"layer(\d)", layer):
        return _("{layer}: residual stage {n} of 4 (its last block's output); later stages see coarser "
                 "grids.").format(layer=layer, n=m[1])
    return _("{layer}: the output of this module of the model.").format(layer=layer)
