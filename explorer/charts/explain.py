"""Charts and labels for the Explain page: pure functions, predictions in, a Vega-Lite spec out."""

from __future__ import annotations

import re

from ..i18n import ENGLISH
from ..units import format_bytes
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


def model_label(title: str, status, _=ENGLISH) -> str:
    """A published model in the model box: its title and whether its weights file is here
    (``status``: a ``vision.download`` status with ``state`` and ``size_bytes``)."""
    if status.state == "ready":
        return _("{model}: ready").format(model=title)
    if status.state == "download":
        return _("{model}: needs download ({size})").format(model=title, size=format_bytes(status.size_bytes))
    return _("{model}: unavailable").format(model=title)


def status_note(title: str, status, _=ENGLISH) -> tuple[str, str]:
    """("info" or "error", one plain line) on a model whose weights are not ready: file paths and
    resolver errors are for the server log only."""
    if status.state == "download":
        return "info", _("{model} needs its weights file {file} ({size}), which this server has not downloaded "
                         "yet.").format(model=title, file=status.path.name, size=format_bytes(status.size_bytes))
    if (status.reason or "").startswith("download failed"):
        return "error", _("{model}: the last download of its weights failed (the details are in the server "
                          "log).").format(model=title)
    return "error", _("{model} is unavailable: {reason}").format(model=title, reason=status.reason)


def timing_note(method: str, request_seconds: float | None, fresh: bool, seconds: float, _=ENGLISH) -> str:
    """Where a shown explanation (``method``: its method and layer) came from: the last good result
    (``request_seconds`` None), a worker just now (``fresh``), or this session before."""
    if request_seconds is None:
        return _("{method} (the last good result).").format(method=method)
    if fresh:
        return _("{method}; computed now by a worker ({seconds:.2f} s of it the explanation itself).").format(
            method=method, seconds=seconds)
    return _("{method}; this session computed it before (that took {seconds:.2f} s).").format(
        method=method, seconds=seconds)


def trained_note(file: str, info, _=ENGLISH) -> str:
    """What a trained DenseNet's file gives (``info``: a ``training.classifier.TrainedInfo``): its
    classes, input size and, when recorded, validation accuracy. ``file`` is shown as given."""
    accuracy = info.info.get("val_accuracy")
    return _("Using {file}: {n} classes, {size}×{size} px input.").format(
        file=file, n=len(info.classes), size=info.input_size) + (
        " " + _("Validation accuracy {acc:.1f} %.").format(acc=100 * float(accuracy))
        if isinstance(accuracy, (int, float)) else "")


def probability_text(predictions: list[tuple[int, str, float]], index: int, prefix: str = "", _=ENGLISH) -> str:
    """Class ``index``'s probability as shown (``prefix`` + "42.0 %") when it is among the top-5
    ``predictions``, else "below the top 5"."""
    return next((f"{prefix}{100 * p:.1f} %" for i, _label, p in predictions if i == index), _("below the top 5"))
