"""Phone (390x844) and desktop (1400x1000) in a real browser: the chart axes show real values, the
Inception diagram's and DenseNet's chart labels never overlap and fit their boxes in English and
Japanese, tables have people's headers, nothing scrolls sideways on a phone, presentation mode
enlarges the text, folds the side panel away and cuts no headline label. Screenshots of both sizes
land in test-artifacts/.

Skipped (with the reason in pytest's summary) when Chromium or Playwright is missing.
"""

from __future__ import annotations

import math

import pytest

from tests.helpers.browser import SIZES, BROWSER, assert_no_traceback, overlapping, sized_page, wait_for_app
from tests.helpers.server import ARTIFACTS, served

pytestmark = BROWSER



@pytest.fixture(scope="module")
def server():
    with served("streamlit-server-readable.log") as url:
        yield url


@pytest.fixture(params=list(SIZES))
def page(browser, request):
    yield from sized_page(browser, request.param)


def shot(page, name: str, key: str | None = None) -> None:
    """The whole page (Streamlit scrolls its main area, not the document, so the viewport is made as
    tall as the content for the picture; the width, which decides the layout, stays), or one element."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = str(ARTIFACTS / f"readable-{name}-{page.size_name}.png")
    if key:
        page.locator(f".st-key-{key}").screenshot(path=path)
        return
    size = page.viewport_size
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 12_000)})
    page.wait_for_timeout(500)
    page.screenshot(path=path)
    page.set_viewport_size(size)


def open_page(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)
    assert_no_traceback(page)


def choose_view(page, name: str) -> None:
    """Click one button of a page's view selector (only the chosen view is built and sent)."""
    page.locator('[data-testid="stButtonGroup"] button', has_text=name).first.click()
    wait_for_app(page)
    page.wait_for_timeout(500)  # plotly draws a chart once it has arrived


# Bounding boxes of the non-empty SVG text elements of one chart (the element with st.plotly_chart's key).
TEXT_BOXES = """(key) => {
  const root = document.querySelector('.st-key-' + key);
  if (!root) return null;
  return [...root.querySelectorAll('svg text')]
    .filter(t => t.textContent.trim() && t.getBoundingClientRect().width > 0)
    .map(t => { const r = t.getBoundingClientRect();
                return {text: t.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom}; });
}"""

TICKS = """([key, axis]) => [...document.querySelectorAll('.st-key-' + key + ' .' + axis + 'tick text')]
                          .map(t => t.textContent)"""


# Every text of a drawing as the four corners of its box on the screen, turned with it (plotly's
# slanted tick labels: their upright bounding boxes overlap where the labels do not).
TEXT_CORNERS = """(selector) => {
  const root = document.querySelector(selector);
  if (!root) return null;
  return [...root.querySelectorAll('svg text')]
    .filter(t => t.textContent.trim() && t.getBoundingClientRect().width > 0)
    .map(t => { const b = t.getBBox(), m = t.getScreenCTM();
      const corners = [[b.x, b.y], [b.x + b.width, b.y], [b.x + b.width, b.y + b.height], [b.x, b.y + b.height]]
        .map(([x, y]) => [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f]);
      return {text: t.textContent, corners}; });
}"""

# The module diagram's boxes and the texts in them, on the screen.
DIAGRAM_BOXES = """(selector) => {
  const svg = document.querySelector(selector);
  const box = e => { const r = e.getBoundingClientRect();
                     return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  return {rects: [...svg.querySelectorAll('rect')].map(box),
          texts: [...svg.querySelectorAll('text')].map(t => ({text: t.textContent, ...box(t)}))};
}"""


def _apart(a, b, slack: float) -> bool:
    """Whether two convex quadrilaterals overlap by no more than ``slack`` px along some axis
    (the separating axis test: the axes are their sides' normals)."""
    for quad in (a, b):
        for (x1, y1), (x2, y2) in zip(quad, quad[1:] + quad[:1]):
            nx, ny = y2 - y1, x1 - x2
            length = math.hypot(nx, ny)
            if length == 0:
                continue
            pa = [(nx * x + ny * y) / length for x, y in a]
            pb = [(nx * x + ny * y) / length for x, y in b]
            if min(max(pa), max(pb)) - max(min(pa), min(pb)) <= slack:
                return True
    return False


def crossing_texts(page, selector: str, slack: float = 0.5) -> list:
    """The pairs of texts of one drawing (SVG) whose boxes overlap."""
    texts = page.evaluate(TEXT_CORNERS, selector)
    assert texts, f"no text in {selector}"
    return [(a["text"], b["text"]) for i, a in enumerate(texts) for b in texts[i + 1:]
            if not _apart(a["corners"], b["corners"], slack)]


