"""The Inception page, driven by widget keys under Streamlit's AppTest."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers.apptest import PAGES, chart_spec, page_text

PAGE = str(PAGES / "inception.py")


@pytest.fixture(scope="module")
def fresh():
    """One initial run, shared by the read-only checks (each run of this page takes a few seconds)."""
    return AppTest.from_file(PAGE, default_timeout=120).run()


def show(app, view):
    """Open one part of the page (module, googlenet, v3, why): only the part chosen is drawn."""
    app.button_group(key="inc_view").set_value(view).run()
    assert not app.exception
    return app


@pytest.fixture
def app():
    return AppTest.from_file(PAGE, default_timeout=120).run()


def metric(app, label):
    return next(m for m in app.metric if m.label.startswith(label))


def diagram(app) -> str | None:
    """The module diagram's SVG, or None when it is not drawn."""
    return next((m.value for m in app.markdown if m.value.startswith('<svg class="module-diagram"')), None)


def diagram_texts(app) -> list[str]:
    from tests.helpers.apptest import svg_texts

    return svg_texts(diagram(app))


def test_seed_module_by_default(fresh):
    assert not fresh.exception and not fresh.error
    assert metric(fresh, "Output channels").value == "256"
    assert metric(fresh, "Conv weights").value == "163,328"
    text = page_text(fresh)
    assert "**5×5** branch: **32** channels, 15,872 conv weights with the 1×1 reduction vs 153,600 without (9.7× more)" \
        in text
    # the pool branch's projection adds weights: no "vs 0 without (0.0× more)"
    assert ("**pool** branch: **32** channels, 6,144 conv weights in its 1×1 projection; without it the branch has "
            "no weights but passes all 192 input channels on") in text
    assert "0.0×" not in text
    assert "64 + 128 + 32 + 32 = **256** channels; **163,328** conv weights in total" in text
    table = next(d.value for d in fresh.table if "conv weights without 1×1 reductions" in d.value.columns)
    assert table["conv weights (as built)"].tolist() == ["12,288", "129,024", "15,872", "6,144"]
    assert table["branch"].tolist() == ["1×1", "3×3", "5×5", "pool"]
    texts = diagram_texts(fresh)
    assert "concatenate\n64 + 128 + 32 + 32 = 256 ch" in texts
    assert "5×5 conv\n16 → 32" in texts and "1×1 conv\n192 → 16" in texts


def test_only_the_chosen_part_is_built(fresh):
    assert diagram(fresh) and fresh.get("plotly_chart") == []  # one module chart at a time: the diagram
    assert not any(m.label == "Parameters" for m in fresh.metric)  # the network's part is not drawn


def test_the_module_chart_choice_is_kept_in_the_address():
    """The module designer shows its diagram or its weight bars; the choice is a page setting: a link
    brings it back, and choosing writes it to the address (the default is left out)."""
    linked = AppTest.from_file(PAGE, default_timeout=120)
    linked.query_params["module_chart"] = "weights"
    linked.run()
    assert not linked.exception and not linked.warning
    assert [c.key for c in linked.get("plotly_chart")] == ["inc_weight_bars"] and diagram(linked) is None
    linked.segmented_control(key="inc_module_chart").set_value("diagram").run()
    assert linked.get("plotly_chart") == [] and diagram(linked)
    assert "module_chart" not in linked.query_params
    linked.segmented_control(key="inc_module_chart").set_value("weights").run()
    assert linked.query_params["module_chart"] == "weights"


