"""The Explain page's labels: no delta arrows on facts, this request's time, a note on the layer, a
search that matches nothing, a failed download in one plain line (AppTest, offline efficientnet_lite0)."""

from streamlit.proto.Metric_pb2 import Metric

from tests.helpers.apptest import metric


def captions(app) -> str:
    return "\n".join(c.value for c in app.caption)


def test_headline_facts_and_this_requests_time(explain_app):
    assert not explain_app.exception and not explain_app.error
    top = metric(explain_app, "Top prediction")
    assert top.value == "Egyptian cat" and top.delta.startswith("p = ")
    assert top.proto.direction == Metric.NONE  # a probability is not a change: no up-arrow
    time = metric(explain_app, "Time for this view")
    assert time.value.endswith(" s") and time.delta in (None, "")
    # a new session computes its first view in a job; this request's time includes it
    assert "Grad-CAM · bn2; computed now by a worker (" in captions(explain_app)
    explain_app.run()  # the same view again: this session's result, and said so (no job)
    assert "Grad-CAM · bn2; this session computed it before (that took " in captions(explain_app)


def test_the_chosen_layer_is_explained(explain_app):
    assert "bn2: EfficientNet-Lite0's last batch norm" in captions(explain_app)


def test_a_search_that_matches_nothing_says_so(explain_app):
    explain_app.text_input(key="explain_class_query").set_value("猫").run()
    assert not explain_app.exception
    assert any("No ImageNet class matches “猫”" in w.value for w in explain_app.warning)
    assert metric(explain_app, "Explained class").value == "Egyptian cat (285)"  # the top prediction


def test_a_failed_download_is_one_plain_line(explain_app, tmp_path, monkeypatch):
    from explorer.vision import download
    from explorer.vision.weights import WeightsError

    def offline(name, **kwargs):
        raise WeightsError(f"{name}: could not download densenet161-8d451a50.pth ([Errno -2] Name or service not "
                           f"known); download https://download.pytorch.org/models/densenet161-8d451a50.pth on a "
                           f"machine with internet and put it in {tmp_path}/hub/checkpoints")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(download, "fetch_weights", offline)
    explain_app.selectbox(key="explain_model").set_value("densenet161").run()
    explain_app.button(key="explain_download_densenet161").click().run()
    assert not explain_app.exception
    shown = [e.value for e in explain_app.error] + [i.value for i in explain_app.info]
    assert "Could not download the weights of DenseNet-161 (the details are in the server log). Try again later, " \
           "or choose a model that is ready." in shown
    assert not any("Errno" in text or str(tmp_path) in text for text in shown), shown