def test_overlap_check_sees_turned_boxes():
    """Two slanted labels side by side are apart although their upright bounding boxes overlap;
    two crossing ones are not."""
    def turned(cx, cy, angle, w=60, h=14):
        c, s = math.cos(angle), math.sin(angle)
        return [[cx + c * x - s * y, cy + s * x + c * y] for x, y in ((-w / 2, -h / 2), (w / 2, -h / 2),
                                                                    (w / 2, h / 2), (-w / 2, h / 2))]
    slant = math.radians(30)
    assert _apart(turned(0, 0, slant), turned(40, 0, slant), 0.5)  # their upright boxes are 59 px wide
    assert not _apart(turned(0, 0, slant), turned(0, 0, -slant), 0.5)
    assert not _apart(turned(0, 0, 0), turned(50, 0, 0), 0.5) and _apart(turned(0, 0, 0), turned(61, 0, 0), 0.5)


def labels_outside_their_boxes(page, selector: str) -> list:
    """The diagram's texts that stick out of the box they are written in (not the names above
    the columns, nor the counts beside the arrows, which are in no box)."""
    drawing = page.evaluate(DIAGRAM_BOXES, selector)
    outside = []
    for t in drawing["texts"]:
        x, y = (t["left"] + t["right"]) / 2, (t["top"] + t["bottom"]) / 2
        boxes = [r for r in drawing["rects"] if r["left"] <= x <= r["right"] and r["top"] <= y <= r["bottom"]]
        if boxes and not (boxes[0]["left"] + 1 <= t["left"] and t["right"] <= boxes[0]["right"] - 1
                          and boxes[0]["top"] <= t["top"] and t["bottom"] <= boxes[0]["bottom"]):
            outside.append(t["text"])
    assert len(drawing["texts"]) > len(outside)
    return outside


DIAGRAM = ".st-key-inc_module_diagram svg.module-diagram"
CHANNELS = '[data-testid="stVegaLiteChart"]'  # DenseNet's channel growth: Vega-Lite, drawn as SVG


def assert_diagram_readable(page) -> None:
    """No two texts of the module diagram overlap, each label fits in its box and the drawing."""
    page.locator(f"{DIAGRAM} text").first.wait_for()
    assert crossing_texts(page, DIAGRAM) == []
    assert labels_outside_their_boxes(page, DIAGRAM) == []
    assert_texts_inside(page, "inc_module_diagram")


def test_diagram_and_charts_readable_in_japanese(server, page):
    """Issue #23: at 390 px, the Japanese labels of the Inception diagram ran out of their boxes
    into the next column ("3×3 畳み込み5×5 畳み込み1×1 畳み込み"). In Japanese at both sizes (English:
    the tests below), no two texts of the diagram or of DenseNet's charts overlap, and each of the
    diagram's labels fits inside its box."""
    from explorer.i18n import translator

    open_page(page, f"{server}/inception?lang=ja")
    assert_diagram_readable(page)
    assert "連結" in page.locator(DIAGRAM).text_content()
    shot(page, "inception-diagram-ja", key="inc_module_diagram")

    open_page(page, f"{server}/densenet?lang=ja")
    page.locator(f"{CHANNELS} svg text").first.wait_for()
    assert crossing_texts(page, CHANNELS) == []
    choose_view(page, translator("ja")("Memory"))
    page.locator(".st-key-chart_memory_block .xtick text").first.wait_for()
    for key in ("chart_memory", "chart_memory_block"):
        assert crossing_texts(page, f".st-key-{key}") == [], key
        assert_texts_inside(page, key)
    shot(page, "densenet-memory-ja")


def chart_box(page, key: str):
    """A plotly chart's drawing area, or an SVG drawing's (the module diagram)."""
    return page.locator(f".st-key-{key} .main-svg, .st-key-{key} svg.module-diagram").first.bounding_box()


def assert_texts_inside(page, key: str) -> None:
    """No tick label, axis title or annotation is cut at the chart's left or right edge."""
    box = chart_box(page, key)
    for t in page.evaluate(TEXT_BOXES, key):
        assert t["left"] >= box["x"] - 1 and t["right"] <= box["x"] + box["width"] + 1, (key, t)


def assert_no_sideways_scroll(page) -> None:
    widths = page.evaluate("""() => { const m = document.querySelector('[data-testid="stMain"]');
        return [m.scrollWidth, m.clientWidth, document.documentElement.scrollWidth, window.innerWidth]; }""")
    main_scroll, main_client, doc_scroll, inner = widths
    assert main_scroll <= main_client + 1 and doc_scroll <= inner + 1, widths


def test_inception_diagram_and_axes(server, page):
    open_page(page, f"{server}/inception")
    page.locator(".st-key-inc_module_diagram svg text").first.wait_for()
    boxes = page.evaluate(TEXT_BOXES, "inc_module_diagram")
    texts = " ".join(b["text"] for b in boxes)
    assert "concatenate" in texts and "192 → 96" in texts
    assert overlapping(boxes) == []
    assert_diagram_readable(page)
    assert_no_sideways_scroll(page)
    shot(page, "inception-diagram", key="inc_module_diagram")
    shot(page, "inception-module")

    choose_view(page, "GoogLeNet")
    page.locator(".st-key-inc_chart_stages .y2tick text").first.wait_for()
    assert page.evaluate(TICKS, ["inc_chart_stages", "y2"]) == ["1", "7", "14", "28"]
    assert_texts_inside(page, "inc_chart_stages")
    assert_no_sideways_scroll(page)
    shot(page, "googlenet")

    choose_view(page, "Inception v3")
    page.locator(".st-key-inc_v3_stages .y2tick text").first.wait_for()
    assert page.evaluate(TICKS, ["inc_v3_stages", "y2"]) == ["1", "8", "17", "35"]
    assert_texts_inside(page, "inc_v3_stages")
    assert_texts_inside(page, "inc_v3_costs")
    assert_no_sideways_scroll(page)
    shot(page, "inception-v3")


