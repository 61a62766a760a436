"""The DenseNet page, driven by widget keys under Streamlit's AppTest."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "densenet.py")


@pytest.fixture
def app():
    return AppTest.from_file(PAGE, default_timeout=60).run()


def metric(app, label):
    return next(m for m in app.metric if m.label.startswith(label))


def dataframe_with(app, column):
    return next(d.value for d in app.dataframe if column in d.value.columns)


def page_text(app):
    return "\n".join(m.value for m in app.markdown)


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
    assert len(app.get("plotly_chart")) == 4  # channels, params & MACs, memory per block, inside one block


def test_growth_rate_slider_changes_channels(app):
    app.slider(key="growth_rate").set_value(12).run()
    assert not app.exception
    assert "64 + 6 × 12 = **136**" in page_text(app)
    delta = metric(app, "Parameters").delta
    assert delta.startswith("-")
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
    assert any("input_size" in e.value and "at least 29 px" in e.value for e in app.error)
    assert "64 + 6 × 16 = **160**" in page_text(app)  # the last good view
    app.number_input(key="input_size").set_value(224).run()
    assert not app.error


def test_budget_refusal_is_an_error_box(app):
    app.number_input(key="batch_size").set_value(600).run()
    assert not app.exception
    assert any("reduce the batch size" in e.value for e in app.error)


def test_memory_efficient_reduces_activation_metric(app):
    before = metric(app, "Activations").value
    app.toggle(key="memory_efficient").set_value(True).run()
    after = metric(app, "Activations")
    assert after.value != before and after.delta.startswith("-")


def test_add_to_comparison(app):
    app.slider(key="growth_rate").set_value(24).run()
    app.text_input(key="comparison_name").input("my-k24").run()
    app.button(key="add_to_comparison").click().run()
    builds = app.session_state["comparison_builds"]
    assert builds["my-k24"]["arch"] == "densenet" and builds["my-k24"]["config"]["growth_rate"] == 24


def test_cross_check_shows_three_counters(app):
    app.selectbox(key="densenet_preset").set_value("densenet-40-k12").run()
    app.button(key="cross_check").click().run()
    assert not app.exception and not app.error
    rows = dataframe_with(app, "counter").set_index("counter")["value"]
    assert rows["explorer profile (MACs)"] == 264_812_928
    assert rows["FlopCounterMode (FLOPs)"] == 2 * 264_812_928
    assert rows["fvcore: conv"] + rows["fvcore: linear"] == 264_812_928
    assert rows["sum(p.numel()) of the live model"] == 1_019_722


def test_torchinfo_summary(app):
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
