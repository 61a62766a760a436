"""The Explain page with a DenseNet trained here (#15): a model made by the test (random DenseNet
features, its classifier fitted to the digits by least squares: ~90 % on the held-out digits in a
few seconds), saved with ``save_model`` as the Train page does, explains the bundled digit samples.
Expected values come from the test's own forward pass and its own Grad-CAM (hooks and autograd),
on the PNGs read with PIL, not from the code under test."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "explain.py")
DIGITS = ROOT / "assets" / "digits"


@pytest.fixture(scope="module")
def trained():
    """(file bytes, the live model, mean, std) of a digits DenseNet fitted by the test."""
    from explorer.models.densenet import DenseNet, DenseNetConfig
    from explorer.training.data import digits_dataset
    from explorer.training.weights import save_model

    data = digits_dataset()
    config = DenseNetConfig(growth_rate=8, block_config=(2, 2, 2), num_init_features=16, stem="cifar",
                            input_size=32, num_classes=10)
    torch.manual_seed(0)
    model = DenseNet(config).eval()
    with torch.no_grad():
        features = torch.nn.functional.adaptive_avg_pool2d(model.features(data.train_x), 1).flatten(1)
        x = torch.cat([features, torch.ones(len(features), 1)], 1).double()
        y = torch.nn.functional.one_hot(data.train_y, 10).double()
        w = torch.linalg.solve(x.T @ x + 1e-3 * torch.eye(x.shape[1], dtype=torch.double), x.T @ y)
        model.classifier.weight.copy_(w[:-1].T.float())
        model.classifier.bias.copy_(w[-1].float())
    blob = save_model(model.state_dict(), config, [str(d) for d in range(10)], data.mean, data.std,
                      val_accuracy=0.9, dataset="digits")
    return blob, model, data.mean, data.std


def sample_input(digit: int, mean, std) -> torch.Tensor:
    """The sample as training feeds it: grey 0-255 -> [0, 1] on three channels, normalised."""
    grey = np.asarray(Image.open(DIGITS / f"digit-{digit}.png"), dtype=np.float32) / 255
    x = torch.from_numpy(grey)[None].expand(3, -1, -1)
    return ((x - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None])[None]


def test_digit_samples_are_real_held_out_digits():
    from sklearn.datasets import load_digits

    from explorer.training.data import split_indices

    digits = load_digits()
    _, val = split_indices(digits.target, 0.2, 0)
    table = json.loads((DIGITS / "labels.json").read_text())
    assert sorted(v["label"] for v in table.values()) == list(range(10))
    for name, entry in table.items():
        index = entry["sklearn_index"]
        assert digits.target[index] == entry["label"] and index in val
        image = np.asarray(Image.open(DIGITS / name), dtype=np.float64)
        assert image.shape == (32, 32)
        # 8x8 -> 32x32 bilinear keeps the mean of the inner pixels close to the original's
        small = np.asarray(Image.fromarray(image).resize((8, 8), Image.BOX)) / 255 * 16
        assert np.abs(small - digits.images[index]).mean() < 1.5


@pytest.mark.slow
def test_info_and_classes_from_the_header(trained):
    from explorer.training.classifier import read_info

    info = read_info(trained[0], "digits.safetensors")
    assert info.classes == tuple(str(d) for d in range(10)) and info.input_size == 32
    assert info.cam_layers == ("features.denseblock1", "features.transition1", "features.denseblock2",
                               "features.transition2", "features.denseblock3", "features.relu5")
    assert info.default_cam_layer == "features.relu5" and info.info["val_accuracy"] == 0.9


@pytest.mark.slow
def test_trained_model_classifies_digits_and_its_gradcam_is_the_papers(trained):
    from explorer.training import work
    from explorer.vision.images import load_sample

    blob, model, mean, std = trained
    right = 0
    for digit in range(10):
        x = sample_input(digit, mean, std)
        with torch.no_grad():
            probs = model(x).softmax(1)[0]
        result = work.explain_trained(load_sample(f"digit{digit}"), blob, "digits.safetensors", "gradcam",
                                      "features.denseblock2", None)
        assert result.predictions[0][0] == int(probs.argmax())
        assert result.predictions[0][2] == pytest.approx(float(probs.max()), abs=1e-5)
        right += result.predictions[0][1] == str(digit)
    assert right >= 7  # the fitted model reads most held-out digits (measured: 9 of 10)

    # Grad-CAM by hand on digit 3: ReLU(sum_k alpha_k A^k), alpha_k = mean gradient of the top class score
    x = sample_input(3, mean, std)
    kept = {}
    hook = model.features.denseblock2.register_forward_hook(lambda m, i, o: kept.setdefault("a", o))
    logits = model(x)
    hook.remove()
    target = int(logits.argmax())
    (grad,) = torch.autograd.grad(logits[0, target], kept["a"])
    cam = torch.relu((grad.mean((2, 3), keepdim=True) * kept["a"]).sum(1))[0].detach().numpy()
    result = work.explain_trained(load_sample("digit3"), blob, "digits.safetensors", "gradcam",
                                  "features.denseblock2", None)
    assert result.raw.shape == cam.shape == (16, 16)  # the CIFAR stem keeps 32, transition1 halves it
    assert np.allclose(result.raw, cam, atol=1e-5 * max(cam.max(), 1e-6))
    assert result.heatmap.shape == (32, 32) and result.heatmap.max() == pytest.approx(1.0)


@pytest.mark.slow
def test_page_explains_the_sessions_trained_model(trained):
    blob, model, mean, std = trained
    app = AppTest.from_file(PAGE, default_timeout=180)
    app.session_state["trained_model_file"] = {"name": "digits-densenet.safetensors", "data": blob}
    app.session_state["explain_model"] = "trained"
    app.session_state["explain_sample"] = "digit7"
    app.run()
    assert not app.exception and not app.error
    with torch.no_grad():
        expected = str(int(model(sample_input(7, mean, std)).argmax()))
    top = next(m for m in app.metric if m.label == "Top prediction")
    assert top.value == expected
    assert app.selectbox(key="explain_layer_trained").options == [
        "features.denseblock1", "features.transition1", "features.denseblock2", "features.transition2",
        "features.denseblock3", "features.relu5 (default)"]
    assert len(app.get("image")) == 2
    # the top-5 bars top to bottom in the model's order: probabilities from the test's own forward pass
    # (issue #23: a trained model's bars read 9, 5, 3 (35.8 %), 7, 2)
    from tests.helpers.apptest import drawn_bars

    for digit in (7, 3):
        if digit != 7:
            app.selectbox(key="explain_sample").set_value(f"digit{digit}").run()
        with torch.no_grad():
            probs = model(sample_input(digit, mean, std)).softmax(1)[0]
        values, indices = probs.topk(5)
        drawn = drawn_bars(app)
        assert [label for label, _ in drawn] == [f"{i} ({i})" for i in indices.tolist()]
        assert [p for _, p in drawn] == pytest.approx(values.tolist(), abs=1e-5)
    # another layer, side by side: a second job on the same model
    app.radio(key="explain_compare").set_value("layer").run()
    assert not app.exception and not app.error and len(app.get("image")) == 4


@pytest.mark.slow
def test_page_explains_an_uploaded_safetensors(trained):
    blob, model, mean, std = trained
    app = AppTest.from_file(PAGE, default_timeout=180)
    app.session_state["explain_model"] = "trained"
    app.session_state["explain_sample"] = "digit1"
    app.run()
    assert any("Train a DenseNet on the Train page" in i.value for i in app.info)
    app.file_uploader(key="explain_safetensors").upload("mine.safetensors", blob).run()
    assert not app.exception and not app.error
    with torch.no_grad():
        expected = str(int(model(sample_input(1, mean, std)).argmax()))
    assert next(m for m in app.metric if m.label == "Top prediction").value == expected
    app.file_uploader(key="explain_safetensors").upload("broken.safetensors", b"\x08" + b"\x00" * 20).run()
    assert not app.exception
    assert [e.value for e in app.error] == ["broken.safetensors: not a safetensors file (unreadable header)"]
