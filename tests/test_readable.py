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

PAGES = Path(__file__).resolve().parents[1] / "pages"
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

def _arrows(fig):
    return [a for a in fig.layout.annotations if a.showarrow]


def _crosses(segment, rect) -> bool:
    """Whether a vertical arrow runs through the inside of a box (touching its edge is fine)."""
    (x, y_a), (_, y_b) = segment
    lo, hi = sorted((y_a, y_b))
    inside_x = rect.x0 < x < rect.x1
    overlap = min(hi, rect.y1) - max(lo, rect.y0)
    return inside_x and overlap > 1e-9


@pytest.mark.parametrize("factorize", ["none", "stacked", "asymmetric"])
def test_no_arrow_crosses_a_box(factorize):
    fig = inc_charts.module_diagram(InceptionModuleConfig(factorize=factorize))
    arrows = _arrows(fig)
    assert all(a.x == a.ax for a in arrows)  # straight down, inside its own column
    for a in arrows:
        for rect in fig.layout.shapes:
            assert not _crosses(((a.ax, a.ay), (a.x, a.y)), rect), (a.x, a.ay, a.y, rect.x0, rect.y0)


def test_seed_module_diagram_boxes_and_labels():
    fig = inc_charts.module_diagram(InceptionModuleConfig())  # the seed's 3a: 192 ch at 28x28
    texts = [a.text for a in fig.layout.annotations if a.text]
    # input, 1x1 | 1x1, 3x3 | 1x1, 5x5 | pool, 1x1 | concatenation = 9 boxes; 4 + 3 + 4 arrows
    assert len(fig.layout.shapes) == 9 and len(_arrows(fig)) == 11
    assert "input: 192 ch, 28×28" in texts
    assert "concatenate<br>64 + 128 + 32 + 32 = 256 ch" in texts
    assert [t for t in texts if t.startswith("<b>")] == ["<b>1×1</b>", "<b>3×3</b>", "<b>5×5</b>", "<b>pool</b>"]
    assert "3×3 max<br>pool" in texts
    # the channel count of each branch is written beside its arrow, not on it
    counts = [a for a in fig.layout.annotations if a.text in ("64", "128", "32") and not a.showarrow]
    assert len(counts) == 4 and all(a.xanchor == "left" for a in counts)
    fonts = [a.font.size for a in fig.layout.annotations if a.text]
    assert min(fonts) >= 14  # legible from the back of a room
    assert all(a.font.color != "#333" for a in fig.layout.annotations if a.text)


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
    fig = inc_charts.module_diagram(InceptionModuleConfig())
    spec = fig.to_dict()
    big = style.scaled(spec, 1.5)
    assert big["layout"]["font"]["size"] == 21  # 14 x 1.5
    assert [a["font"]["size"] for a in big["layout"]["annotations"] if a.get("text")][0] == 24  # 16 x 1.5
    assert big["layout"]["height"] == pytest.approx(spec["layout"]["height"] * 1.5, abs=1)
    assert spec["layout"]["font"]["size"] == 14  # the original is unchanged


def _chart_specs(app):
    return {c.proto.id.split("-")[-1]: json.loads(c.proto.spec) for c in app.get("plotly_chart")}


def test_presentation_mode_from_the_link():
    app = AppTest.from_file(str(PAGES / "inception.py"), default_timeout=120)
    app.query_params["present"] = "1"
    app.run()
    assert not app.exception
    assert app.toggle(key="presentation_toggle").value is True
    diagram = next(c for c in app.get("plotly_chart") if c.proto.id.endswith("inc_module_diagram"))
    sizes = [a["font"]["size"] for a in json.loads(diagram.proto.spec)["layout"]["annotations"] if a.get("text")]
    assert min(sizes) >= 21  # 14-16 px, times 1.5
    assert app.query_params["present"] in ("1", ["1"])
    app.toggle(key="presentation_toggle").set_value(False).run()
    diagram = next(c for c in app.get("plotly_chart") if c.proto.id.endswith("inc_module_diagram"))
    assert max(a["font"]["size"] for a in json.loads(diagram.proto.spec)["layout"]["annotations"]
               if a.get("text")) == 16
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