def test_network_and_v3_defaults(app):
    fresh = show(app, "googlenet")
    assert [c.key for c in fresh.get("plotly_chart")] == ["inc_chart_stages"]
    assert metric(fresh, "Parameters").value == "6.62 M"  # torchvision GoogLeNet: 6,624,904
    assert [m.value for m in fresh.metric if m.label == "MACs"] == ["1.5 GMACs"]
    assert "6,624,904 parameters, 1,498,376,192 MACs" in "\n".join(c.value for c in fresh.caption)
    assert "GoogLeNet, 22 layers deep" in [h.value for h in fresh.subheader]
    assert app.query_params["view"] in ("googlenet", ["googlenet"])
    show(app, "v3")
    assert metric(app, "Inception v3 parameters").value == "27.2 M"
    assert metric(app, "Inception v3 MACs").value == "5.71 GMACs"
    assert [c.key for c in app.get("plotly_chart")] == ["inc_v3_stages", "inc_v3_costs"]


def test_branch_sliders_and_toggles(app):
    app.slider(key="inc_in_channels").set_value(256).run()
    app.slider(key="inc_1x1").set_value(128).run()
    assert metric(app, "Output channels").value == str(128 + 128 + 32 + 32)
    # 128*256 + (256*96 + 9*96*128) + (256*16 + 25*16*32) + 256*32
    assert metric(app, "Conv weights").value == f"{128 * 256 + 256 * 96 + 9 * 96 * 128 + 256 * 16 + 12_800 + 8192:,}"
    app.toggle(key="inc_reduction").set_value(False).run()
    assert metric(app, "Output channels").value == str(128 + 128 + 32 + 256)
    assert metric(app, "Conv weights").value == f"{128 * 256 + 9 * 256 * 128 + 25 * 256 * 32:,}"
    app.toggle(key="inc_reduction").set_value(True).run()
    app.selectbox(key="inc_factorize").set_value("stacked").run()
    texts = diagram_texts(app)
    assert "3×3 conv\n16 → 32" in texts and "3×3 conv\n32 → 32" in texts


@pytest.mark.parametrize("key", ["inc_3x3_reduce", "inc_3x3", "inc_5x5_reduce", "inc_5x5", "inc_pool_proj"])
def test_zero_width_branch_keeps_last_good_view(app, key):
    app.slider(key=key).set_value(0).run()
    assert not app.exception
    assert any("a zero-width branch leaves no output" in e.value for e in app.error)
    assert metric(app, "Output channels").value == "256"  # the last good module
    assert metric(app, "Conv weights").value == "163,328"
    assert app.slider(key=key).value == 0  # what the user entered is kept


def edit_table(app, row: int, column: str, value) -> None:
    """Type into the module-width table (st.data_editor keeps its edits in session state)."""
    if app.button_group(key="inc_view").value != "googlenet":
        show(app, "googlenet")
    app.session_state["inc_widths_table_0"] = {"edited_rows": {row: {column: value}}, "added_rows": [],
                                               "deleted_rows": []}
    app.run()


def test_module_table_edits(app):
    edit_table(app, 0, "#1×1", 5000)  # beyond the bounds
    assert not app.exception
    assert any("inception3a #1x1: must be an integer from 1 to 1024, got 5000" in e.value for e in app.error)
    assert metric(app, "Parameters").value == "6.62 M"  # the last good network
    edit_table(app, 0, "#1×1", 128)
    assert not app.error
    # 3a's 1x1 branch gains 64 x 192 weights + 64 BN pairs; 3b's four input convs read 64 more channels.
    expected = 6_624_904 + 64 * 192 + 2 * 64 + 64 * (128 + 128 + 32 + 64)
    assert f"{expected:,} parameters" in "\n".join(c.value for c in app.caption)
    edit_table(app, 8, "pool proj", 0)  # a zero-width branch
    assert any("inception5b pool proj" in e.value and "zero-width" in e.value for e in app.error)


