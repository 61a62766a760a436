"""The Compare page under AppTest: a custom DenseNet added on the DenseNet page shows up in the
comparison with its exact numbers; the table agrees with torchvision's metadata; errors keep
the last good view; the sweep renders."""

from __future__ import annotations

import json
import re

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from explorer import profile
from explorer.models.densenet import DenseNetConfig

PAGES = Path(__file__).resolve().parents[2] / "pages"


def _page(name: str) -> AppTest:
    return AppTest.from_file(str(PAGES / name), default_timeout=180)


def comparison(at, display: bool = False) -> pd.DataFrame:
    """The page's two tables (what a model costs; how well and how fast it does) as one frame, one
    row per model, in the order shown: their values, or (``display``) their cells' text."""
    from streamlit import dataframe_util

    assert len(at.table) == 2, len(at.table)
    frames = [dataframe_util.convert_arrow_bytes_to_pandas_df(t.proto.arrow_data.styler.display_values)
              if display else getattr(t.value, "data", t.value) for t in at.table]
    assert list(frames[0].iloc[:, 0]) == list(frames[1].iloc[:, 0])  # the same models, in the same order
    return pd.concat([frames[0], frames[1].iloc[:, 1:]], axis=1)


@pytest.fixture(scope="module")
def custom_build():
    """Add a k=24 DenseNet-121 variant from the DenseNet page, as a user would."""
    at = _page("densenet.py")
    at.run()
    at.session_state["build_tools"] = True  # the tools box, opened
    at.slider(key="growth_rate").set_value(24).run()
    at.text_input(key="comparison_name").input("my-k24").run()
    at.button(key="add_to_comparison").click().run()
    assert not at.exception and not at.error
    return dict(at.session_state["comparison_builds"])


def test_custom_densenet_from_the_densenet_page_appears(custom_build):
    assert custom_build["my-k24"]["arch"] == "densenet"
    at = _page("compare.py")
    at.session_state["comparison_builds"] = custom_build
    at.session_state["compare_models"] = ["densenet121", "resnet50"]
    at.run()
    assert not at.exception and not at.error
    assert at.multiselect(key="compare_models").value == ["densenet121", "resnet50", "my-k24"]
    frame = comparison(at)
    assert list(frame["model"]) == ["my-k24", "densenet121", "resnet50"]  # the user's own build on top
    row = frame.set_index("model").loc["my-k24"]
    expected = profile(DenseNetConfig(growth_rate=24), batch_size=32)
    assert row["parameters"] == expected.params
    assert round(row["GMACs per image"] * 1e9) == expected.macs
    assert row["numbers"] == "analytic" and pd.isna(row["top-1 % (original recipe)"])  # not torchvision's weights


def test_table_matches_torchvision_metadata():
    at = _page("compare.py")
    at.session_state["compare_models"] = ["densenet121", "resnet50", "mobilenet_v2"]
    at.run()
    assert not at.exception and not at.error
    frame = comparison(at).set_index("model")
    # torchvision 0.29.1 weights: num_params, acc@1, acc@5 of IMAGENET1K_V1 (like with like) and of the
    # newer IMAGENET1K_V2 beside it, _file_size
    assert frame.loc["resnet50", "parameters"] == 25_557_032
    assert round(frame.loc["resnet50", "GMACs per image"] * 1e9) == 4_089_184_256
    assert frame.loc["resnet50", "top-1 % (original recipe)"] == 76.13
    assert frame.loc["resnet50", "top-5 % (original recipe)"] == 92.862
    assert frame.loc["resnet50", "top-1 % (newer recipe)"] == 80.858
    assert frame.loc["densenet121", "top-1 % (original recipe)"] == 74.434
    assert frame.loc["densenet121", "weights file (MB)"] == 30.845 and pd.isna(frame.loc["densenet121",
                                                                                          "top-1 % (newer recipe)"])
    assert frame.loc["mobilenet_v2", "parameters"] == 3_504_872
    assert frame.loc["mobilenet_v2", "top-1 % (original recipe)"] == 71.878
    assert frame.loc["mobilenet_v2", "top-1 % (newer recipe)"] == 72.154
    assert not any("_" in column for column in frame.columns)  # people's words, not code names
    text = "\n".join(m.value for m in at.markdown)
    assert "densenet121 has about a third of resnet50's parameters" in text
    assert "1.7 points lower top-1 (both original recipe)" in text  # the 6.4 came from mixed recipes
    assert "Fewest parameters: mobilenet_v2 (3.5 M)." in text
    captions = "\n".join(c.value for c in at.caption)
    assert "original recipes (like with like)" in captions
    at.radio(key="compare_accuracy").set_value("newest").run()
    frame = comparison(at).set_index("model")
    assert frame.loc["resnet50", "top-1 % (newest weights)"] == 80.858
    assert "recipes differ" in "\n".join(c.value for c in at.caption)


