"""The Explain page under Streamlit's AppTest, on the offline efficientnet_lite0 and the samples."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers.apptest import PAGES, drawn_bars, metric, prediction_bars

PAGE = str(PAGES / "explain.py")


def test_sample_is_classified(explain_app):
    assert not explain_app.exception and not explain_app.error
    assert metric(explain_app, "Top prediction").value == "Egyptian cat"
    assert metric(explain_app, "Explained class").value == "Egyptian cat (285)"
    assert explain_app.get("plotly_chart") == [] and len(explain_app.get("image")) == 2
    bars = prediction_bars(explain_app)  # Vega-Lite: a first visit loads no plotly script
    assert bars["label"][0] == "Egyptian cat (285)" and bars["explained"][0] is True and not any(bars["explained"][1:])
    assert bars["p"] == sorted(bars["p"], reverse=True) and 0 < sum(bars["p"]) <= 1 + 1e-6 and len(bars["p"]) == 5
    assert len(explain_app.get("download_button")) == 3
    drawn = drawn_bars(explain_app)  # best on top (issue #23)
    assert drawn[0][0] == "Egyptian cat (285)" and [p for _, p in drawn] == sorted(bars["p"], reverse=True)
    explain_app.selectbox(key="explain_sample").set_value("coffee").run()
    assert metric(explain_app, "Top prediction").value == "espresso"
    drawn = drawn_bars(explain_app)  # a rerun with other classes: still best on top
    assert drawn[0][0].startswith("espresso (") and [p for _, p in drawn] == sorted((p for _, p in drawn), reverse=True)


def test_class_search_and_side_by_side(explain_app):
    explain_app.text_input(key="explain_class_query").set_value("tabby").run()
    assert metric(explain_app, "Explained class").value == "tabby (281)"
    explain_app.radio(key="explain_compare").set_value("layer").run()
    assert not explain_app.exception and not explain_app.error
    assert len(explain_app.get("image")) == 4


def test_unavailable_model_keeps_the_page_usable(explain_app, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # nothing downloaded there
    explain_app.selectbox(key="explain_model").set_value("densenet161").run()
    assert not explain_app.exception
    assert any("needs its weights file densenet161-8d451a50.pth" in i.value for i in explain_app.info)
    assert any("EfficientNet-Lite0" in c.value for c in explain_app.caption)  # what is ready instead


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


@pytest.mark.slow
def test_models_load_and_explain_in_workers_not_the_server():
    """The page's explanation ran as a job: this process (the server) never loaded a model, and a
    rerun reuses the session's result without a new job."""
    from explorer import jobs
    from explorer.vision import classifier

    classifier._CACHE.clear()  # other tests load models in this process on purpose
    app = AppTest.from_file(PAGE, default_timeout=120)
    app.session_state["explain_model"] = "efficientnet_lite0"
    app.run()
    assert metric(app, "Top prediction").value == "Egyptian cat"
    assert not classifier._CACHE  # no model in the server process
    assert jobs.pending_sessions() == set()  # the job is over
    submitted = []
    real = jobs.submit
    jobs.submit = lambda *a, **k: submitted.append(a) or real(*a, **k)
    try:
        app.slider(key="explain_alpha").set_value(0.8).run()  # only the drawing changes
        assert submitted == [] and not app.exception
        app.selectbox(key="explain_method").set_value("guided_gradcam").run()
        assert [a[0].__name__ for a in submitted] == ["explain_pretrained"]
    finally:
        jobs.submit = real
    assert not classifier._CACHE


def test_uploads_are_decoded_in_a_job_and_counted_against_the_quota(monkeypatch):
    import io

    from PIL import Image

    from explorer.jobs import quota

    small = quota.UploadQuota(max_bytes=40_000, max_files=2)
    monkeypatch.setattr(quota, "UPLOADS", small)
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["explain_model"] = "efficientnet_lite0"
    at.session_state["explain_source"] = "upload"
    at.run()
    buffer = io.BytesIO()
    Image.open(Path(PAGE).parents[1] / "assets" / "chelsea.png").save(buffer, "JPEG", quality=80)
    jpeg = buffer.getvalue()
    assert len(jpeg) < 40_000
    at.file_uploader(key="explain_upload").upload("cat.jpg", jpeg, "image/jpeg").run()
    assert not at.exception and not at.error
    assert metric(at, "Top prediction").value == "Egyptian cat"
    (decoded,) = at.session_state["_decoded_image"].values()
    assert decoded.size == (451, 300)  # decoded by the job, kept for reruns
    assert small.held(next(iter(small.sessions()))) == (1, len(jpeg))
    big = jpeg + b"\x00" * 40_000  # over the session's 40,000 bytes
    at.file_uploader(key="explain_upload").upload("big.jpg", big, "image/jpeg").run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("big.jpg: the file is "), errors  # one line, by the server


def test_page_in_japanese():
    """Every word the Explain page (side by side on) and its chart draw is translated (#14)."""
    from tests.helpers.apptest import untranslated, visible_text

    texts = {}
    for lang in ("en", "ja"):
        at = AppTest.from_file(PAGE, default_timeout=120)
        at.query_params["lang"] = lang
        at.query_params["model"] = "efficientnet_lite0"
        at.query_params["side"] = "layer"
        at.run()
        assert not at.exception and not at.error
        (chart,) = at.get("vega_lite_chart")
        figure = json.dumps(json.loads(chart.proto.spec)["layer"], ensure_ascii=False)
        metrics = [m.label for m in at.metric] + [m.proto.body for m in at.metric]
        texts[lang] = visible_text(at) + metrics + [figure]
    assert untranslated(texts["en"]), "the detector finds English sentences"
    assert untranslated(texts["ja"]) == []
    assert {"最上位の予測", "説明したクラス", "この表示にかかった時間"} <= set(texts["ja"])
    assert any("上位 5 件の予測" in t for t in texts["ja"]) and "確率" in texts["ja"][-1]
