"""Pages under Streamlit's AppTest: a page run in a language with its address, what it shows a
reader (its text, its charts' words, in search of untranslated English), and what its charts and
drawings hold as sent (Vega-Lite datasets, SVG texts)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from explorer.teach.theory import PANELS

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "pages"

# Four English words in a row (names such as "DenseNet-BC", "#3×3 reduce" or "Inception v3" are shorter).
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ '-]+[A-Za-z]{2,}){3,}")


# Expanders filled only while open: the share box, the Build pages' tools, DenseNet's knobs, Learn's panels.
LAZY_BOXES = ("share_box", "build_tools", "inc_build_tools", "densenet_knobs", *(f"panel_{p.key}" for p in PANELS))


def run(page: str, lang: str, **params) -> AppTest:
    """The page under AppTest with ``?lang=`` and ``params`` in its address; ``"home"`` runs the
    app's main script (``streamlit_app.py``: the navigation, its default page is home)."""
    script = ROOT / "streamlit_app.py" if page == "home" else PAGES / f"{page}.py"
    app = AppTest.from_file(str(script), default_timeout=120)
    app.query_params["lang"] = lang
    for key, value in params.items():
        app.query_params[key] = value
    for box in LAZY_BOXES:  # opened, so that their text is checked too
        app.session_state[box] = True
    return app.run()


# Keys of a plotly figure's JSON that hold words a reader sees (titles, axis and legend names,
# hover templates, annotations, tick labels); data arrays (x, y, z, customdata) hold numbers.
CHART_TEXT_KEYS = {"text", "name", "hovertemplate", "texttemplate", "ticktext", "title"}


def chart_text(node, key: str | None = None) -> list[str]:
    """The words of a plotly figure or a Vega-Lite spec (its JSON as Streamlit sends it)."""
    if isinstance(node, dict):
        return [t for k, v in node.items() for t in chart_text(v, k)]
    if isinstance(node, list):
        return [t for v in node for t in chart_text(v, key)]
    if isinstance(node, str) and key in CHART_TEXT_KEYS:
        text = re.sub(r"%\{[^}]*\}|<[^>]*>|&[a-z]+;", " ", node)  # placeholders, tags, entities
        return [" ".join(text.split())]
    return []


def visible_text(app: AppTest) -> list[str]:
    texts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "success", "error", "warning"):
        texts += [element.value for element in getattr(app, kind)]
    texts += [e.label for e in app.expander]
    texts += [t.label for t in app.tabs]
    for kind in ("button", "text_input", "number_input", "slider", "multiselect", "selectbox", "radio",
                 "toggle", "checkbox", "select_slider", "metric"):
        for widget in getattr(app, kind):
            texts.append(widget.label)
            if kind in ("multiselect", "selectbox", "radio", "select_slider"):
                texts += [str(o) for o in widget.options]
    texts += [link.proto.label for link in app.get("page_link")]
    texts += [str(column) for frame in [*app.dataframe, *app.table] for column in frame.value.columns]
    for chart in [*app.get("plotly_chart"), *app.get("vega_lite_chart")]:
        texts += chart_text(json.loads(chart.proto.spec))
    return texts


def untranslated(texts: list[str]) -> list[str]:
    found = []
    for text in texts:
        text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets are URLs, not words
        text = re.sub(r"『[^』]*』", "『』", text)  # a cited paper's title keeps its own language
        text = text.replace("\\", "")
        found += ENGLISH_SENTENCE.findall(text)
    return found


def vega_data(proto) -> dict[str, dict]:
    """A Vega-Lite chart's named datasets, as sent (Arrow), column by column."""
    import pyarrow as pa

    return {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pydict() for d in proto.datasets}


def chart_title(app):
    return next(m.value for m in app.markdown if "chart-title" in m.value)


# The Explain page: a headline number by its label, the top-5 chart's bars.
def metric(app, label):
    return next(m for m in app.metric if m.label == label)


def prediction_bars(app) -> dict:
    """The top-5 chart's bars as sent (Vega-Lite, Arrow), column by column."""
    (chart,) = app.get("vega_lite_chart")
    return vega_data(chart.proto)["predictions"]


def drawn_bars(app) -> list[tuple[str, float]]:
    """The top-5 chart's (label, probability), top to bottom as drawn: in the order its spec fixes
    for the y axis (the same in every layer: sort and domain), each with its probability from the data."""
    (chart,) = app.get("vega_lite_chart")
    layers = json.loads(chart.proto.spec)["layer"]
    order = layers[0]["encoding"]["y"]["scale"]["domain"]
    assert all(layer["encoding"]["y"]["sort"] == layer["encoding"]["y"]["scale"]["domain"] == order
               for layer in layers)
    bars = prediction_bars(app)
    p = dict(zip(bars["label"], bars["p"]))
    assert sorted(order) == sorted(p)
    return [(label, p[label]) for label in order]


def svg_texts(svg: str) -> list[str]:
    """Each text element of an SVG drawing, its lines (tspans) joined by newlines."""
    from xml.etree import ElementTree

    ns = "{http://www.w3.org/2000/svg}"
    root = ElementTree.fromstring(svg)  # well-formed XML, or this fails
    return ["\n".join(s.text for s in t.iter(f"{ns}tspan")) or t.text for t in root.iter(f"{ns}text")]


def page_text(app: AppTest) -> str:
    """The page's markdown, one element a line."""
    return "\n".join(m.value for m in app.markdown)


def chart_spec(app: AppTest, key: str) -> dict:
    """The plotly figure (its JSON as sent) of the chart whose key ends in ``key``."""
    return json.loads(next(c for c in app.get("plotly_chart") if c.proto.id.endswith(key)).proto.spec)


def flat(query) -> dict:
    """The page's query parameters as {key: its last value}."""
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in dict(query).items()}