def test_densenet_memory_and_table(server, page):
    open_page(page, f"{server}/densenet")
    page.locator(f"{CHANNELS} svg text").first.wait_for()
    assert crossing_texts(page, CHANNELS) == []
    choose_view(page, "Memory")
    page.locator(".st-key-chart_memory .xtick text").first.wait_for()
    ticks = page.evaluate(TICKS, ["chart_memory", "x"])
    assert ticks == ["stem", "denseblock1", "transition1", "denseblock2", "transition2", "denseblock3",
                     "transition3", "denseblock4", "head"]
    assert_texts_inside(page, "chart_memory")
    page.locator(".st-key-chart_memory_block .xtick text").first.wait_for()
    assert page.evaluate(TICKS, ["chart_memory_block", "x"])[:2] == ["layer 1", "layer 2"]
    for key in ("chart_memory", "chart_memory_block"):  # slanted tick labels, legend, bar texts
        assert crossing_texts(page, f".st-key-{key}") == [], key
    assert_no_sideways_scroll(page)
    shot(page, "densenet-memory")

    choose_view(page, "Per block")
    page.locator('[data-testid="stTable"] th').first.wait_for(state="attached")
    # a static table (cheap to redraw); on a phone it scrolls inside itself, not the page
    headers = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stTable"] thead th')]
                                     .map(h => h.textContent.trim()).filter(Boolean)""")
    assert headers[:2] == ["block (torchvision name)", "what it is"], headers
    assert "channels in → out" in headers and "parameters" in headers, headers
    assert not [h for h in headers if "_" in h or h in ("out_channels", "activation_bytes")], headers
    assert_no_sideways_scroll(page)
    shot(page, "densenet-table")


@pytest.mark.parametrize("path", ["", "compare", "explain"])
def test_other_pages_fit_a_phone(server, page, path):
    open_page(page, f"{server}/{path}")
    assert_no_sideways_scroll(page)
    shot(page, f"page-{path or 'home'}")


def test_phone_says_where_the_settings_are(server, page):
    open_page(page, f"{server}/densenet")
    hint = page.locator(".phone-only")
    assert hint.is_visible() == (page.size_name == "phone")


# The side panel's right edge (0 or less: folded away), and the headline texts Streamlit cut with "…".
SIDEBAR_RIGHT = """() => document.querySelector('[data-testid="stSidebar"]').getBoundingClientRect().right"""
CUT_METRICS = """() => [...document.querySelectorAll('[data-testid="stMetric"] *')]
  .filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)"""


def test_presentation_mode_enlarges_headline_numbers(server, page):
    """Presentation mode enlarges the headline numbers, and (issue #23) folds the side panel away
    (open, it took ~300 px of a projector's width) and cuts no headline label or number: the label
    "Memory-efficient mode would ne…" was cut. Labels wrap, even with the panel opened again."""
    # the font of the element that holds the number's text (not its container's)
    size = """() => { const value = document.querySelector('[data-testid="stMetricValue"]');
        const holder = [value, ...value.querySelectorAll('*')].find(e => [...e.childNodes].some(
            n => n.nodeType === 3 && n.textContent.trim()));
        return parseFloat(getComputedStyle(holder).fontSize); }"""
    open_page(page, f"{server}/densenet")
    page.locator('[data-testid="stMetricValue"]').first.wait_for()
    normal = page.evaluate(size)
    assert (page.evaluate(SIDEBAR_RIGHT) > 200) == (page.size_name == "desktop")  # a phone folds it anyway
    open_page(page, f"{server}/densenet?present=1")
    page.locator('[data-testid="stMetricValue"]').first.wait_for()
    big = page.evaluate(size)
    assert big >= 1.5 * normal, (normal, big)
    assert "present=1" in page.url
    assert page.evaluate(SIDEBAR_RIGHT) <= 0
    assert page.evaluate(CUT_METRICS) == []
    assert page.get_by_text("Memory-efficient mode would need", exact=True).is_visible()
    assert_no_sideways_scroll(page)
    shot(page, "densenet-presentation")
    if page.size_name == "desktop":  # a phone's panel opens over the page
        page.locator('[data-testid="stExpandSidebarButton"]').first.click()
        page.wait_for_function(f"() => ({SIDEBAR_RIGHT})() > 200")
        page.wait_for_timeout(500)
        assert page.evaluate(CUT_METRICS) == []
        shot(page, "densenet-presentation-panel")