def test_table_cells_read_as_people_write_numbers():
    """What the browser shows (the Styler's display values): thousands separators, a dash where
    nothing is published, never "None"; the paper's Inception v3 figure cited with its source."""
    at = _page("compare.py")
    at.session_state["compare_models"] = ["densenet121", "inception_v3", "densenet264"]
    at.run()
    assert not at.exception and not at.error
    shown = comparison(at, display=True)
    shown = shown.set_index(shown.columns[0])
    assert list(shown.index) == ["densenet121", "inception_v3", "densenet264"]
    assert shown.loc["densenet121", "parameters"] == "7,978,856"  # sum(p.numel()) of torchvision's densenet121
    assert shown.loc["densenet264", "parameters"] == "33,337,704"  # DenseNet-264, k=32, recomputed (REFERENCE.md)
    assert shown.loc["densenet264", "top-1 % (original recipe)"] == "—"  # no published weights
    assert shown.loc["inception_v3", "top-1 % (paper)"] == "78.8"  # 100 - 21.2 % single-crop error
    text = shown.to_string()
    assert "None" not in text and "nan" not in text
    captions = "\n".join(c.value for c in at.caption)
    assert "inception_v3: the paper reports 78.8 % top-1 / 94.4 % top-5" in captions and "Szegedy" in captions


def test_empty_selection_shows_an_error_and_keeps_the_last_view():
    at = _page("compare.py")
    at.session_state["compare_models"] = ["densenet121", "densenet-40-k12"]
    at.run()
    at.multiselect(key="compare_models").set_value([]).run()
    assert not at.exception
    assert "choose at least one model" in at.error[0].value
    frame = at.table[0].value
    assert list(getattr(frame, "data", frame)["model"]) == ["densenet121", "densenet-40-k12"]


def _measure_latency(models: list[str], batch: int, rounds: int, budget: int, **state) -> AppTest:
    """Open the page with ``models``, press "Measure latency"."""
    at = _page("compare.py")
    at.session_state["compare_models"] = models
    at.session_state["compare_latency_batch"] = batch
    at.session_state["compare_repeats"] = rounds
    at.session_state["compare_budget"] = budget
    at.session_state["compare_view"] = "latency"
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.button(key="compare_measure_latency").click().run()
    assert not at.exception
    return at


@pytest.mark.slow
def test_latency_button_measures_in_a_job_and_labels_the_device():
    from explorer import jobs

    at = _measure_latency(["densenet-40-k12", "densenet-bc-100-k12"], batch=2, rounds=3, budget=100)
    assert not at.error
    table = at.dataframe[0].value  # the latency table (a grid; the comparison table is static)
    table = getattr(table, "data", table)
    assert sorted(table["batch"].unique()) == [1, 2] and len(table) == 4
    threads = jobs.runner().threads  # timed in a worker process, with the worker's threads
    words = f"{threads} thread" + ("s" if threads != 1 else "")  # "1 thread", "2 threads"
    assert set(table["device"]) == {f"cpu, {words}"} and set(table["rounds"]) == {3}
    frame = comparison(at)
    assert frame["forward ms at batch 1 (median)"].notna().all()
    assert frame["forward ms spread (middle half)"].str.contains("–").all()
    text = "\n".join(c.value for c in at.caption) + "\n".join(w.value for w in at.warning)
    assert "Median of 3 interleaved rounds after 1 warm-up run each" in text
    assert f"cpu with {words}" in text


