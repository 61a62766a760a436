"""The Train & observe page on its own under AppTest: train a tiny model to the end, stop one,
the reuse heatmaps, the memory answers and the feature maps of the kept model."""

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "train.py")


def _tiny(app):
    app.session_state["train_image_size"] = 16
    app.session_state["train_depth"] = 10
    app.session_state["train_growth"] = 2
    app.session_state["train_epochs"] = 1
    return app


def _wait(app, seconds=240):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.run()
        if "train_job" not in app.session_state or app.session_state["train_job"] is None:
            return app  # the page clears the job once it has kept the result
        time.sleep(0.5)
    raise AssertionError("training did not finish")


def test_page_runs_without_a_model():
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not app.exception
    assert any("Train" in b.label for b in app.button)
    # The memory tab answers for the default model (DenseNet-BC L=40 k=12) right away.
    text = " ".join(m.value for m in app.markdown)
    assert "A training step at batch 64 needs" in text and "Largest batch" in text


def test_train_then_reuse_memory_and_maps():
    app = _tiny(AppTest.from_file(PAGE, default_timeout=120)).run()
    app.button(key="train_start").click().run()
    assert not app.exception
    _wait(app)
    assert not app.exception and not app.error
    kept = app.session_state["train_model"]
    assert kept["config"].depth == 10 and kept["config"].growth_rate == 2 and kept["config"].input_size == 16
    assert [h["epoch"] for h in kept["history"]] == [1]
    assert app.get("download_button")  # the weights can be downloaded
    # Charts: the curves, one reuse heatmap per dense block (3), the memory bars and 3 feature-map
    # steps of block 1 (block input, its one layer, transition1).
    assert len(app.get("plotly_chart")) == 1 + 3 + 1 + 3
    # Feature maps: block input, 1 layer, transition for block 1.
    text = " ".join(m.value for m in app.markdown) + " ".join(c.value for c in app.caption)
    assert "Image 0: a 0" in text


def test_bad_upload_is_one_line():
    from explorer.training.weights import WeightsFileError, load_model

    with pytest.raises(WeightsFileError):
        load_model(b"garbage", "x.safetensors")