def test_network_widgets_and_deltas(app):
    show(app, "googlenet")
    app.toggle(key="inc_net_5x5").set_value(True).run()
    params = metric(app, "Parameters")
    assert params.value == "7.01 M"  # 7,005,832: the paper's 5x5 convs
    assert params.delta.lstrip("+").startswith("381 k")
    app.toggle(key="inc_net_5x5").set_value(False).run()
    app.toggle(key="inc_aux_logits").set_value(True).run()
    assert metric(app, "Parameters").value == "13 M"  # + 2 x 3,190,000 aux weights (4a: 512, 4d: 528 ch in)
    assert [m.value for m in app.metric if m.label == "MACs"] == ["1.5 GMACs"]  # inference skips them
    app.selectbox(key="inc_preset").set_value("googlenet-paper").run()
    assert app.toggle(key="inc_net_5x5").value is True and app.toggle(key="inc_aux_logits").value is False
    assert metric(app, "Parameters").value == "7.01 M" and not metric(app, "Parameters").delta


def test_network_error_keeps_last_good_view(app):
    show(app, "googlenet")
    app.slider(key="inc_width_multiplier").set_value(0.5).run()
    good = metric(app, "Parameters").value
    app.number_input(key="inc_input_size").set_value(10).run()
    assert not app.exception
    assert any("input size" in e.value and "at least 15 px" in e.value for e in app.error)
    assert metric(app, "Parameters").value == good


def test_a_config_handed_over_is_loaded():
    """Another page hands a GoogLeNet over by opening this page's address with it in the query."""
    from explorer.models.googlenet import TABLE1, GoogLeNetConfig
    from pages.ui.settings import builder_link

    widths = ((32,) + TABLE1[0][1:],) + TABLE1[1:]
    config = GoogLeNetConfig(widths=widths, width_multiplier=0.5, aux_logits=True)
    page, query = builder_link(config, "googlenet")
    assert page == "pages/inception.py"
    assert query["net_mult"] == "0.5" and query["net_aux"] == "1" and query["net_widths"].startswith("32.96.128.")
    app = AppTest.from_file(PAGE, default_timeout=120)
    app.query_params.update(query)
    app.run()
    assert not app.exception and not app.error
    assert app.query_params["net_mult"] in ("0.5", ["0.5"])  # kept in the address while the module is shown
    show(app, "googlenet")
    assert app.slider(key="inc_width_multiplier").value == 0.5 and app.toggle(key="inc_aux_logits").value
    import explorer
    from explorer.analysis.measure import count_params

    assert f"{count_params(explorer.build_model(config)):,} parameters" in "\n".join(c.value for c in app.caption)
    app = AppTest.from_file(PAGE, default_timeout=120)
    app.query_params.update({"net_widths": "1.2", "net_mult": "lots"})
    app.run()
    assert not app.exception
    assert any("ignored" in w.value for w in app.warning)


# GoogLeNet (Szegedy et al. 2014, Table 1): each inception module's output channels.
TABLE1_OUTPUTS = {"inception3a": 256, "inception3b": 480, "inception4a": 512, "inception4b": 512,
                  "inception4c": 512, "inception4d": 528, "inception4e": 832, "inception5a": 832,
                  "inception5b": 1024}


def test_each_googlenet_chart_shows_the_numbers_it_showed_as_a_tab(app):
    show(app, "googlenet")
    spec = chart_spec(app, "inc_chart_stages")
    channels = dict(zip(spec["data"][0]["x"], spec["data"][0]["y"]))
    assert {name: channels[name] for name in TABLE1_OUTPUTS} == TABLE1_OUTPUTS
    sizes = dict(zip(spec["data"][1]["x"], spec["data"][1]["y"]))
    # 224 px: the stem's conv and two pools leave 224 / 8 = 28; maxpool3 and maxpool4 halve it; the head pools to 1
    assert (sizes["stem"], sizes["maxpool3"], sizes["maxpool4"], sizes["head"]) == (28, 14, 7, 1)
    app.button_group(key="inc_chart").set_value("costs").run()
    spec = chart_spec(app, "inc_chart_costs")
    assert sum(spec["data"][0]["y"]) * 1e6 == pytest.approx(6_624_904)  # torchvision GoogLeNet's parameters
    app.button_group(key="inc_chart").set_value("branches").run()
    spec = chart_spec(app, "inc_chart_branches")
    stacked = {name: sum(trace["y"][i] for trace in spec["data"]) for i, name in enumerate(spec["data"][0]["x"])}
    assert stacked == TABLE1_OUTPUTS
    assert spec["data"][0]["y"][0] == 64 and spec["data"][3]["y"][-1] == 128  # 3a #1x1, 5b pool proj
    app.button_group(key="inc_chart").set_value("table").run()
    assert not app.get("plotly_chart") and app.query_params["chart"] in ("table", ["table"])