@pytest.mark.slow
def test_latency_budget_and_refusal_are_one_line_each():
    # batch 16: 50 rounds take several seconds on any CPU, so the 1 s budget always stops them
    at = _measure_latency(["densenet-40-k12", "densenet-bc-100-k12"], batch=16, rounds=50, budget=1)
    assert not at.error
    said = [w.value for w in at.warning if "1 s time budget" in w.value]
    # after some rounds, or (the builds and warm-ups took the second: issue #24) saying plainly that none ran
    assert len(said) == 1 and re.match(r"Stopped by the 1 s time budget after [1-9]|No round was timed: building "
                                       r"and warming up the models took the whole 1 s time budget", said[0]), \
        [w.value for w in [*at.warning, *at.info, *at.success, *at.caption]]
    # A size that cannot fit is refused before anything is allocated (issue 11: 1024 px, batch 256).
    at = _measure_latency(["densenet121"], batch=256, rounds=5, budget=25, compare_size_mode="common",
                          compare_common_size=1024)
    # conv0's map: 64 x 512 x 512 floats = 67,108,864 bytes per image, three held, 256 images: 48 GiB
    assert len(at.error) == 1 and "densenet121 at batch 256 and 1024 px needs about 48 GiB" in at.error[0].value
    assert "reduce" in at.error[0].value


def vega_charts(at) -> list[tuple[dict, dict]]:
    """The page's Vega-Lite charts as sent: (spec, named datasets column by column)."""
    from tests.helpers.apptest import vega_data

    return [(json.loads(c.proto.spec), vega_data(c.proto)) for c in at.get("vega_lite_chart")]


def heatmap_of(at) -> str | None:
    """What the sweep's heatmap colours (its legend's first line); None when no heatmap is shown."""
    for spec, _data in vega_charts(at):
        color = spec["layer"][0]["encoding"].get("color", {})
        if "legend" in color:
            return color["legend"]["title"][0]
    return None


def accuracy_chart(at) -> tuple[dict, dict] | None:
    """The accuracy-vs-MACs bubble chart (Vega-Lite): (spec, its models' columns), or None."""
    return next(((spec, data["models"]) for spec, data in vega_charts(at) if "models" in data), None)


def test_sweep_renders_and_refuses_equal_axes():
    at = _page("compare.py")
    at.session_state["compare_models"] = ["densenet121"]
    at.run()
    assert not at.exception and not at.error
    # one comparison chart and one sweep chart at a time (the view selectors'), both Vega-Lite: a first
    # visit draws no plotly chart
    assert at.get("plotly_chart") == [] and len(at.get("vega_lite_chart")) == 2
    assert accuracy_chart(at) is not None and heatmap_of(at) == "parameters"
    at.segmented_control(key="sweep_view").set_value("activation_bytes").run()
    assert heatmap_of(at) == "training activations"
    assert _flat(at.query_params)["sweep_view"] == "activation_bytes"
    at.segmented_control(key="sweep_view").set_value("scatter").run()
    assert [c.proto.id.split("-")[-1] for c in at.get("plotly_chart")] == ["sweep_scatter"]
    assert heatmap_of(at) is None and accuracy_chart(at) is not None
    at.segmented_control(key="sweep_view").set_value("activation_bytes").run()
    at.selectbox(key="sweep_y").set_value("growth_rate").run()
    assert not at.exception
    assert any("two different" in e.value for e in at.error)


