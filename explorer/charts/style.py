"""One look for every chart: font sizes, colours, margins, and the enlargement for a projector.

Figures are built at the normal size; ``scaled`` enlarges the fonts of a figure's JSON for
presentation mode, so cached figures are never mutated (the module diagram, SVG, is drawn at its
scale: ``inception.module_svg``).
"""

from __future__ import annotations

import copy
import html
import math

FONT_SIZE = 14  # axis titles, legends, tick labels
TEXT_COLOUR = "#1f1f1f"  # dark on white or pastel: legible from the back of a room
BLUE, ORANGE, GREEN, PURPLE, RED, GREY = "#4C78A8", "#F58518", "#54A24B", "#B279A2", "#E45756", "#6b6b6b"
PRESENTATION_SCALE = 1.5  # fonts (and the module diagram's rows) in presentation mode

# Titles are drawn by the page above each chart (they wrap on a phone; plotly's do not), so the
# top margin only has to leave room for plotly's toolbar.
MARGIN = dict(t=36, l=10, r=10, b=10)


def plotly_text(text: str) -> str:
    """A user's text (a build's name) for a plotly label or trace name, shown as typed: plotly reads
    a subset of HTML there (``<a href>`` becomes a link, ``<b>`` bold) and shows ``&lt;`` as ``<``."""
    return html.escape(str(text), quote=False)


# Widths of text in the app's font (Source Sans) as a share of the font size, for laying out text the
# browser will draw: generous, so that a box made this wide holds the text.
_NARROW, _WIDE = set("iljtfr.,:;'|!()[]{}"), set("mwMW%@")


def text_em(text: str, bold: bool = False) -> float:
    """About how wide ``text`` is drawn, in em (CJK and full-width characters are 1 em)."""
    width = 0.0
    for c in text:
        if "\u3000" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef":
            width += 1.0
        elif c == " ":
            width += 0.25
        elif c in _NARROW:
            width += 0.3
        elif c in _WIDE:
            width += 0.85
        elif c.isupper():
            width += 0.65
        else:
            width += 0.55
    return width * (1.07 if bold else 1.0)


# Where a line may not break in Japanese (禁則): before closing marks, small kana and the long-vowel
# mark, and after opening brackets.
_NO_LINE_START = set("）)」』、。，．・ーぁぃぅぇぉっゃゅょァィゥェォッャュョ%")
_NO_LINE_END = set("（(「『")


def two_lines_em(text: str, bold: bool = True) -> float:
    """The width (em) that holds ``text`` on two lines at most, broken at the best place: a space,
    or between two characters either of which is CJK (as the browser breaks Japanese)."""
    best = text_em(text, bold)
    for i in range(1, len(text)):
        before, after = text[i - 1], text[i]
        cjk = max(before, after) >= "\u3000"
        if not (before == " " or after == " " or cjk) or after in _NO_LINE_START or before in _NO_LINE_END:
            continue
        best = min(best, max(text_em(text[:i].rstrip(), bold), text_em(text[i:].lstrip(), bold)))
    return best


def layout(**overrides) -> dict:
    """The shared layout of a chart; a figure's own settings override it."""
    base = dict(font=dict(size=FONT_SIZE, color=TEXT_COLOUR), margin=dict(MARGIN),
                # at the figure's foot, below any rotated tick labels (a paper-relative legend sits on them)
                legend=dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0, xanchor="left"),
                hoverlabel=dict(font_size=FONT_SIZE))
    base.update(overrides)
    return base


def vega_lite(**spec) -> dict:
    """A Vega-Lite spec with the shared look (the fonts of ``layout``); ``title`` is the page's to draw."""
    text = {"labelFontSize": FONT_SIZE, "titleFontSize": FONT_SIZE, "labelColor": TEXT_COLOUR,
            "titleColor": TEXT_COLOUR, "titleFontWeight": "normal"}
    return {"config": {"axis": dict(text), "legend": dict(text)}, **spec}


def scaled_vega_lite(spec: dict, factor: float = PRESENTATION_SCALE) -> dict:
    """A copy of a Vega-Lite spec with every font ``factor`` times larger (axes, legend, text marks)."""
    out = copy.deepcopy(spec)

    def grow(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key.endswith(("FontSize", "fontSize")) and isinstance(value, (int, float)):
                    node[key] = math.ceil(value * factor)
                else:
                    grow(value)
        elif isinstance(node, list):
            for value in node:
                grow(value)

    grow({key: value for key, value in out.items() if key != "datasets"})
    return out


def readable_ticks(values, min_ratio: float = 1.35) -> list[int]:
    """Tick values for a log axis: the distinct values themselves, dropping a value that would sit
    too close to the last one kept (less than ``min_ratio`` apart), so labels never overlap."""
    kept: list[int] = []
    for value in sorted({int(v) for v in values if v > 0}, reverse=True):
        if not kept or kept[-1] / value >= min_ratio:
            kept.append(value)
    return sorted(kept)


def scaled(figure: dict, factor: float = PRESENTATION_SCALE) -> dict:
    """A copy of a figure's JSON (``fig.to_plotly_json()``) with every font ``factor`` times larger."""
    out = copy.deepcopy(figure)
    lay = out.setdefault("layout", {})

    def grow(owner: dict, default: float = FONT_SIZE) -> None:
        font = owner.setdefault("font", {})
        font["size"] = math.ceil((font.get("size") or default) * factor)

    grow(lay)
    for key, value in lay.items():
        if key.startswith(("xaxis", "yaxis")) and isinstance(value, dict):
            value.setdefault("tickfont", {})
            value["tickfont"]["size"] = math.ceil((value["tickfont"].get("size") or FONT_SIZE) * factor)
            title = value.get("title")
            if isinstance(title, dict):
                grow(title)
    for annotation in lay.get("annotations", []):
        grow(annotation)
    for trace in out.get("data", []):
        if trace.get("textfont") or trace.get("text") is not None:
            trace.setdefault("textfont", {})
            trace["textfont"]["size"] = math.ceil((trace["textfont"].get("size") or FONT_SIZE) * factor)
    return out
