"""The DenseNet page, driven by widget keys under Streamlit's AppTest."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers.apptest import PAGES, chart_spec, chart_title, page_text, vega_data

PAGE = str(PAGES / "densenet.py")


@pytest.fixture
def app():
    return AppTest.from_file(PAGE, default_timeout=60).run()


def metric(app, label):
    return next(m for m in app.metric if m.label.startswith(label))


def dataframe_with(app, column):
    """The table (st.table or st.dataframe) with ``column``."""
    return next(d.value for d in [*app.table, *app.dataframe] if column in d.value.columns)


def test_default_is_densenet121(app):
    assert not app.exception and not app.error
    assert metric(app, "Parameters").value == "7.98 M"
    assert metric(app, "MACs").value == "2.83 GMACs"
    assert metric(app, "FLOPs").value == "5.67 GFLOPs"
    assert metric(app, "Weights").value == "30.4 MiB"
    text = page_text(app)
    assert "64 + 6 × 32 = **256**" in text
    assert "floor(0.5 × 256) = **128**" in text
    assert "DenseNet-BC, L = 121" in "\n".join(h.value for h in app.subheader)
    # one view at a time: only the channel-growth chart is built and sent
    assert app.get("plotly_chart") == [] and len(app.get("vega_lite_chart")) == 1  # the channels, Vega-Lite
    assert app.button_group(key="densenet_view").value == "channels"


def channel_chart(app) -> tuple[dict, dict]:
    """The channel-growth chart of the page: (its spec, its datasets)."""
    (chart,) = app.get("vega_lite_chart")
    return json.loads(chart.proto.spec), vega_data(chart.proto)


# DenseNet-121 (Huang et al. 2017, Table 1): k = 32, k0 = 64, blocks (6, 12, 24, 16), θ = 0.5. The channels
# entering layer l of a block are k0 + 32(l - 1); each transition halves the block's output.
DENSENET121_INPUTS = ([64 + 32 * i for i in range(6)] + [128 + 32 * i for i in range(12)]
                      + [256 + 32 * i for i in range(24)] + [512 + 32 * i for i in range(16)])


def torchvision_block_params():
    """Parameters per block row of torchvision's densenet121 (its modules' own sum of p.numel())."""
    import torchvision

    model = torchvision.models.densenet121(weights=None)
    features = dict(model.features.named_children())
    rows = {name: sum(p.numel() for p in module.parameters()) for name, module in features.items()
            if name.startswith(("denseblock", "transition"))}
    rows["stem"] = sum(p.numel() for name in ("conv0", "norm0") for p in features[name].parameters())
    return rows


def test_each_view_shows_the_numbers_it_showed_as_a_tab(app):
    spec, data = channel_chart(app)
    assert data["layers"]["channels"] == DENSENET121_INPUTS and data["layers"]["layer"] == list(range(1, 59))
    assert data["layers"]["name"][:2] == ["denseblock1 denselayer1", "denseblock1 denselayer2"]
    # the transitions (dotted) after 6, 18, 42 and 58 layers, each block's output written above
    assert data["transitions"] == {"x": [6.5, 18.5, 42.5, 58.5], "channels": [256, 512, 1024, 1024]}
    assert [layer["data"]["name"] for layer in spec["layer"]] == ["transitions", "transitions", "layers"]
    assert chart_title(app).endswith("k0 + k(l-1), k = 32</div>")
    app.slider(key="growth_rate").set_value(12).run()  # k = 12: 64 + 12 x 6 = 136 channels leave block 1
    spec_k12, data = channel_chart(app)
    assert data["transitions"]["channels"][0] == 136 and data["layers"]["channels"][:3] == [64, 76, 88]
    assert spec_k12 == spec  # only the data changed: the browser redraws in place
    app.slider(key="growth_rate").set_value(32).run()

    app.button_group(key="densenet_view").set_value("blocks").run()
    assert [c.key for c in app.get("plotly_chart")] == ["chart_blocks"]
    spec = chart_spec(app, "chart_blocks")
    params = dict(zip(spec["data"][0]["x"], spec["data"][0]["y"]))
    for name, count in torchvision_block_params().items():
        assert params[name] == pytest.approx(count / 1e6, abs=1e-9), name
    assert sum(spec["data"][1]["y"]) == pytest.approx(2_834_162_688 / 1e9)  # torchvision: 2.834 GFLOPS (MACs)

    app.button_group(key="densenet_view").set_value("memory").run()
    assert [c.key for c in app.get("plotly_chart")] == ["chart_memory", "chart_memory_block"]
    assert f"(total {metric(app, 'Activations').value})" in chart_title(app)
    spec = chart_spec(app, "chart_memory_block")
    assert spec["data"][0]["x"][:2] == ["layer 1", "layer 2"]
    app.selectbox(key="memory_block").set_value("denseblock3").run()
    layers = [x for x in chart_spec(app, "chart_memory_block")["data"][0]["x"] if x.startswith("layer ")]
    assert layers[-1] == "layer 24" and len(layers) == 24  # DenseNet-121's block 3 has 24 layers

    app.button_group(key="densenet_view").set_value("table").run()
    assert not app.get("plotly_chart")
    table = dataframe_with(app, "channels in → out")
    assert table.loc[table["block (torchvision name)"] == "denseblock1", "channels in → out"].item() == "64 → 256"
    assert app.query_params["chart"] in ("table", ["table"])
    app.button_group(key="densenet_view").set_value("memory").run()  # the block looked inside is kept
    assert app.selectbox(key="memory_block").value == "denseblock3"


def test_the_view_is_kept_in_the_address_and_read_from_a_link():
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.query_params["chart"] = "memory"
    app.run()
    assert app.button_group(key="densenet_view").value == "memory" and not app.warning
    app.slider(key="growth_rate").set_value(12).run()  # another setting: the view stays
    assert app.button_group(key="densenet_view").value == "memory"
    assert app.query_params["chart"] in ("memory", ["memory"])
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.query_params["chart"] = "everything"
    app.run()
    assert app.button_group(key="densenet_view").value == "channels"
    assert any("chart: unknown value" in w.value for w in app.warning)


def test_growth_rate_slider_changes_channels(app):
    app.slider(key="growth_rate").set_value(12).run()
    assert not app.exception
    assert "64 + 6 × 12 = **136**" in page_text(app)
    delta = metric(app, "Parameters").delta
    assert delta.startswith("-")
    app.button_group(key="densenet_view").set_value("table").run()
    table = dataframe_with(app, "channels in → out")
    assert table.loc[table["block (torchvision name)"] == "denseblock1", "channels in → out"].item() == "64 → 136"


def test_compression_and_bottleneck(app):
    app.slider(key="compression").set_value(0.7).run()
    assert "floor(0.7 × 256) = **179**" in page_text(app)
    app.toggle(key="bottleneck").set_value(False).run()
    assert "DenseNet-C" in "\n".join(h.value for h in app.subheader)


def test_preset_selector_loads_its_values(app):
    app.selectbox(key="densenet_preset").set_value("densenet-bc-100-k12").run()
    assert app.slider(key="growth_rate").value == 12
    assert app.slider(key="num_blocks").value == 3
    assert app.radio(key="stem").value == "cifar"
    assert metric(app, "Parameters").value == "769 k"
    assert "24 + 16 × 12 = **216**" in page_text(app)


def test_blocks_and_depths(app):
    app.slider(key="num_blocks").set_value(2).run()
    app.slider(key="block_2").set_value(3).run()
    text = page_text(app)
    assert "128 + 3 × 32 = **224**" in text and "denseblock3" not in text
    app.slider(key="num_blocks").set_value(4).run()  # hidden block values were kept
    assert app.slider(key="block_3").value == 24


def test_invalid_config_keeps_last_good_view(app):
    app.slider(key="growth_rate").set_value(16).run()
    app.number_input(key="input_size").set_value(20).run()
    assert not app.exception
    assert any("input size" in e.value and "at least 29 px" in e.value for e in app.error)
    assert "64 + 6 × 16 = **160**" in page_text(app)  # the last good view
    app.number_input(key="input_size").set_value(224).run()
    assert not app.error


def test_any_batch_is_shown_and_a_refused_config_is_an_error_box(app):
    """No memory budget on the arithmetic (issue #23): batch 600 is shown, DenseNet-121 saving
    130,695,936 + 599 x 130,361,344 bytes (torchvision's densenet121 measured: test_profile_unrefused);
    a config the model cannot have is one error line, and the last good config stays."""
    from explorer.units import format_bytes

    app.number_input(key="batch_size").set_value(600).run()
    assert not app.exception and not app.error
    assert metric(app, "Activations, batch 600").value == format_bytes(130_695_936 + 599 * 130_361_344)
    app.number_input(key="input_size").set_value(8).run()
    assert len(app.error) == 1 and "use at least 29 px" in app.error[0].value
    assert any("last config that worked" in i.value for i in app.info)


def test_memory_efficient_reduces_activation_metric(app):
    before = metric(app, "Activations").value
    app.toggle(key="memory_efficient").set_value(True).run()
    after = metric(app, "Activations")
    assert after.value != before and after.delta.startswith("-")


def open_tools(app, key: str = "build_tools") -> None:
    """Open the Build page's tools box (a lazy expander: closed, nothing in it is built or sent)."""
    app.session_state[key] = True
    app.run()


def test_tools_are_built_only_while_their_box_is_open(app):
    labels = [e.label for e in app.expander]
    assert "🧰 Downloads, load a config, add to Compare, model summary" in labels
    assert "What the knobs do" in labels
    assert not app.get("download_button") and not app.get("file_uploader") and not app.button
    assert "**Growth rate k** —" not in page_text(app)  # the knobs' text is not sent either
    open_tools(app)
    assert [b.label for b in app.get("download_button")] == ["Config (JSON)", "Profile (CSV, per layer)"]
    assert [u.label for u in app.get("file_uploader")] == ["Load a config (JSON downloaded from this page)"]
    assert {b.key for b in app.button} == {"add_to_comparison", "cross_check"}
    app.text_input(key="comparison_name").input("kept").run()
    app.session_state["build_tools"] = False  # closed and opened again: the typed name is still there
    app.run()
    assert not app.text_input
    open_tools(app)
    assert app.text_input(key="comparison_name").value == "kept"
    open_tools(app, "densenet_knobs")
    assert "**Growth rate k** — each layer contributes k new maps" in page_text(app)


def test_add_to_comparison(app):
    open_tools(app)
    app.slider(key="growth_rate").set_value(24).run()
    app.text_input(key="comparison_name").input("my-k24").run()
    app.button(key="add_to_comparison").click().run()
    builds = app.session_state["comparison_builds"]
    assert builds["my-k24"]["arch"] == "densenet" and builds["my-k24"]["config"]["growth_rate"] == 24


def test_cross_check_shows_three_counters(app):
    app.selectbox(key="densenet_preset").set_value("densenet-40-k12").run()
    open_tools(app)
    app.button(key="cross_check").click().run()
    assert not app.exception and not app.error
    rows = dataframe_with(app, "counter").set_index("counter")["value"]
    assert rows["explorer profile (MACs)"] == 264_812_928
    assert rows["FlopCounterMode (FLOPs)"] == 2 * 264_812_928
    assert rows["fvcore: conv"] + rows["fvcore: linear"] == 264_812_928
    assert rows["sum(p.numel()) of the live model"] == 1_019_722


def test_torchinfo_summary(app):
    open_tools(app)
    app.toggle(key="show_torchinfo").set_value(True).run()
    assert "Total params: 7,978,856" in app.code[0].value


def test_tiny_one_block_build_compares_with_the_preset_at_its_own_size(app):
    """Found by the page property test: a 1-block build at 8 px is valid, but densenet121 is not at
    8 px, so the deltas fall back to the preset at its own input size instead of crashing."""
    app.slider(key="num_blocks").set_value(1).run()
    app.number_input(key="input_size").set_value(8).run()
    assert not app.exception and not app.error
    assert "its own input size (224 px)" in " ".join(c.value for c in app.caption)
    assert metric(app, "Parameters").delta.startswith("-")


def test_figure_cache_is_shared_and_keyed_on_config_view_and_language():
    from explorer.models.densenet import PRESETS
    from pages.ui.build import config_key
    from pages.ui.figures import densenet_chart

    key = config_key(PRESETS["densenet121"])
    first = densenet_chart(key, 1, "channels", "en")
    assert densenet_chart(key, 1, "channels", "en") is first  # one figure for every session
    import pyarrow as pa

    def channels(chart) -> list[int]:
        return pa.ipc.open_stream(chart.spec["datasets"]["layers"]).read_all().column("channels").to_pylist()

    assert first.vega_lite and channels(first) == DENSENET121_INPUTS
    assert densenet_chart(config_key(PRESETS["densenet169"]), 1, "channels", "en") is not first
    assert densenet_chart(key, 1, "memory", "en") is not first
    big = densenet_chart(key, 1, "channels", "en", True)  # presentation mode: larger fonts
    assert big.spec["config"]["axis"]["labelFontSize"] == 21 and first.spec["config"]["axis"]["labelFontSize"] == 14
    assert big.spec["layer"][1]["mark"]["fontSize"] == 17 and first.spec["layer"][1]["mark"]["fontSize"] == 11
    japanese = densenet_chart(key, 1, "channels", "ja")
    assert japanese is not first and channels(japanese) == channels(first)
    # the title and axes in Japanese (textbook terms), the numbers unchanged
    assert japanese.title == "各デンス層に入るチャネル数：k0 + k(l-1)、k = 32"
    line = japanese.spec["layer"][2]["encoding"]
    assert line["y"]["title"] == "入力チャネル数"
    assert line["x"]["title"] == ["デンス層（ネットワーク内の順）", "点線 = トランジション層"]
    memory = densenet_chart(key, 1, "memory", "ja")
    assert memory.spec["layout"]["yaxis"]["title"]["text"] == "逆伝播のために保持する MiB"
    assert [bar["name"] for bar in memory.spec["data"][:2]] == ["連結", "バッチ正規化"]


def test_every_view_in_japanese():
    """Each view, its chart's title and axes included, in Japanese with no English sentence left."""
    from tests.helpers.apptest import untranslated, visible_text

    app = AppTest.from_file(PAGE, default_timeout=60)
    app.query_params["lang"] = "ja"
    app.run()
    assert app.slider(key="growth_rate").label == "成長率 k"
    for view in ("channels", "blocks", "memory", "table"):
        app.button_group(key="densenet_view").set_value(view).run()
        assert not app.exception and not app.error
        assert untranslated(visible_text(app)) == [], view
        titles = [m.value for m in app.markdown if "chart-title" in m.value]
        assert all(not untranslated([t]) for t in titles)
    app.button_group(key="densenet_view").set_value("memory").run()
    spec = chart_spec(app, "chart_memory")
    assert spec["layout"]["yaxis"]["title"]["text"] == "逆伝播のために保持する MiB"
    assert "学習時の活性化メモリ" in chart_title(app)
    assert "64 + 6 × 32 = **256** チャネル" in page_text(app)  # the same numbers in both languages