@pytest.mark.slow
def test_torchvision_models_are_measured_in_a_job_not_in_the_server(monkeypatch, tmp_path):
    """An uncached torchvision model is measured in a worker process (issue 11): measuring in the
    page's own process is made to fail here, and the numbers still arrive (and are kept)."""
    from explorer.analysis import torchvision_costs

    monkeypatch.setenv("EXPLORER_CACHE_DIR", str(tmp_path))  # nothing cached for the page's process
    torchvision_costs.clear_cache()

    def not_here(*_args, **_kwargs):
        raise AssertionError("measured in the server process")

    monkeypatch.setattr(torchvision_costs, "measure_torchvision", not_here)
    at = _page("compare.py")
    at.session_state["compare_models"] = ["resnet50", "densenet121"]
    at.run()
    assert not at.exception and not at.error
    frame = comparison(at).set_index("model")
    assert frame.loc["resnet50", "parameters"] == 25_557_032  # torchvision's num_params
    assert round(frame.loc["resnet50", "GMACs per image"] * 1e9) == 4_089_184_256  # its _ops, 4.09 GFLOPs
    assert torchvision_costs.is_cached("resnet50", 224)  # kept in this process for the next rerun
    assert frame.loc["resnet50", "numbers"] == "measured"  # filled in by the job, then drawn again
    assert frame["training activations at batch 32 (MiB)"].notna().all()
    torchvision_costs.clear_cache()


@pytest.fixture
def cold(monkeypatch, tmp_path):
    """A fresh machine: an empty measurement cache, and the page's jobs recorded, as (function,
    arguments); ``jobs.run`` decides what a job gives back: nothing at all (the page as it is shown
    while the job runs), or its real result, computed here."""
    from pages.ui import jobs as page_jobs
    from explorer.analysis import torchvision_costs

    monkeypatch.setenv("EXPLORER_CACHE_DIR", str(tmp_path))
    torchvision_costs.clear_cache()

    class Jobs(list):
        run = False

    jobs = Jobs()

    def record(fn, *args, cost, label="", key="job", **kwargs):
        jobs.append((fn.__name__, args))
        return fn(*args, **kwargs) if jobs.run else []

    monkeypatch.setattr(page_jobs, "run_job", record)
    yield jobs
    torchvision_costs.clear_cache()


def test_a_fresh_machine_shows_the_tables_at_once_with_published_numbers(cold):
    """Issue #23: no measurement cache. The tables come first, with what torchvision's weights
    metadata gives (num_params; _ops, GMACs, at the native size: torchvision.models.get_weight
    ("ResNet50_Weights.IMAGENET1K_V1").meta gives 25,557,032 and 4.089; MobileNet_V2 3,504,872 and
    0.301), "measuring…" where only the measurement tells; the models are measured in one job
    (recorded here, not run: this is the page while it runs). No error, and the charts are drawn."""
    from torchvision.models import get_weight

    at = _page("compare.py")
    at.query_params["models"] = "resnet50,mobilenet_v2,densenet121"
    at.run()
    assert not at.exception and not at.error
    for name, params, gmacs in (("resnet50", 25_557_032, 4.089), ("mobilenet_v2", 3_504_872, 0.301)):
        meta = get_weight(f"{'ResNet50' if name == 'resnet50' else 'MobileNet_V2'}_Weights.IMAGENET1K_V1").meta
        assert (meta["num_params"], meta["_ops"]) == (params, gmacs)
    values, shown = comparison(at).set_index("model"), comparison(at, display=True).set_index("model")
    assert values.loc["resnet50", "parameters"] == 25_557_032 and values.loc["mobilenet_v2", "parameters"] == 3_504_872
    assert values.loc["resnet50", "GMACs per image"] == pytest.approx(4.089)
    assert shown.loc["resnet50", "GMACs per image"] == "4.09" and shown.loc["resnet50", "parameters"] == "25,557,032"
    assert shown.loc["resnet50", "training activations at batch 32 (MiB)"] == "measuring…"
    assert shown.loc["resnet50", "numbers"] == "published; measuring…"
    assert shown.loc["densenet121", "numbers"] == "analytic"  # the project's own preset: nothing to wait for
    assert shown.loc["densenet121", "training activations at batch 32 (MiB)"] == "3,978.6"
    assert cold == [("measure_torchvision_models", (["resnet50", "mobilenet_v2"], None))]  # one job for both
    assert accuracy_chart(at) is not None  # the bubbles from the published numbers meanwhile


