"""The Explain page under Streamlit's AppTest, on the offline efficientnet_lite0 and the samples."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "explain.py")


@pytest.fixture
def app():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["explain_model"] = "efficientnet_lite0"
    return at.run()


def metric(app, label):
    return next(m for m in app.metric if m.label == label)


def test_sample_is_classified(app):
    assert not app.exception and not app.error
    assert metric(app, "Top prediction").value == "Egyptian cat"
    assert metric(app, "Explained class").value == "Egyptian cat (285)"
    assert len(app.get("plotly_chart")) == 1 and len(app.get("image")) == 2
    assert len(app.get("download_button")) == 3
    app.selectbox(key="explain_sample").set_value("coffee").run()
    assert metric(app, "Top prediction").value == "espresso"


def test_class_search_and_side_by_side(app):
    app.text_input(key="explain_class_query").set_value("tabby").run()
    assert metric(app, "Explained class").value == "tabby (281)"
    app.radio(key="explain_compare").set_value("Another layer").run()
    assert not app.exception and not app.error
    assert len(app.get("image")) == 4


def test_unavailable_model_keeps_the_page_usable(app, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # nothing downloaded there
    app.selectbox(key="explain_model").set_value("densenet161").run()
    assert not app.exception
    assert any("needs its weights file densenet161-8d451a50.pth" in i.value for i in app.info)
    assert any("EfficientNet-Lite0" in c.value for c in app.caption)  # what is ready instead


def test_corrupt_weights_offer_a_new_download(tmp_path, monkeypatch):
    from explorer.vision.download import forget_failures
    from explorer.vision.loading import load_weights
    from explorer.vision.weights import WeightsError

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    (folder / "densenet161-8d451a50.pth").write_bytes(b"not a weights file")
    try:
        with pytest.raises(WeightsError, match="corrupt"):  # what any session's load would hit first
            load_weights("densenet161", device="cpu")
        app = AppTest.from_file(PAGE, default_timeout=120)
        app.session_state["explain_model"] = "densenet161"
        app.run()
        assert not app.exception
        assert [e.value for e in app.error] == ["DenseNet-161 is unavailable: corrupt: re-download"]
        assert [b.label for b in app.button] == ["Download densenet161-8d451a50.pth again"]
        assert any("EfficientNet-Lite0" in c.value for c in app.caption)  # what is ready instead
    finally:
        forget_failures()
