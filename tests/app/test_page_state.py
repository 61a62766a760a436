"""Every page's settings live in its address and survive page changes (Streamlit AppTest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import explorer
from explorer.models.densenet import PRESETS
from explorer.units import format_count, format_macs
from tests.helpers.apptest import flat

ROOT = Path(__file__).resolve().parents[2]


def page(name: str) -> AppTest:
    return AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=120)


def params_metric(app) -> str:
    return next(m for m in app.metric if m.label == "Parameters").value


def test_densenet_link_opens_exactly_that_config():
    app = page("densenet")
    app.query_params.update({"preset": "densenet121", "k": "24", "theta": "0.7", "blocks": "6,12,24,16",
                             "batch": "8"})
    app.run()
    assert not app.exception and not app.warning
    expected = explorer.profile(PRESETS["densenet121"].replace(growth_rate=24, compression=0.7), batch_size=8)
    assert app.slider(key="growth_rate").value == 24 and app.slider(key="compression").value == 0.7
    assert params_metric(app) == format_count(expected.params)
    assert f"{expected.macs:,} MACs" in " ".join(c.value for c in app.caption)
    # the page writes back its canonical address: only what differs from the preset, plus the batch
    # (and the language, which every page carries)
    assert flat(app.query_params) == {"k": "24", "theta": "0.7", "batch": "8", "lang": "en"}


def test_moving_a_slider_rewrites_the_address():
    app = page("densenet").run()
    assert flat(app.query_params) == {"lang": "en"}  # the defaults: a clean address, only the language
    app.slider(key="growth_rate").set_value(12).run()
    app.toggle(key="memory_efficient").set_value(True).run()
    assert flat(app.query_params) == {"k": "12", "mem": "1", "lang": "en"}
    app.selectbox(key="densenet_preset").set_value("densenet169").run()
    assert flat(app.query_params) == {"preset": "densenet169", "lang": "en"}


def test_the_same_link_in_a_new_session_shows_the_same_numbers():
    first = page("densenet").run()
    first.slider(key="growth_rate").set_value(20).run()
    first.number_input(key="batch_size").set_value(16).run()
    link = flat(first.query_params)
    second = page("densenet")
    second.query_params.update(link)
    second.run()
    assert [m.value for m in second.metric] == [m.value for m in first.metric]


@pytest.mark.parametrize("query, fragment", [
    ({"k": "500", "zzz": "1"}, "k=500 is above 128"),
    ({"blocks": ",".join(["7"] * 10_000)}, "blocks: too long"),
    ({"preset": "resnet9000"}, "preset: unknown"),
    ({"stem": "ネコ", "theta": "-1"}, "stem: not one of"),
    ({"k": "1" * 5000, **{f"x{i}": "y" * 100 for i in range(200)}}, "too long"),
    ({"batch": "-3"}, "batch=-3 is below 1"),
])
def test_hostile_links_open_the_nearest_valid_page_with_one_line(query, fragment):
    app = page("densenet")
    app.query_params.update(query)
    app.run()
    assert not app.exception and not app.error
    assert len(app.warning) == 1 and fragment in app.warning[0].value
    assert params_metric(app)  # the page is there, with numbers


def test_a_batch_beyond_the_limits_is_clamped_then_shown_and_written_back():
    """The profile allocates nothing: no memory budget refuses it (issue #23). DenseNet-121 at
    batch 4096 saves 130,695,936 + 4095 x 130,361,344 bytes: torchvision's densenet121 measured
    with autograd's saved-tensor hooks at batch 1 and 2 (see test_profile_unrefused)."""
    from explorer.units import format_bytes

    app = page("densenet")
    app.query_params.update({"batch": "1e9"})
    app.run()
    assert not app.exception and not app.error
    assert len(app.warning) == 1 and "batch=1e9 is above 4096: used 4096" in app.warning[0].value
    metric = next(m for m in app.metric if m.label == "Activations, batch 4096")
    assert metric.value == format_bytes(130_695_936 + 4095 * 130_361_344)
    assert flat(app.query_params) == {"batch": "4096", "lang": "en"}


def test_unknown_keys_are_named():
    app = page("densenet")
    app.query_params.update({"k": "24", "utm_source": "mail"})
    app.run()
    assert "unknown setting utm_source" in app.warning[0].value and app.slider(key="growth_rate").value == 24


def test_inception_link_round_trip():
    first = page("inception").run()
    first.slider(key="inc_5x5_reduce").set_value(20).run()
    first.button_group(key="inc_view").set_value("googlenet").run()  # the module's settings stay in the address
    first.slider(key="inc_width_multiplier").set_value(0.5).run()
    first.toggle(key="inc_aux_logits").set_value(True).run()
    link = flat(first.query_params)
    assert link == {"view": "googlenet", "widths": "64,96,128,20,32,32", "net_mult": "0.5", "net_aux": "1",
                    "lang": "en"}
    second = page("inception")
    second.query_params.update(link)
    second.run()
    assert not second.exception and not second.warning
    assert second.slider(key="inc_width_multiplier").value == 0.5
    assert [m.value for m in second.metric] == [m.value for m in first.metric]
    second.button_group(key="inc_view").set_value("module").run()
    assert second.slider(key="inc_5x5_reduce").value == 20


def test_settings_survive_a_page_change():
    """Set k on the DenseNet page, visit the Inception page, come back: k is still there."""
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    app.switch_page("pages/densenet.py").run()
    app.slider(key="growth_rate").set_value(24).run()
    app.switch_page("pages/inception.py").run()
    app.slider(key="inc_5x5_reduce").set_value(20).run()
    app.switch_page("pages/densenet.py").run()
    assert not app.exception
    assert app.slider(key="growth_rate").value == 24
    app.switch_page("pages/inception.py").run()
    assert app.slider(key="inc_5x5_reduce").value == 20


@pytest.mark.slow
def test_explain_link_round_trip_and_hostile_values():
    first = page("explain").run()
    assert not first.exception
    first.selectbox(key="explain_sample").set_value("coffee").run()
    first.slider(key="explain_alpha").set_value(0.7).run()
    first.selectbox(key="explain_colormap").set_value(first.selectbox(key="explain_colormap").options[-1]).run()
    link = flat(first.query_params)
    assert link["image"] == "coffee" and link["alpha"] == "0.7"
    second = page("explain")
    second.query_params.update(link)
    second.run()
    assert not second.exception and not second.warning
    assert second.selectbox(key="explain_sample").value == "coffee" and second.slider(key="explain_alpha").value == 0.7
    same = lambda app: [m.value for m in app.metric if m.label != "Time for this view"]  # noqa: E731 - each request's own time
    assert same(second) == same(first)

    hostile = page("explain")
    hostile.query_params.update({"model": "<script>", "alpha": "7", "target": "99999", "image": "../../etc/passwd",
                                 "layer": "features.0; rm -rf /", "zz": "1"})
    hostile.run()
    assert not hostile.exception and len(hostile.warning) == 1
    text = hostile.warning[0].value
    for fragment in ("unknown setting zz", "image: unknown value", "model: unknown value", "alpha=7 is above 1",
                     "target=99999 is above 999", "layer: unknown value"):
        assert fragment in text


def test_compare_and_build_pages_offer_a_share_box():
    for name in ("densenet", "inception", "explain"):
        app = page(name).run()
        assert any(e.label.startswith("🔗 Share this view") for e in app.sidebar.expander), name
    # filled only while open: the address and its copy button (st.code) are not sent to a closed box
    assert not app.sidebar.code
    app.session_state["share_box"] = True
    app.run()
    assert len(app.sidebar.code) == 1 and "Copy this address" in app.sidebar.caption[-1].value


def test_compare_link_carries_the_users_builds_and_settings():
    from explorer import sharing
    from explorer.models.densenet import PRESETS as DENSENET_PRESETS

    build = DENSENET_PRESETS["densenet121"].replace(growth_rate=24, compression=0.7)
    first = page("compare")
    first.session_state["comparison_builds"] = {"my k24": {"arch": "densenet", "config": build.to_dict()}}
    first.run()
    assert not first.exception
    first.number_input(key="compare_batch").set_value(8).run()
    link = flat(first.query_params)
    assert link["build1"] == "my k24|densenet|k=24&theta=0.7" and link["batch"] == "8"
    assert link["models"].endswith(",my k24")

    second = page("compare")  # a new session: only the address
    second.query_params.update(link)
    second.run()
    assert not second.exception and not second.warning
    assert second.session_state["comparison_builds"]["my k24"]["config"] == build.to_dict()
    assert "my k24" in second.multiselect(key="compare_models").value
    expected = explorer.profile(build, batch_size=8)
    frame = second.table[0].value
    row = getattr(frame, "data", frame).set_index("model").loc["my k24"]
    assert row["parameters"] == expected.params and round(row["GMACs per image"] * 1e9) == expected.macs
    assert sharing.build_from_text(link["build1"])[1] == build


def test_compare_hostile_link():
    app = page("compare")
    app.query_params.update({"models": "densenet121,nope", "build1": "bad", "build2": "a|vgg|k=1",
                             "batch": "0", "sweep_xr": "1,2,3", "acc": "best", "sweep": "resnet"})
    app.run()
    assert not app.exception and len(app.warning) == 1
    text = app.warning[0].value
    for fragment in ("models: unknown nope", "build: not name|architecture|settings", "build a: unknown architecture",
                     "batch=0 is below 1", "acc: unknown value", "sweep: unknown value",
                     "sweep_xr: not low,high"):
        assert fragment in text, fragment


def test_compare_sort_and_module_chart_survive_page_changes():
    """The settings added for #12 (Compare's 'Sort by', the module designer's chart) are kept
    when the reader goes to another page and back, and stay in the address."""
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180)
    app.run()
    app.switch_page("pages/compare.py").run()
    app.selectbox(key="compare_sort").set_value("params").run()
    app.switch_page("pages/inception.py").run()
    app.segmented_control(key="inc_module_chart").set_value("weights").run()
    app.switch_page("pages/densenet.py").run()
    app.switch_page("pages/compare.py").run()
    assert app.selectbox(key="compare_sort").value == "params" and app.query_params["sort"] in ("params", ["params"])
    app.switch_page("pages/inception.py").run()
    assert app.segmented_control(key="inc_module_chart").value == "weights"
    assert app.query_params["module_chart"] in ("weights", ["weights"])