@pytest.mark.slow
def test_a_new_common_size_measures_every_pending_model_in_one_job(cold):
    """Issue #23: ?size=131 (a size nothing is cached at) measured one model per reload (one job
    each, in a loop that broke on its second Cancel button). Now one job measures them all, and the
    page is drawn again with the numbers; params stay torchvision's num_params."""
    cold.run = True
    at = _page("compare.py")
    at.query_params.update({"models": "resnet50,mobilenet_v2,efficientnet_b0", "size": "131"})
    at.run()
    assert not at.exception and not at.error
    assert cold == [("measure_torchvision_models", (["resnet50", "mobilenet_v2", "efficientnet_b0"], 131))]
    frame = comparison(at).set_index("model")
    assert set(frame["numbers"]) == {"measured"} and set(frame["input (px)"]) == {131}
    assert frame.loc["resnet50", "parameters"] == 25_557_032 and frame.loc["efficientnet_b0", "parameters"] == 5_288_548
    assert frame["GMACs per image"].notna().all() and frame["training activations at batch 32 (MiB)"].notna().all()
    at.run()  # a reload measures nothing more
    assert len(cold) == 1 and not at.error


def _flat(query) -> dict:
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in dict(query).items()}


def test_sweep_settings_land_in_the_address_and_survive_a_page_change():
    """The sweep is a fragment (its controls rerun only it), and it still writes the page's address
    and keeps its settings for the session (issue 12)."""
    app = AppTest.from_file(str(PAGES.parent / "streamlit_app.py"), default_timeout=180).run()
    app.switch_page("pages/compare.py").run()
    assert not app.exception
    app.slider(key="sweep_steps").set_value(12).run()
    app.selectbox(key="sweep_y").set_value("input_size").run()
    app.slider(key="sweep_range_densenet_growth_rate").set_value((12, 40)).run()
    assert not app.exception and not app.error
    query = _flat(app.query_params)
    assert (query["sweep_steps"], query["sweep_y"], query["sweep_xr"]) == ("12", "input_size", "12,40")
    assert "sweep" not in query and "sweep_x" not in query  # defaults stay out of the address
    app.switch_page("pages/densenet.py").run()
    app.switch_page("pages/compare.py").run()
    assert not app.exception
    assert app.slider(key="sweep_steps").value == 12 and app.selectbox(key="sweep_y").value == "input_size"
    assert app.slider(key="sweep_range_densenet_growth_rate").value == (12, 40)
    query = _flat(app.query_params)
    assert (query["sweep_steps"], query["sweep_y"], query["sweep_xr"]) == ("12", "input_size", "12,40")
    # the share box, drawn by the fragment in the side panel, shows the same address once opened
    app.session_state["share_box"] = True
    app.run()
    share = next(e for e in app.sidebar.expander if e.label.startswith("🔗 Share this view"))
    assert "sweep_steps=12" in share.code[0].value and "sweep_xr=12,40" in share.code[0].value


def test_a_one_point_pareto_front_is_explained_not_drawn():
    """DenseNet-121 over k 8..64 x theta 0.05..1: the smallest k and theta have both the fewest
    params and the fewest MACs, so there is no front; the page says which config and why."""
    from explorer.units import format_count, format_macs

    at = _page("compare.py")
    at.session_state["compare_models"] = ["densenet121"]
    at.session_state["sweep_view"] = "scatter"
    at.run()
    assert not at.exception
    text = "\n".join(c.value for c in at.caption)
    cheapest = profile(DenseNetConfig(growth_rate=8, compression=0.05))
    assert (f"No Pareto front here: one config, growth rate k = 8 and compression θ = 0.05, has both the fewest "
            f"parameters ({format_count(cheapest.params)}) and the fewest MACs ({format_macs(cheapest.macs)})") in text
    assert "on the Pareto front" not in text


