"""Charts and tables that read: real tick values, a diagram whose arrows cross no box, memory per
block, tables in people's words, presentation mode. Expected numbers are worked out by hand here
(or come from the papers / the seed text), not from the code under test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import explorer
from explorer.charts import densenet as dense_charts
from explorer.charts import inception as inc_charts
from explorer.charts import style, tables
from explorer.models.densenet import PRESETS as DENSENETS
from explorer.models.googlenet import PRESETS as GOOGLENETS
from explorer.models.inception import InceptionModuleConfig, module_report
from explorer.models.inception_v3 import InceptionV3Config
from tests.helpers.apptest import svg_texts

PAGES = Path(__file__).resolve().parents[2] / "pages"
MiB = 2**20


@pytest.fixture(scope="module")
def googlenet():
    return explorer.profile(GOOGLENETS["googlenet"])


@pytest.fixture(scope="module")
def v3():
    return explorer.profile(InceptionV3Config())


@pytest.fixture(scope="module")
def densenet121():
    return explorer.profile(DENSENETS["densenet121"])


# --- axes with the real values ---------------------------------------------------------------------

def test_googlenet_size_axis_ticks_are_the_sizes(googlenet):
    fig = inc_charts.stage_shapes(googlenet)
    size_axis = fig.layout.yaxis2
    # 224 px: stem -> 28, max pools -> 14 and 7, global pool -> 1 (GoogLeNet paper, Table 1)
    assert list(size_axis.tickvals) == [1, 7, 14, 28]
    assert list(size_axis.ticktext) == ["1", "7", "14", "28"]
    assert size_axis.type == "log" and size_axis.overlaying is None  # its own panel, not an overlay
    top, bottom = fig.layout.yaxis.domain, size_axis.domain
    assert bottom[1] < top[0]  # panels do not overlap


def test_v3_size_axis_and_cost_panels(v3):
    fig = inc_charts.stage_shapes(v3)
    # 299 px: stem -> 35, Mixed_6a -> 17, Mixed_7a -> 8, global pool -> 1 (aux head left out)
    assert list(fig.layout.yaxis2.tickvals) == [1, 8, 17, 35]
    costs = inc_charts.module_costs(v3)
    assert costs.layout.yaxis2.title.text == "MMACs" and costs.layout.yaxis2.overlaying is None
    assert costs.layout.yaxis2.domain[1] < costs.layout.yaxis.domain[0]


def test_readable_ticks_drop_crowded_values():
    # Inception v3's stem sizes: 149 and 147 (or 73 and 71) would print on top of each other.
    assert style.readable_ticks([149, 147, 147, 73, 73, 71, 35, 17, 8, 1]) == [1, 8, 17, 35, 73, 149]
    assert style.readable_ticks([28, 28, 14, 7, 1]) == [1, 7, 14, 28]


# --- the Inception module diagram ------------------------------------------------------------------

def _crosses(arrow, box) -> bool:
    """Whether a vertical arrow runs through the inside of a box (touching its edge is fine)."""
    lo, hi = sorted((arrow.y_from, arrow.y_to))
    inside_x = box.x0 < arrow.x < box.x1
    overlap = min(hi, box.y + 0.3) - max(lo, box.y - 0.3)  # boxes are 0.6 rows tall
    return inside_x and overlap > 1e-9


@pytest.mark.parametrize("factorize", ["none", "stacked", "asymmetric"])
def test_no_arrow_crosses_a_box(factorize):
    diagram = inc_charts.module_diagram(InceptionModuleConfig(factorize=factorize))
    for arrow in diagram.arrows:
        for box in diagram.boxes:
            assert not _crosses(arrow, box), (arrow, box)
    assert _crosses(inc_charts.DiagramArrow(0, 0, -3), diagram.boxes[1])  # the check can fail


def test_seed_module_diagram_boxes_and_labels():
    diagram = inc_charts.module_diagram(InceptionModuleConfig())  # the seed's 3a: 192 ch at 28x28
    # input, 1x1 | 1x1, 3x3 | 1x1, 5x5 | pool, 1x1 | concatenation = 9 boxes; 4 + 3 + 4 arrows
    assert len(diagram.boxes) == 9 and len(diagram.arrows) == 11
    svg = inc_charts.module_svg(diagram)
    texts = svg_texts(svg)
    assert "input: 192 ch, 28×28" in texts
    assert "concatenate\n64 + 128 + 32 + 32 = 256 ch" in texts
    assert "3×3 max\npool" in texts and "1×1 conv\n192 → 16" in texts
    assert [label.text for label in diagram.labels if label.bold] == ["1×1", "3×3", "5×5", "pool"]
    # the channel count of each branch is written beside its arrow, not on it
    counts = [label for label in diagram.labels if label.text in ("64", "128", "32")]
    assert len(counts) == 4 and all(c.beside and c.x > round(c.x) for c in counts)
    assert svg.count('text-anchor="start"') == 4
    assert 'font-size="16"' in svg and 'font-size="15"' in svg  # legible from the back of a room
    assert svg.count("<rect") == 9 and svg.count("<polygon") == 11  # a head on every arrow


def test_diagram_text_is_escaped_and_grows_in_presentation_mode():
    diagram = inc_charts.module_diagram(InceptionModuleConfig())
    odd = inc_charts.ModuleDiagram("t", 1, 0.45, -0.45, (inc_charts.DiagramBox(-0.4, 0.4, 0, ("<b>&</b>",), "#000000"),),
                                   (), ())
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in inc_charts.module_svg(odd) and "<b>" not in inc_charts.module_svg(odd)
    normal, big = inc_charts.module_svg(diagram), inc_charts.module_svg(diagram, 1.5)
    assert 'font-size="16"' in normal and 'font-size="24"' in big  # 16 x 1.5
    height = lambda svg: float(svg.split('height="')[1].split('"')[0])  # noqa: E731
    assert height(big) == pytest.approx(1.5 * height(normal), abs=1)
    # 4.4 rows (input, headers, two steps, concatenation) at 92 px a row
    assert height(normal) == pytest.approx((0.45 - (-1.7 - 2 - 0.45)) * 92, abs=1)


def _font_at(style_attr: str, width_px: float) -> float:
    """The font size a browser gives ``min(Apx, calc((Bcqw - Cpx) / D))`` in a drawing ``width_px`` wide."""
    import re

    size, room, pad, em = map(float, re.search(r"min\(([\d.]+)px, calc\(\(([\d.]+)cqw - ([\d.]+)px\) / ([\d.]+)\)\)",
                                               style_attr).groups())
    return min(size, (room * width_px / 100 - pad) / em)


def test_diagram_labels_shrink_to_fit_their_boxes_in_any_language():
    """Issue #23: Japanese box labels ('1×1 畳み込み', 5.69 em drawn in Chromium) ran out of their
    80 px boxes at 390 px. Each box's text gets the largest size at which its widest line, by the
    per-character estimate, fits the box: 16 px where it fits (English on a phone, Japanese on a
    desktop), smaller only where it does not."""
    from xml.etree import ElementTree

    from explorer.i18n import translator

    assert inc_charts.text_em("1×1 conv") == pytest.approx(7 * 0.55 + 0.25)  # drawn: 3.68 em
    assert inc_charts.text_em("1×1 畳み込み") == pytest.approx(3 * 0.55 + 0.25 + 4)  # drawn: 5.69 em
    assert inc_charts.text_em("プーリング") == 5 and inc_charts.text_em("入力：") == 3  # full-width colon

    ns = "{http://www.w3.org/2000/svg}"
    for lang, phone_font in (("en", 16), ("ja", (0.22 * 364 - 8) / 5.9)):  # a 390 px phone draws it 364 px wide
        svg = inc_charts.module_svg(inc_charts.module_diagram(InceptionModuleConfig(), _=translator(lang)))
        root = ElementTree.fromstring(svg)
        assert root.get("style") == "container-type:inline-size"  # cqw: hundredths of the drawing's width
        rects, texts = root.findall(f"{ns}rect"), [t for t in root.iter(f"{ns}text") if t.findall(f"{ns}tspan")]
        assert len(rects) == len(texts) == 9
        for rect, text in zip(rects, texts):
            lines = [span.text for span in text.findall(f"{ns}tspan")]
            for width_px in (364, 640):  # phone; desktop (the diagram's column at 1400 px)
                font = _font_at(text.get("style"), width_px)
                box = float(rect.get("width").rstrip("%")) * width_px / 100
                assert max(map(inc_charts.text_em, lines)) * font + 8 <= box + 1e-9, (lang, lines, width_px)
                assert font == 16 or width_px == 364, (lang, lines)  # a desktop keeps the full size
        step_fonts = {round(_font_at(t.get("style"), 364), 2) for r, t in zip(rects, texts)
                      if r.get("width") == "22.000%"}
        assert step_fonts == {round(phone_font, 2)}  # one size for the four columns' boxes
    assert phone_font == pytest.approx(12.23, abs=0.02)  # Chromium at 390 px: 12.23 px


# --- DenseNet memory, per block and inside one block ------------------------------------------------

def test_memory_per_block_adds_up(densenet121):
    per_block = dense_charts.memory_by_block(densenet121)
    assert [name for name, _ in per_block] == ["stem", "denseblock1", "transition1", "denseblock2", "transition2",
                                               "denseblock3", "transition3", "denseblock4", "head"]
    assert sum(sum(kinds.values()) for _, kinds in per_block) == sum(r.activation_bytes for r in densenet121.layers)
    fig = dense_charts.activation_memory(densenet121)
    assert len(fig.data[0].x) == 9  # nine bars instead of ~430


def test_memory_inside_one_block(densenet121):
    fig = dense_charts.block_layer_memory(densenet121, "denseblock1")
    concat = next(t for t in fig.data if t.name == "concatenations")
    assert list(concat.x) == [f"layer {i}" for i in range(1, 7)] + ["block output"]
    # layer 1 concatenates the 64 channels entering the block, at 56x56, float32, batch 1
    assert concat.y[0] == pytest.approx(64 * 56 * 56 * 4 / MiB)
    # the block's output: 64 + 6 x 32 = 256 channels
    assert concat.y[-1] == pytest.approx(256 * 56 * 56 * 4 / MiB)


# --- tables in people's words -----------------------------------------------------------------------

def _no_code_words(table):
    assert not any("_" in c and not c.startswith("Mixed") for c in table.columns), list(table.columns)
    cells = table.astype(str).to_numpy().ravel().tolist()
    assert "None" not in cells and "nan" not in cells


def test_densenet_block_table(densenet121):
    table = tables.block_table(densenet121)
    _no_code_words(table)
    row = table.set_index("block (torchvision name)").loc["denseblock1"]
    assert row["what it is"] == "dense block"
    assert row["channels in → out"] == "64 → 256"
    assert row["output size"] == "56×56 px"
    # per layer l (c = 64 + 32(l-1) channels in): BN 2c, 1x1 conv c*128, BN 256, 3x3 conv 9*128*32
    c = sum(64 + 32 * i for i in range(6))
    assert row["parameters"] == f"{2 * c + 128 * c + 6 * (256 + 9 * 128 * 32):,}" == "335,040"
    head = table.set_index("block (torchvision name)").loc["head"]
    assert head["parameters"] == f"{2 * 1024 + 1024 * 1000 + 1000:,}"  # norm5 (BN of 1024) + the classifier


def test_v3_table_names_modules_as_the_paper(v3):
    table = tables.block_table(v3).set_index("block (torchvision name)")
    _no_code_words(table.reset_index())
    assert table.loc["Mixed_6a", "what it is"].startswith("grid-size reduction")
    assert "torchvision InceptionB" in table.loc["Mixed_6a", "what it is"]
    assert "Fig. 5" in table.loc["Mixed_5b", "what it is"] and "Fig. 6" in table.loc["Mixed_6b", "what it is"]
    assert "inception-B" not in " ".join(table["what it is"])


def test_branch_table_seed_module():
    table = tables.branch_table(module_report(InceptionModuleConfig()).branches)
    _no_code_words(table)
    assert table["branch"].tolist() == ["1×1", "3×3", "5×5", "pool"]
    # seed text: 12,288 | 18,432 + 110,592 | 3,072 + 12,800 | 6,144; without reductions the 3x3 reads
    # 192 channels directly (9*192*128), the 5x5 too (25*192*32), the pool branch has no conv.
    assert table["conv weights (as built)"].tolist() == ["12,288", "129,024", "15,872", "6,144"]
    assert table["conv weights without 1×1 reductions"].tolist() == ["12,288", "221,184", "153,600", "0"]


def test_branch_bars_say_no_ratio_for_the_pool_branch():
    fig = inc_charts.branch_weight_bars(module_report(InceptionModuleConfig()).branches)
    assert list(fig.data[1].text) == ["", "1.7×", "9.7×", ""]  # 221,184 / 129,024; 153,600 / 15,872


# --- presentation mode -------------------------------------------------------------------------------

def test_scaled_enlarges_fonts_without_touching_the_original():
    fig = inc_charts.branch_weight_bars(module_report(InceptionModuleConfig()).branches)
    spec = fig.to_dict()
    big = style.scaled(spec, 1.5)
    assert big["layout"]["font"]["size"] == 21  # 14 x 1.5
    assert big["data"][1]["textfont"]["size"] == 21  # the ratios over the bars
    assert big["layout"]["height"] == spec["layout"]["height"] == 380  # a chart keeps its height
    assert spec["layout"]["font"]["size"] == 14  # the original is unchanged


def _chart_specs(app):
    return {c.proto.id.split("-")[-1]: json.loads(c.proto.spec) for c in app.get("plotly_chart")}


def test_presentation_mode_from_the_link():
    app = AppTest.from_file(str(PAGES / "inception.py"), default_timeout=120)
    app.query_params["present"] = "1"
    app.run()
    assert not app.exception
    assert app.toggle(key="presentation_toggle").value is True
    diagram = next(m.value for m in app.markdown if "module-diagram" in m.value)
    assert 'font-size="24"' in diagram  # 16 px, times 1.5
    assert app.query_params["present"] in ("1", ["1"])
    app.toggle(key="presentation_toggle").set_value(False).run()
    diagram = next(m.value for m in app.markdown if "module-diagram" in m.value)
    assert 'font-size="16"' in diagram and 'font-size="24"' not in diagram
    assert "present" not in app.query_params


# --- the DenseNet page's labels -----------------------------------------------------------------------

def test_preset_box_says_custom_after_an_edit_and_theta_shows_its_value():
    app = AppTest.from_file(str(PAGES / "densenet.py"), default_timeout=120).run()
    box = app.selectbox(key="densenet_preset")
    assert box.options[box.index].startswith("densenet121 — ")
    app.slider(key="compression").set_value(0.0987).run()
    box = app.selectbox(key="densenet_preset")
    assert box.options[box.index].startswith("densenet121 — ")  # labels never change (the browser keeps them)
    assert "Now: custom, from densenet121" in [c.value for c in app.sidebar.caption]
    theta = app.slider(key="compression")
    assert theta.value == pytest.approx(0.0987) and theta.proto.format == "%.4g"  # shows 0.0987, not 0.10
    # 256 channels out of block 1: floor(0.0987 x 256) = 25
    assert "floor(0.0987 × 256) = **25**" in "\n".join(m.value for m in app.markdown)


# --- Explain: what the chosen layer is ------------------------------------------------------------------

@pytest.mark.parametrize("layer, words", [
    ("bn2", "EfficientNet-Lite0's last batch norm"),  # timm: conv_head 320 -> 1280, then bn2 (BN + ReLU6)
    ("blocks.0", "stage 1 of 7"),
    ("features.relu5", "DenseNet's final batch norm and ReLU"),
    ("features.denseblock3", "dense block 3"),
    ("inception5b", "Inception module 5b"),
    ("Mixed_6a", "grid-size reduction"),
    ("Mixed_6e", "n×n as 1×n and n×1"),
    ("Mixed_7c", "expanded filter banks"),
    ("layer4", "residual stage 4 of 4"),
])
def test_layer_note(layer, words):
    from explorer.charts.explain import layer_note

    note = layer_note(layer)
    assert note.startswith(f"{layer}: ") and words in note