def test_a_late_address_from_quick_steps_does_not_move_the_slider_back():
    """Quick slider steps: a rerun can arrive carrying the address of the run before last (the
    browser had not applied the newest yet). That address is this session's own, not a link: the
    slider keeps the value the user moved it to. An address from outside still wins."""
    app = page("densenet").run()
    app.slider(key="growth_rate").set_value(20).run()
    older = dict(flat(app.query_params))
    assert older["k"] == "20"
    app.slider(key="growth_rate").set_value(21).run()
    assert flat(app.query_params)["k"] == "21"
    app.slider(key="growth_rate").set_value(22)
    app.query_params.clear()
    app.query_params.update(older)  # the late address: k = 20
    app.run()
    assert app.slider(key="growth_rate").value == 22 and flat(app.query_params)["k"] == "22"
    app.query_params.clear()
    app.query_params.update({**older, "k": "40"})  # a link never written here: it opens
    app.run()
    assert app.slider(key="growth_rate").value == 40


def test_a_hand_off_to_an_earlier_address_still_opens_it():
    """Arriving from another page (a sweep point, an exercise) with an address this page wrote
    earlier, but not last, opens that address: only staying on the page makes older ones its own."""
    app = page("densenet").run()
    app.slider(key="growth_rate").set_value(20).run()
    older = dict(flat(app.query_params))
    app.slider(key="growth_rate").set_value(21).run()
    app.session_state["_current_page"] = "compare"  # the user went to Compare, which hands this back
    app.query_params.clear()
    app.query_params.update(older)
    app.run()
    assert app.slider(key="growth_rate").value == 20


