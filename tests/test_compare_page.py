"""The Compare page under AppTest: a custom DenseNet added on the DenseNet page shows up in the
comparison with its exact numbers; the table agrees with torchvision's metadata; errors keep
the last good view; the sweep renders."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from explorer import profile
from explorer.models.densenet import DenseNetConfig

PAGES = Path(__file__).resolve().parents[1] / "pages"


def _page(name: str) -> AppTest:
    return AppTest.from_file(str(PAGES / name), default_timeout=180)


@pytest.fixture(scope="module")
def custom_build():
    """Add a k=24 DenseNet-121 variant from the DenseNet page, as a user would."""
    at = _page("densenet.py")
    at.run()
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
    frame = at.dataframe[0].value.data if hasattr(at.dataframe[0].value, "data") else at.dataframe[0].value
    row = frame.set_index("model").loc["my-k24"]
    expected = profile(DenseNetConfig(growth_rate=24), batch_size=32)
    assert round(row["params (M)"] * 1e6) == expected.params
    assert round(row["GMACs"] * 1e9) == expected.macs
    assert row["numbers"] == "analytic" and pd.isna(row["top-1 %"])  # not torchvision's weights


def test_table_matches_torchvision_metadata():
    at = _page("compare.py")
    at.session_state["compare_models"] = ["densenet121", "resnet50", "mobilenet_v2"]
    at.run()
    assert not at.exception and not at.error
    frame = at.dataframe[0].value
    frame = getattr(frame, "data", frame).set_index("model")
    # torchvision 0.29.1 DEFAULT weights: num_params, acc@1, acc@5, _file_size
    assert round(frame.loc["resnet50", "params (M)"] * 1e6) == 25_557_032
    assert round(frame.loc["resnet50", "GMACs"] * 1e9) == 4_089_184_256
    assert frame.loc["resnet50", "top-1 %"] == 80.858 and frame.loc["resnet50", "top-5 %"] == 95.434
    assert frame.loc["densenet121", "top-1 %"] == 74.434 and frame.loc["densenet121", "file (MB)"] == 30.845
    assert round(frame.loc["mobilenet_v2", "params (M)"] * 1e6) == 3_504_872
    assert frame.loc["mobilenet_v2", "top-1 %"] == 72.154
    text = "\n".join(m.value for m in at.markdown)
    assert "densenet121 has about a third of resnet50's parameters" in text
    assert "Fewest parameters: mobilenet_v2 (3.5 M)." in text


def test_empty_selection_shows_an_error_and_keeps_the_last_view():
    at = _page("compare.py")
    at.session_state["compare_models"] = ["densenet121", "densenet-40-k12"]
    at.run()
    at.multiselect(key="compare_models").set_value([]).run()
    assert not at.exception
    assert "choose at least one model" in at.error[0].value
    frame = at.dataframe[0].value
    assert list(getattr(frame, "data", frame)["model"]) == ["densenet121", "densenet-40-k12"]


def test_latency_button_measures_and_labels_the_device():
    import torch

    at = _page("compare.py")
    at.session_state["compare_models"] = ["densenet-40-k12", "densenet-bc-100-k12"]
    at.session_state["compare_latency_batch"] = 2
    at.session_state["compare_repeats"] = 2
    at.run()
    at.button(key="compare_measure_latency").click().run()
    assert not at.exception and not at.error
    table = at.dataframe[1].value  # the latency table follows the comparison table
    assert sorted(table["batch"].unique()) == [1, 2] and len(table) == 4
    assert set(table["device"]) == {f"cpu, {torch.get_num_threads()} threads"}
    frame = at.dataframe[0].value
    assert getattr(frame, "data", frame)["ms @1"].notna().all()


def test_sweep_renders_and_refuses_equal_axes():
    at = _page("compare.py")
    at.session_state["compare_models"] = ["densenet121"]
    at.run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) >= 8  # 4 comparison charts, 3 heatmaps, the scatter
    at.selectbox(key="sweep_y").set_value("growth_rate").run()
    assert not at.exception
    assert any("two different" in e.value for e in at.error)