def test_presentation_mode_enlarges_the_compare_charts_and_tables():
    import json

    at = _page("compare.py")
    at.session_state["compare_models"] = ["densenet121", "resnet50"]
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception and not at.error
    accuracy, _models = accuracy_chart(at)
    assert accuracy["config"]["axis"]["labelFontSize"] == 21  # 14 px x 1.5
    assert accuracy["layer"][1]["mark"]["fontSize"] == 18  # the model names: 12 px x 1.5
    heatmap = next(spec for spec, data in vega_charts(at) if "models" not in data)
    assert heatmap["config"]["axis"]["labelFontSize"] == heatmap["config"]["legend"]["labelFontSize"] == 21
    at.segmented_control(key="sweep_view").set_value("scatter").run()
    scatter = next(c for c in at.get("plotly_chart") if c.proto.id.endswith("sweep_scatter"))
    assert json.loads(scatter.proto.spec)["layout"]["font"]["size"] == 21
    assert len(at.table) == 2 and not at.dataframe  # the tables as HTML, whose text the page's style enlarges
    header = list(at.table[0].value.columns)
    # the numbers first (what a phone shows without scrolling the table), the words last
    assert header[:3] == ["model", "input (px)", "parameters"] and header[-2:] == ["numbers", "key idea"]


def test_sort_by_puts_the_best_first_and_travels_in_the_address():
    """Fewest parameters first (torchvision: GoogLeNet 6,624,904 < DenseNet-121 7,978,856 <
    ResNet-50 25,557,032); highest top-1 first (IMAGENET1K_V1: ResNet-50 76.130 > DenseNet-121
    74.434 > GoogLeNet 69.778); a link brings the order back."""
    at = _page("compare.py")
    at.session_state["compare_models"] = ["resnet50", "densenet121", "googlenet"]
    at.run()
    assert at.table[0].value["model"].tolist() == ["resnet50", "densenet121", "googlenet"]  # as chosen
    at.selectbox(key="compare_sort").set_value("params").run()
    assert at.table[0].value["model"].tolist() == ["googlenet", "densenet121", "resnet50"]
    assert at.table[0].value["parameters"].tolist() == [6_624_904, 7_978_856, 25_557_032]
    assert _flat(at.query_params)["sort"] == "params"
    at.selectbox(key="compare_sort").set_value("top1").run()
    assert at.table[0].value["model"].tolist() == ["resnet50", "densenet121", "googlenet"]

    linked = _page("compare.py")
    linked.query_params.update({"models": "resnet50,densenet121,googlenet", "sort": "params"})
    linked.run()
    assert not linked.warning and linked.table[0].value["model"].tolist() == ["googlenet", "densenet121", "resnet50"]


def test_a_build_name_in_the_html_table_shows_as_typed(custom_build):
    """st.table renders its cells as Markdown: a build named with Markdown and HTML must show its
    characters, not a link, bold text or a tag (the name is escaped, never interpreted)."""
    name = "**bold** [link](https://example.com) <b>x</b>"
    at = _page("compare.py")
    at.session_state["comparison_builds"] = {name: custom_build["my-k24"]}
    at.session_state["compare_models"] = ["densenet121", name]
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception and not at.error
    shown = at.table[0].value["model"].tolist()
    # (a word joiner, invisible, inside "://": the bare address does not become a link either)
    assert "\\*\\*bold\\*\\* \\[link\\](https\\:\u2060//example.com) \\<b\\>x\\</b\\>" in shown, shown
    assert name not in shown and "densenet121" in shown