def _widgets(app):
    def walk(node):
        for child in getattr(node, "children", {}).values():
            yield child
            yield from walk(child)

    return [el for tree in (app.main, app.sidebar) for el in walk(tree) if hasattr(getattr(el, "proto", None), "set_value")]


def widgets_set_again(app, drawn_before: set[str]) -> list[str]:
    """Keys of the widgets, already drawn in the run before, whose value this run sent to the browser
    to be set again (proto.set_value): each is re-rendered after the run, so a page that re-assigns
    its drawn widgets every run slows every slider step. Disabled widgets are left out: Streamlit
    itself re-syncs them on every run."""
    return [el.key for el in _widgets(app) if el.proto.set_value and not el.proto.disabled and el.key in drawn_before]


# (page, [(widget kind, key, new value)], each step run in turn; after each, no widget is re-set)
STEPS = {
    "densenet": [("slider", "growth_rate", 24), ("slider", "num_blocks", 3), ("button_group", "densenet_view", "memory"),
                 ("slider", "growth_rate", 12), ("slider", "num_blocks", 4)],
    "inception": [("slider", "inc_in_channels", 256), ("button_group", "inc_view", "googlenet"),
                  ("slider", "inc_width_multiplier", 0.5), ("button_group", "inc_view", "v3"),
                  ("number_input", "inc_v3_input_size", 320), ("button_group", "inc_view", "module"),
                  ("slider", "inc_size", 14)],
    "compare": [("number_input", "compare_batch", 16), ("button_group", "compare_view", "latency"),
                ("number_input", "compare_repeats", 3), ("button_group", "compare_view", "stages"),
                ("number_input", "compare_batch", 8)],
    "practice": [("slider", "practice_count", 5)],
    "explain": [("slider", "explain_alpha", 0.3)],
}


@pytest.mark.parametrize("name", list(STEPS))
def test_a_rerun_sets_no_widget_the_user_did_not_touch(name):
    """Language switch, presentation toggle, hidden-block sliders, a view's own widgets: values kept
    for a later run must not be re-sent for widgets that stay drawn (before: DenseNet re-set its
    four block sliders, the language switch and the presentation toggle on every step)."""
    app = page(name).run()
    drawn = {el.key for el in _widgets(app)}
    app.run()
    assert widgets_set_again(app, drawn) == []
    for kind, key, value in STEPS[name]:
        drawn = {el.key for el in _widgets(app)}
        getattr(app, kind)(key=key).set_value(value).run()
        assert not app.exception
        assert widgets_set_again(app, drawn) == [], (kind, key)
    if name == "densenet":  # the hidden block's value came back (persist_state)
        assert app.slider(key="block_4").value == 16