def query(app, key) -> str:
    value = app.query_params[key]
    return value[-1] if isinstance(value, list) else value


def test_settings_of_a_hidden_part_are_kept(app):
    app.slider(key="inc_in_channels").set_value(256).run()
    edit_table(app, 0, "#1×1", 128)  # opens the GoogLeNet part
    app.slider(key="inc_width_multiplier").set_value(0.5).run()
    params = metric(app, "Parameters").value
    show(app, "why")
    assert "In the module you designed" in "\n".join(m.value for m in app.markdown)
    assert query(app, "net_mult") == "0.5" and query(app, "in_channels") == "256"
    assert query(app, "net_widths").startswith("128.96.128.")  # the edited 3a #1×1
    show(app, "googlenet")
    assert metric(app, "Parameters").value == params  # the table's edit and the multiplier survived
    assert app.slider(key="inc_width_multiplier").value == 0.5
    show(app, "module")
    assert app.slider(key="inc_in_channels").value == 256


def test_figure_cache_is_shared_and_keyed_on_config_and_language():
    from explorer.models.googlenet import PRESETS as NETS
    from explorer.models.inception import InceptionModuleConfig
    from pages.ui.build import config_key
    from pages.ui.figures import module_drawing, module_key, network_chart, weight_bars_chart
    from tests.helpers.apptest import svg_texts

    key = module_key(InceptionModuleConfig())
    first = module_drawing(key, "en")
    assert module_drawing(key, "en") is first  # one drawing for every session
    assert module_drawing(module_key(InceptionModuleConfig(in_channels=256)), "en") != first
    title, svg = module_drawing(key, "ja")
    assert title == "構成から描いたモジュール"
    assert "連結\n64 + 128 + 32 + 32 = 256 ch" in svg_texts(svg)
    bars = weight_bars_chart(key, "en")
    assert weight_bars_chart(key, "en") is bars and weight_bars_chart(key, "ja") is not bars
    net = network_chart(config_key(NETS["googlenet"]), 1, "stages", "ja")
    assert net.spec["layout"]["yaxis"]["title"]["text"] == "出力チャネル数"
    assert network_chart(config_key(NETS["googlenet"]), 1, "stages", "ja") is net
    assert network_chart(config_key(NETS["googlenet"]), 2, "stages", "ja") is not net


def test_every_part_in_japanese():
    from tests.helpers.apptest import untranslated, visible_text

    app = AppTest.from_file(PAGE, default_timeout=120)
    app.query_params["lang"] = "ja"
    app.run()
    for view in ("module", "googlenet", "v3", "why"):
        show(app, view)
        assert not app.error, view
        assert untranslated(visible_text(app)) == [], view
    show(app, "module")
    assert "連結\n64 + 128 + 32 + 32 = 256 ch" in diagram_texts(app)
    app.segmented_control(key="inc_module_chart").set_value("weights").run()
    assert not app.error and untranslated(visible_text(app)) == []
    bars = chart_spec(app, "inc_weight_bars")
    assert bars["layout"]["yaxis"]["title"]["text"] == "畳み込みの重み"
    assert [t["y"] for t in bars["data"]][0] == [12_288, 129_024, 15_872, 6_144]  # GoogLeNet 3a, with reductions