def test_compare_in_japanese_has_the_same_numbers_and_no_english_sentence():
    """The page's own words in Japanese (the shared side-panel helpers are checked with every page
    in tests/app/test_teach_pages.py); the numbers are the same in both languages."""
    from tests.helpers.apptest import untranslated, visible_text

    def open_in(lang):
        at = _page("compare.py")
        at.query_params.update({"lang": lang, "models": "densenet121,resnet50,mobilenet_v2"})
        return at.run()

    english, japanese = open_in("en"), open_in("ja")
    assert not japanese.exception and not japanese.error
    shared = ("phone-only", "Copy this address", "Presentation mode")  # drawn by pages/ helpers, not this page
    left = untranslated([t for t in visible_text(japanese) if not any(s in t for s in shared)])
    assert left == [], left
    en_frame, ja_frame = (a.table[0].value for a in (english, japanese))
    assert list(ja_frame.columns[:3]) == ["モデル", "入力（px）", "パラメータ数"]
    assert list(ja_frame.columns[-2:]) == ["数値の出所", "要点"]
    assert list(ja_frame["パラメータ数"]) == list(en_frame["parameters"]) == [7_978_856, 25_557_032, 3_504_872]
    assert list(ja_frame["要点"])[:2] == ["連結：各層がブロック内のそれまでのすべての特徴マップを読む",
                                          "残差の加算：y = F(x) + x、ボトルネックブロック"]
    text = "\n".join(m.value for m in japanese.markdown)
    assert "パラメータ数が最少：mobilenet_v2（3.5 M）。" in text
    assert "top-1 が 1.7 ポイント低い（どちらも原論文のレシピ）" in text  # 76.13 - 74.434, as in English


def test_one_comparison_view_at_a_time_and_settings_kept_across_views():
    at = _page("compare.py")
    at.session_state["compare_models"] = ["densenet121", "resnet50"]
    at.run()
    at.segmented_control(key="compare_view").set_value("latency").run()
    at.number_input(key="compare_latency_batch").set_value(4).run()
    assert _flat(at.query_params)["view"] == "latency" and _flat(at.query_params)["lat_batch"] == "4"
    for view, chart in (("size", "compare_chart_size"), ("memory", "compare_chart_memory"),
                        ("stages", "compare_chart_stages"), ("accuracy", "compare_chart_accuracy")):
        at.segmented_control(key="compare_view").set_value(view).run()
        assert not at.exception
        charts = [c.proto.id.split("-")[-1] for c in at.get("plotly_chart")]
        if view == "accuracy":  # the one Vega-Lite comparison chart
            assert accuracy_chart(at) is not None and not any(c.startswith("compare_chart_") for c in charts)
            continue
        assert accuracy_chart(at) is None
        assert charts[0] == chart and not any(c.startswith("compare_chart_") for c in charts[1:]), charts
    at.segmented_control(key="compare_view").set_value("latency").run()
    assert at.number_input(key="compare_latency_batch").value == 4  # kept while other views were shown
    assert "view" in _flat(at.query_params) and _flat(at.query_params)["lat_batch"] == "4"


def test_accuracy_chart_shows_torchvisions_published_numbers():
    """Each bubble sits at torchvision's own figures for the weights compared (IMAGENET1K_V1: acc@1,
    _ops in GFLOPS, which torchvision counts as multiply-accumulates, and num_params); its area
    grows with the parameters from zero (a linear size scale starting at 0)."""
    from torchvision.models import DenseNet121_Weights, GoogLeNet_Weights, ResNet50_Weights

    from tests.helpers.apptest import chart_title

    at = _page("compare.py")
    at.session_state["compare_models"] = ["densenet121", "resnet50", "googlenet"]
    at.run()
    spec, models = accuracy_chart(at)
    for name, weights in (("densenet121", DenseNet121_Weights.IMAGENET1K_V1),
                          ("resnet50", ResNet50_Weights.IMAGENET1K_V1), ("googlenet", GoogLeNet_Weights.IMAGENET1K_V1)):
        i = models["model"].index(name)
        assert models["top1"][i] == pytest.approx(weights.meta["_metrics"]["ImageNet-1K"]["acc@1"], abs=1e-9), name
        assert models["gmacs"][i] == pytest.approx(weights.meta["_ops"], abs=5e-4), name  # _ops has 3 decimals
        assert models["params"][i] == weights.meta["num_params"], name
    size = spec["layer"][0]["encoding"]["size"]
    assert size["field"] == "params" and size["scale"]["zero"] is True and size["scale"]["range"][0] == 0
    assert models["params_text"][models["model"].index("resnet50")] == "25.6 M"
    assert "original training recipes: like with like" in chart_title(at)
