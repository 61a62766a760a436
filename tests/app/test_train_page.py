"""The Train & observe page on its own under AppTest. Training runs as a job of the job layer
(the process-wide pool of worker processes): the page starts it, shows its progress and live
curves while it runs, and ends with the session's model kept as safetensors bytes in
``st.session_state["trained_model_file"]`` (what the Explain page reads); Stop keeps the model
trained so far, Cancel keeps nothing. Reuse heatmaps, memory answers and feature maps of the
kept model."""

import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.training import load_model

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "train.py")


def _tiny(app, epochs=1):
    app.session_state["train_image_size"] = 16
    app.session_state["train_depth"] = 10
    app.session_state["train_growth"] = 2
    app.session_state["train_epochs"] = epochs
    return app


def _progress_texts(app) -> list[str]:
    return [p.proto.text for p in app.get("progress")]


def _wait(app, seconds=300, until=lambda app: app.session_state["train_job"] is None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.run()
        assert not app.exception
        if until(app):
            return app
        time.sleep(0.3)
    raise AssertionError("timed out")


def test_page_runs_without_a_model():
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not app.exception
    assert app.button(key="train_start").label == "Train"
    assert "trained_model_file" not in app.session_state
    app.session_state["train_view"] = "memory"
    app.run()
    # The memory view answers for the default model (DenseNet-BC L=40 k=12) right away.
    text = " ".join(m.value for m in app.markdown)
    assert "A training step at batch 64 needs" in text and "Largest batch" in text


@pytest.mark.slow
def test_train_shows_progress_then_keeps_the_model_and_its_views():
    # 100 epochs (the most the page offers) of a tiny model, ended by a 6 s time budget: long
    # enough to be seen running on an idle machine (~5 epochs a second), short on a busy one.
    app = _tiny(AppTest.from_file(PAGE, default_timeout=120), epochs=100).run()
    app.session_state["train_budget"] = 6
    app.button(key="train_start").click().run()
    assert not app.exception and not app.error
    assert app.button(key="train_start").disabled  # one training at a time per session
    # While it runs: a progress bar whose line says epoch, step and time left, and the live curves.
    # 100 x 23 steps asked, until the run is planned from its speed to the steps that fit in 6 s:
    # the line then counts the re-planned epochs, and the plan says what the budget allows.
    _wait(app, until=lambda app: any("re-planned" in t for t in _progress_texts(app)))
    assert any(re.fullmatch(r"epoch \d+ of about \d+(\.\d)? \(re-planned from 100 for the time budget\), step \d+/\d+, "
                            r"loss \d\.\d{3}, \d+ s elapsed, about \d+ s left", t)
               for t in _progress_texts(app)), _progress_texts(app)
    assert any(re.fullmatch(r"Planned from the speed measured now \([\d.]+ steps/s\): the 6 s time budget allows about "
                            r"\d+(\.\d)? of the 100 epochs asked \(\d+ steps\)\..*", m.value)
               for kind in (app.info, app.warning) for m in kind), [m.value for m in app.info]
    assert len(app.get("plotly_chart")) == 1  # the live curves
    _wait(app)
    assert not app.error
    kept = app.session_state["trained_model_file"]
    assert kept["name"] == "densenet-digits-L10-k2.safetensors"
    loaded = load_model(kept["data"], kept["name"])  # strict: every tensor of the live model
    assert (loaded.config.depth, loaded.config.growth_rate, loaded.config.input_size) == (10, 2, 16)
    run = app.session_state["train_run"]
    assert run["stopped_by"] == "time budget" and [h["epoch"] for h in run["history"]] == list(
        range(1, run["epochs"] + 1))
    assert loaded.info["val_accuracy"] == run["val_accuracy"]
    assert [b.label for b in app.get("download_button")] == ["Download weights (.safetensors, config in the metadata)"]
    assert not app.button(key="train_start").disabled
    assert len(app.get("plotly_chart")) == 1  # the curves of the finished run
    # Feature reuse: one heatmap per dense block (3).
    app.session_state["train_view"] = "reuse"
    app.run()
    assert not app.exception and not app.error and len(app.get("plotly_chart")) == 3
    # Memory: the session model's config.
    app.session_state["train_view"] = "memory"
    app.run()
    assert "For the session model: DenseNet-BC, L=10, k=2, 16 px." in [m.value for m in app.markdown]
    # Feature maps of block 1: block input, its one layer, transition1.
    app.session_state["train_view"] = "maps"
    app.run()
    assert not app.exception and not app.error and len(app.get("plotly_chart")) == 3
    assert "Image 0: a 0" in [c.value for c in app.caption]  # sklearn's digits[0] is a 0


@pytest.mark.slow
def test_stop_keeps_the_model_trained_so_far_and_cancel_keeps_nothing():
    app = _tiny(AppTest.from_file(PAGE, default_timeout=120), epochs=100).run()
    app.session_state["train_budget"] = 300
    app.button(key="train_start").click().run()
    _wait(app, until=lambda app: any("step" in t for t in _progress_texts(app)))
    app.button(key="train_stop").click().run()
    assert not app.exception
    _wait(app)
    run = app.session_state["train_run"]
    assert run["stopped_by"] == "stop" and 1 <= run["epochs"] < 100
    assert load_model(app.session_state["trained_model_file"]["data"]).info["stopped_by"] == "stop"
    first = app.session_state["trained_model_file"]
    # Cancel: the worker is killed, the page says so and the earlier model stays.
    app.button(key="train_start").click().run()
    _wait(app, until=lambda app: app.session_state["train_job"].progress().state == "running")
    job = app.session_state["train_job"]
    app.button(key="train_cancel").click().run()
    _wait(app)
    assert job.progress().state == "cancelled"
    assert [i.value for i in app.info] == ["Training cancelled; nothing was kept."]
    assert app.session_state["trained_model_file"] is first


@pytest.mark.slow
def test_the_budget_input_offers_only_what_one_job_may_run():
    """The server runs one job for at most 600 s (``limits.MAX_JOB_SECONDS``); a job that keeps its
    own budget gets 1.25x its estimate plus 10 s, and training adds 10 s of setup to its budget:
    (600 - 10) / 1.25 - 10 = 462 s. A link asking for more gets the default, with a note."""
    from explorer.jobs import limits
    from explorer.training import default_config, work

    assert (limits.MAX_JOB_SECONDS, limits.MIN_SECONDS, limits.BOUNDED_FACTOR) == (600.0, 10.0, 1.25)
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    box = app.number_input(key="train_budget")
    assert (box.min, box.max, box.value) == (5, 462, 120)
    # The job layer agrees: a 462 s budget is accepted, 463 s refused.
    limits.limits_for(work.train_cost(default_config(), work.DIGITS_IMAGES, 462))
    with pytest.raises(limits.JobRefused, match="one job may run at most 472 s here"):
        limits.limits_for(work.train_cost(default_config(), work.DIGITS_IMAGES, 463))
    link = AppTest.from_file(PAGE, default_timeout=60)
    link.query_params["budget"] = "600"
    link.run()
    assert not link.exception and link.number_input(key="train_budget").value == 120  # the default, and a note
    assert any("budget" in e.value for kind in (link.warning, link.info, link.caption) for e in kind)


def _refuse_by_memory(monkeypatch):
    """This server lets one job use 512 MiB of headroom + 1.5 x 64 MiB: at most 64 MiB of estimate,
    less than a training step of the default model at batch 64 needs."""
    from explorer.jobs import limits

    monkeypatch.setattr(limits, "MAX_JOB_BYTES", 512 * 2**20 + int(1.5 * 64 * 2**20))


def test_a_job_that_cannot_fit_is_refused_with_one_line(monkeypatch):
    _refuse_by_memory(monkeypatch)
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    app.button(key="train_start").click().run()
    assert not app.exception
    [error] = [e.value for e in app.error]
    assert re.fullmatch(r"this needs about [\d.]+ MiB of memory; one job may use at most 64 MiB here: reduce the "
                        r"depth, the growth rate, the image size or the time budget", error), error
    assert app.session_state.get("train_job") is None


def test_bad_upload_is_one_line():
    from explorer.training.weights import WeightsFileError

    with pytest.raises(WeightsFileError):
        load_model(b"garbage", "x.safetensors")


def _chart_spec(app, key: str) -> dict:
    import json

    return next(json.loads(c.proto.spec) for c in app.get("plotly_chart") if c.proto.id.endswith(key))


def test_presentation_mode_enlarges_the_charts():
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.session_state["train_view"] = "memory"
    app.run()
    normal = _chart_spec(app, "train_footprint")["layout"]
    assert normal["font"]["size"] == 14  # explorer.charts.style.FONT_SIZE
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.query_params["present"] = "1"
    app.session_state["train_view"] = "memory"
    app.run()
    assert not app.exception and app.toggle(key="presentation_toggle").value is True
    big = _chart_spec(app, "train_footprint")["layout"]
    assert big["font"]["size"] == 21 and big["xaxis"]["tickfont"]["size"] == 21  # 14 x 1.5


@pytest.mark.parametrize("view", ["train", "reuse", "memory", "maps"])
def test_every_view_in_japanese(view):
    """No English sentence in any view in Japanese (the layout's phone hint is the shared layout's)."""
    from tests.helpers.apptest import untranslated, visible_text

    from explorer.models.densenet import DenseNet
    from explorer.training import default_config, save_model

    config = default_config(10, 16).replace(growth_rate=2, num_init_features=4, block_config=(1, 1, 1))
    blob = save_model(DenseNet(config).state_dict(), config, [str(d) for d in range(10)], val_accuracy=0.5)
    app = AppTest.from_file(PAGE, default_timeout=120)
    app.query_params["lang"] = "ja"
    app.session_state["train_view"] = view
    app.session_state["trained_model_file"] = {"name": "mine.safetensors", "data": blob}  # as uploaded
    app.run()
    assert not app.exception and not app.error
    texts = [t for t in visible_text(app) if "phone-only" not in t]
    assert untranslated(texts) == []
    if view == "train":
        assert "データ" in [r.label for r in app.radio]
        assert "アップロード：mine.safetensors" in " ".join(m.value for m in app.markdown)
    if view == "memory":
        assert any(m.value.startswith("**バッチ 64 の学習ステップはピーク時") for m in app.markdown)
    if view in ("reuse", "maps"):
        assert len(app.get("plotly_chart")) == 3  # 3 blocks; block input, 1 layer, transition


def test_reuse_of_a_pretrained_densenet_when_its_weights_are_on_disk(tmp_path, monkeypatch):
    """With torchvision's DenseNet-121 checkpoint in the torch hub folder (random weights here),
    the reuse view offers it: one heatmap per dense block, the paper's 6, 12, 24 and 16 layers
    (each block's targets: its layers, then the transition, or the classifier for the last)."""
    import torch
    import torchvision

    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    torch.save(torchvision.models.densenet121().state_dict(), folder / "densenet121-a639ec97.pth")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    app = AppTest.from_file(PAGE, default_timeout=180)
    app.session_state["train_view"] = "reuse"
    app.run()
    assert not app.exception and not app.error
    assert app.radio(key="train_reuse_model").options == ["densenet121 (pretrained, torchvision)"]
    import json

    specs = [json.loads(c.proto.spec) for c in app.get("plotly_chart")]
    assert [len(s["data"][0]["y"]) for s in specs] == [7, 13, 25, 17]
    assert specs[3]["data"][0]["y"][-1] == "classifier" and specs[0]["data"][0]["y"][-1] == "transition1"


def test_the_refusal_in_japanese(monkeypatch):
    _refuse_by_memory(monkeypatch)
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.query_params["lang"] = "ja"
    app.run()
    app.button(key="train_start").click().run()
    [error] = [e.value for e in app.error]
    assert re.fullmatch(r"メモリが約 [\d.]+ MiB 必要だが、このサーバーで 1 つのジョブが使えるのは最大 64 MiB：深さ、成長率、画像サイズ、"
                        r"または時間の上限を減らす", error), error


@pytest.mark.parametrize("accuracy, warned", [(0.117, True), (0.549, True), (0.55, False), (0.983, False)])
def test_the_reuse_view_warns_for_a_barely_trained_model(accuracy, warned):
    """A model whose file says it reached under halfway from guessing (10 % for 10 classes) to
    100 %, i.e. under 55 %, shows too little training for its reuse to be read."""
    from explorer.models.densenet import DenseNet
    from explorer.training import default_config, save_model

    config = default_config(10, 16).replace(growth_rate=2, num_init_features=4, block_config=(1, 1, 1))
    blob = save_model(DenseNet(config).state_dict(), config, [str(d) for d in range(10)], val_accuracy=accuracy)
    app = AppTest.from_file(PAGE, default_timeout=120)
    app.session_state["train_view"] = "reuse"
    app.session_state["trained_model_file"] = {"name": "mine.safetensors", "data": blob}
    app.run()
    assert not app.exception and not app.error and len(app.get("plotly_chart")) == 3
    warnings = [w.value for w in app.warning]
    if warned:
        assert warnings == [f"This model is barely trained ({100 * accuracy:.1f} % validation accuracy; guessing gives "
                            "10 %): its weights are still mostly their random start, so this view shows too little "
                            "training to read. Train it longer, then look again."]
    else:
        assert warnings == []


@pytest.mark.slow
def test_training_starts_from_the_densenet_pages_build():
    """The DenseNet page keeps its live build; the Train page trains it with the CIFAR stem at the
    training image size: the file's model has the build's blocks, growth rate and widths."""
    from explorer.models.densenet import DenseNetConfig

    dense = AppTest.from_file(str(Path(PAGE).with_name("densenet.py")), default_timeout=60).run()
    dense.slider(key="growth_rate").set_value(4).run()
    build = dense.session_state["densenet_build"]
    assert build["growth_rate"] == 4 and build["block_config"] == [6, 12, 24, 16]

    app = AppTest.from_file(PAGE, default_timeout=120)
    app.session_state["densenet_build"] = {**build, "block_config": [1, 2], "num_init_features": 8}
    app.session_state["train_image_size"] = 16
    app.session_state["train_epochs"] = 1
    app.run()
    app.radio(key="train_model_source").set_value("builder").run()
    assert any("k = 4, blocks 1 + 2, θ = 0.5, with the CIFAR stem at 16 px" in c.value for c in app.caption)
    assert app.slider(key="train_growth").disabled  # the small model's settings are kept, not used
    app.button(key="train_start").click().run()
    _wait(app)
    model = load_model(app.session_state["trained_model_file"]["data"])
    assert model.config.block_config == (1, 2) and model.config.growth_rate == 4
    assert model.config.stem == "cifar" and model.config.input_size == 16
    # 8 stem channels, then 1 layer of k=4 -> 12, transition floor(0.5 * 12) = 6, then 2 layers -> 14
    assert model.model.classifier.in_features == 14
    assert isinstance(model.config, DenseNetConfig)


def test_training_settings_are_in_the_address_and_a_link_restores_them():
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    app.select_slider(key="train_depth").set_value(22).run()
    app.slider(key="train_growth").set_value(6).run()
    query = {k: (v[0] if isinstance(v, list) else v) for k, v in app.query_params.items()}
    assert query["depth"] == "22" and query["k"] == "6" and "epochs" not in query  # defaults stay out
    app.session_state["train_view"] = "memory"  # the training widgets are not drawn there
    app.run()
    app.session_state["train_view"] = "train"
    app.run()
    assert app.select_slider(key="train_depth").value == 22  # kept while another view was shown

    link = AppTest.from_file(PAGE, default_timeout=60)
    link.query_params["depth"], link.query_params["k"], link.query_params["theta"] = "22", "6", "0.3"
    link.run()
    assert not link.exception
    assert link.select_slider(key="train_depth").value == 22 and link.slider(key="train_growth").value == 6
    assert link.select_slider(key="train_compression").value == 0.5  # 0.3 is not offered: the default, and a note
    assert any("theta" in e.value for kind in (link.warning, link.info, link.caption) for e in kind)
