"""Grad-CAM and the other attributions: hand-computed maps, alignment, overlays, concurrency, CLI."""

import csv
import dataclasses
import io
import json
import threading
from collections import OrderedDict

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from torchvision.models import get_model_weights

import explorer
from explorer.cli.main import main
from explorer.errors import ConfigError
from explorer.vision import attribution
from explorer.vision.explain import align_to_image, resolve_target
from explorer.vision.overlay import colorize, npy_bytes, overlay, png_bytes, predictions_csv
from explorer.vision.images import load_sample
from explorer.vision.classifier import Pretrained
from explorer.vision.preprocess import Preprocess

CATS = [f"class{i}" for i in range(3)]


def tiny_model() -> Pretrained:
    """1x1 conv (3 -> 2) + ReLU, global average pool, linear (2 -> 3): Grad-CAM by hand is
    alpha_ck = W[c, k] / (H W) (the pool spreads each logit's gradient evenly)."""
    torch.manual_seed(0)
    module = nn.Sequential(OrderedDict(features=nn.Sequential(OrderedDict(conv=nn.Conv2d(3, 2, 1),
                                                                          relu=nn.ReLU())),
                                       pool=nn.AdaptiveAvgPool2d(1), flat=nn.Flatten(), fc=nn.Linear(2, 3)))
    module.eval().requires_grad_(False)
    return Pretrained("tiny", module, Preprocess(4, None, (0, 0, 0), (1, 1, 1)), CATS, "features.relu",
                      ["features.conv", "features.relu"], torch.device("cpu"))


def test_gradcam_by_hand():
    model = tiny_model()
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (4, 4, 3), dtype=np.uint8), "RGB")
    x = np.asarray(image, np.float64).transpose(2, 0, 1) / 255  # (3, 4, 4)
    conv, fc = model.module.features.conv, model.module.fc
    a = np.maximum(np.einsum("kc,chw->khw", conv.weight[:, :, 0, 0].double().numpy(), x)
                   + conv.bias.double().numpy()[:, None, None], 0)
    logits = fc.weight.double().numpy() @ a.mean((1, 2)) + fc.bias.double().numpy()
    for target in range(3):
        expected = np.maximum(np.einsum("k,khw->hw", fc.weight[target].double().numpy() / 16, a), 0)
        result = explorer.explain(model, image, target=target)
        assert result.target_index == target and result.target_label == CATS[target]
        assert np.allclose(result.raw, expected, atol=1e-6)
        if expected.max() > 0:  # the aligned map: same grid (4x4 image, no crop), scaled to max 1
            assert np.allclose(result.heatmap, expected / expected.max(), atol=1e-5)
    top = explorer.explain(model, image)
    assert top.target_index == int(np.argmax(logits))
    probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert [i for i, _, _ in top.predictions] == list(np.argsort(-probs))
    assert np.allclose([p for *_, p in top.predictions], np.sort(probs)[::-1], atol=1e-6)


def reference_gradcam(module, x, layer, target):
    """Grad-CAM with plain autograd hooks (no captum): ReLU(sum_k mean(dy/dA_k) A_k)."""
    saved = {}
    handle = layer.register_forward_hook(lambda m, i, o: saved.setdefault("a", o))
    try:
        with torch.enable_grad():
            x = x.clone().requires_grad_(True)
            score = module(x)[0, target]
            grad, = torch.autograd.grad(score, saved["a"])
    finally:
        handle.remove()
    weights = grad.mean((2, 3), keepdim=True)
    return torch.relu((weights * saved["a"]).sum(1))[0].detach().numpy()


@pytest.mark.slow
@pytest.mark.parametrize("layer", ["bn2", "blocks.4", "blocks.6"])
def test_lite0_gradcam_equals_plain_autograd(lite0, layer):
    image = load_sample("chelsea")
    result = explorer.explain(lite0, image, layer=layer, target="tabby")
    x = lite0.transforms(image).unsqueeze(0)
    expected = reference_gradcam(lite0.module, x, lite0.module.get_submodule(layer), 281)
    assert result.raw.shape == expected.shape
    assert np.allclose(result.raw, expected, rtol=1e-4, atol=1e-6 * expected.max())
    assert result.predictions[0][1] == "Egyptian cat" and result.target_label == "tabby"


def test_alignment_to_the_original_pixel_grid():
    """A white square in a landscape image: through torchvision's resize + centre crop, back again."""
    width, height = 320, 200
    image = np.zeros((height, width, 3), np.uint8)
    image[60:120, 150:210] = 255  # rows, columns of the square
    pil = Image.fromarray(image)
    transform = get_model_weights("densenet121").DEFAULT.transforms()  # torchvision's, not ours
    x = transform(pil)[0]  # (224, 224)
    seen = (x > x.min() + 0.5 * (x.max() - x.min())).float().numpy()  # the square as the model sees it
    region = Preprocess(256, 224).region(width, height)
    # 320x200 -> 409x256 (shorter side 256, longer floored); crop offsets round((409-224)/2) = 92, 16
    assert region == pytest.approx((92 * 320 / 409, 16 * 200 / 256, 316 * 320 / 409, 240 * 200 / 256))
    back = align_to_image(seen, (width, height), region) > 0.5
    truth = np.zeros((height, width), bool)
    truth[60:120, 150:210] = True
    iou = (back & truth).sum() / (back | truth).sum()
    assert iou > 0.95
    # outside the crop the map is zero
    ones = align_to_image(np.ones((7, 7)), (width, height), region)
    assert ones[:12].max() == 0 and ones[-12:].max() == 0 and ones[20:180, 80:240].min() == pytest.approx(1)
    assert ones[:, :71].max() == 0 and ones[:, 248:].max() == 0


@pytest.mark.slow
@pytest.mark.parametrize("method", ["gradcam", "guided_gradcam"])  # the slow two: on the small model below
def test_every_method_on_lite0(lite0, method):
    image = load_sample("coffee").resize((120, 80))  # small: the model input is 224 x 336 anyway
    result = explorer.explain(lite0, image, method=method, ig_steps=8, window=56)
    assert result.heatmap.shape == (80, 120) and result.heatmap.dtype == np.float32
    assert 0 <= result.heatmap.min() and result.heatmap.max() == pytest.approx(1)
    assert result.target_label == "espresso" == result.predictions[0][1] and len(result.predictions) == 5
    drawn = overlay(image, result.heatmap, region=result.region)  # explain() returns maps; drawing is separate
    assert drawn.size == image.size and drawn.mode == "RGB"
    assert (result.layer is not None) == (method in ("gradcam", "guided_gradcam"))


@pytest.mark.slow
def test_methods_on_a_cropping_model_are_zero_outside_the_crop():
    torch.manual_seed(0)
    module = explorer.build_model("densenet-bc-100-k12", "cpu").eval().requires_grad_(False)
    model = Pretrained("cifar", module, Preprocess(40, 32), [f"c{i}" for i in range(10)], "features.relu5",
                       ["features.denseblock2", "features.relu5"], torch.device("cpu"))
    image = Image.fromarray(np.random.default_rng(1).integers(0, 256, (50, 80, 3), dtype=np.uint8))
    for method in ["gradcam", "guided_gradcam", "integrated_gradients", "occlusion"]:
        result = explorer.explain(model, image, method=method, layer="features.denseblock2", ig_steps=4, window=16)
        left, top, right, bottom = result.region  # 80x50 -> 64x40, crop 32 at x=16..48 -> 20..60 here
        assert (left, right) == (20, 60) and (top, bottom) == pytest.approx((5, 45))
        assert result.heatmap[:, :20].max() == 0 and result.heatmap[:, 60:].max() == 0
        assert result.heatmap[:, 20:60].max() == pytest.approx(1) and result.heatmap.shape == (50, 80)
        assert result.target_index == result.predictions[0][0]
        assert overlay(image, result.heatmap, region=result.region).size == (80, 50)


def test_targets_and_layers(lite0):
    cats = lite0.categories
    assert resolve_target(cats, "Egyptian cat") == resolve_target(cats, "egyptian CAT") == 285
    assert resolve_target(cats, "285") == resolve_target(cats, 285) == 285
    assert resolve_target(cats, "espresso") == 967 and resolve_target(cats, "espresso mak") == 550
    for bad, needle in [(1000, "0 to 999"), ("cat", "matches"), ("zebrafish", "no class"), (-1, "0 to 999")]:
        with pytest.raises(ConfigError, match=needle):
            resolve_target(cats, bad)
    with pytest.raises(ConfigError, match="no layer 'blocks.9'"):
        explorer.explain(lite0, load_sample("coffee"), layer="blocks.9")
    with pytest.raises(ConfigError, match="unknown method"):
        explorer.explain(lite0, load_sample("coffee"), method="lime")


def test_overlay_and_colours():
    assert colorize(np.array([[0.0, 1.0]])).tolist() == [[[0, 0, 128], [128, 0, 0]]]  # jet's ends
    image = Image.new("RGB", (10, 6), (10, 20, 30))
    heat = np.linspace(0, 1, 60, dtype=np.float32).reshape(6, 10)
    assert np.array_equal(np.asarray(overlay(image, heat, alpha=0)), np.asarray(image))
    full = np.asarray(overlay(image, heat, alpha=1, region=(2, 0, 8, 6)))
    assert np.array_equal(full[:, 2:8], colorize(heat)[:, 2:8])
    assert (full[:, :2] == (10, 20, 30)).all() and (full[:, 8:] == (10, 20, 30)).all()
    half = np.asarray(overlay(image, heat, alpha=0.5)).astype(int)
    assert np.abs(half - (np.asarray(image) + colorize(heat).astype(int)) / 2).max() <= 0.5
    with pytest.raises(ConfigError, match="opacity"):
        overlay(image, heat, alpha=1.5)


def test_downloads():
    heat = np.random.default_rng(0).random((5, 7)).astype(np.float32)
    assert np.array_equal(np.load(io.BytesIO(npy_bytes(heat))), heat)
    image = Image.new("RGB", (3, 2), (1, 2, 3))
    assert Image.open(io.BytesIO(png_bytes(image))).getpixel((0, 0)) == (1, 2, 3)
    rows = list(csv.DictReader(io.StringIO(predictions_csv([(285, "Egyptian cat", 0.5), (282, "tiger, cat", 0.25)]))))
    assert rows[1] == {"rank": "2", "index": "282", "label": "tiger, cat", "probability": "0.250000"}


@pytest.mark.slow
def test_eight_threads_share_one_model(lite0):
    """8 threads x 3 requests on the shared model; each result equals the same request run alone."""
    image = load_sample("chelsea").resize((226, 150))
    requests = [(target, layer) for target in (None, "tiger cat", "tabby", "lynx")
                for layer in ("bn2", "blocks.5", "blocks.3")]
    alone = {r: explorer.explain(lite0, image, target=r[0], layer=r[1]) for r in requests}
    results, errors = [], []

    def work(worker):
        try:
            for i in range(3):
                r = requests[(worker * 3 + i) % len(requests)]
                results.append((r, explorer.explain(lite0, image, target=r[0], layer=r[1])))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 24
    for r, result in results:
        expected = alone[r]
        assert result.target_index == expected.target_index and result.layer == expected.layer
        assert result.raw.shape == expected.raw.shape
        assert np.allclose(result.raw, expected.raw, rtol=1e-4, atol=1e-7)
        assert np.allclose(result.heatmap, expected.heatmap, atol=1e-4)


# --- the method records and the memory budget -------------------------------------------------

def test_method_records():
    assert list(attribution.METHODS) == ["gradcam", "guided_gradcam", "integrated_gradients", "occlusion"]
    takes_layer = {name for name, m in attribution.METHODS.items() if m.takes_layer}
    assert takes_layer == {"gradcam", "guided_gradcam"}
    assert {name: m.percentile for name, m in attribution.METHODS.items()} == {
        "gradcam": None, "guided_gradcam": 99.5, "integrated_gradients": 99.5, "occlusion": None}
    assert all(m.title and m.note and callable(m.run) for m in attribution.METHODS.values())


def sized_tiny_model(size: int) -> Pretrained:
    return dataclasses.replace(tiny_model(), transforms=Preprocess(size, None, (0, 0, 0), (1, 1, 1)))


def batch_sizes(model: Pretrained) -> tuple[list[int], object]:
    seen: list[int] = []
    return seen, model.module.register_forward_pre_hook(lambda m, inputs: seen.append(inputs[0].shape[0]))


def test_activation_bytes_by_hand():
    """4x4 input: conv and ReLU 2x4x4 floats (128 B each), pool and flatten 2 (8 B each), fc 3 (12 B)."""
    model = tiny_model()
    x = torch.rand(1, 3, 4, 4)
    logits, per_image, shape = attribution.forward_measured(model, x, attribution.Layer("features.conv",
                                                                                        model.module.features.conv))
    assert per_image == 128 + 128 + 8 + 8 + 12 and shape == (1, 2, 4, 4) and logits.shape == (1, 3)


def test_integrated_gradients_batches_to_the_budget():
    from captum.attr import IntegratedGradients

    model = tiny_model()
    image = Image.fromarray(np.random.default_rng(3).integers(0, 256, (4, 4, 3), dtype=np.uint8))
    fixed = 3 * 16 * 48 * 4  # 16 steps of the 3x4x4 float input, kept three times over
    seen, hook = batch_sizes(model)
    try:
        result = explorer.explain(model, image, method="integrated_gradients", target=1, ig_steps=16,
                                  memory_budget=fixed + 5 * 284 + 100)
    finally:
        hook.remove()
    assert seen[0] == 1 and max(seen[1:]) == 5 and sum(seen[1:]) == 16  # the measuring pass, then 5+5+5+1
    x = model.transforms(image).unsqueeze(0)
    whole = IntegratedGradients(model.module).attribute(x, baselines=torch.zeros_like(x), target=1, n_steps=16)
    assert np.allclose(result.raw, whole[0].abs().sum(0).numpy(), atol=1e-6)
    # one step: 3 x 16 x 192 B + 284 B = 9500 B = 9.28 KiB, one byte over the budget
    with pytest.raises(ConfigError, match=r"Integrated Gradients on this 4x4 input needs about 9\.28 KiB"):
        explorer.explain(model, image, method="integrated_gradients", ig_steps=16, memory_budget=fixed + 283)
    with pytest.raises(ConfigError, match="ig_steps: must be from 1 to 512"):
        explorer.explain(model, image, method="integrated_gradients", ig_steps=0)


def test_occlusion_batches_to_the_budget():
    from captum.attr import Occlusion

    model = sized_tiny_model(16)
    image = Image.fromarray(np.random.default_rng(4).integers(0, 256, (16, 16, 3), dtype=np.uint8))
    # 16x16 input: activations 2048 + 2048 + 8 + 8 + 12 B; per step half of them plus two inputs (2 x 3072 B)
    per_step, fixed = 0.5 * 4124 + 2 * 3072, 4 * 3072
    seen, hook = batch_sizes(model)
    try:
        result = explorer.explain(model, image, method="occlusion", target=2, window=4,
                                  memory_budget=int(fixed + 7 * per_step + 1))
    finally:
        hook.remove()
    positions = ((16 - 4) // 3 + 1) ** 2  # window 4, stride 3
    assert max(seen) == 7 and sum(seen) == 1 + 1 + positions  # measuring pass, captum's own, the windows
    x = model.transforms(image).unsqueeze(0)
    one_by_one = Occlusion(model.module).attribute(x, sliding_window_shapes=(3, 4, 4), strides=(3, 3, 3),
                                                   baselines=0, target=2, perturbations_per_eval=1)
    assert np.allclose(result.raw, np.maximum(one_by_one[0, 0].numpy(), 0), atol=1e-6)
    with pytest.raises(ConfigError, match="window: must be from 1 to 16 px"):
        explorer.explain(model, image, method="occlusion", window=17)


def test_guided_gradcam_refuses_a_flat_layer_in_one_line():
    model = tiny_model()
    model.cam_layers.append("fc")
    with pytest.raises(ConfigError, match=r"Guided Grad-CAM needs a layer with \(N, C, H, W\) output; fc gives "
                                          r"\(1, 3\)"):
        explorer.explain(model, Image.new("RGB", (4, 4)), method="guided_gradcam", layer="fc")


# --- CLI ----------------------------------------------------------------------------------

def test_cli_classify_json(capsys):
    assert main(["classify", "chelsea", "--model", "efficientnet_lite0", "--format", "json", "--topk", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model"] == "efficientnet_lite0" and data["device"] == "cpu"
    assert [p["label"] for p in data["predictions"]] == ["Egyptian cat", "tiger cat", "tabby"]
    assert set(data["predictions"][0]) == {"index", "label", "probability"}


def test_cli_cam_writes_overlay_and_heatmap(tmp_path, capsys):
    out, heat = tmp_path / "overlay.png", tmp_path / "heat.npy"
    assert main(["cam", "assets/coffee.png", "--model", "efficientnet_lite0", "--target", "cup", "--layer",
                 "blocks.6", "--out", str(out), "--heatmap-out", str(heat), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["target"] == {"index": 968, "label": "cup"} and data["layer"] == "blocks.6"
    assert data["predictions"][0]["label"] == "espresso"
    assert Image.open(out).size == (600, 400)
    values = np.load(heat)
    assert values.shape == (400, 600) and values.dtype == np.float32 and values.max() == pytest.approx(1)


@pytest.mark.parametrize("argv,needle", [
    (["classify", "pytest.ini", "--model", "efficientnet_lite0"], "not a decodable image"),
    (["classify", "chelsea", "--model", "alexnet"], "unknown model"),
    (["cam", "chelsea", "--model", "efficientnet_lite0", "--target", "unicorn", "--out", "x.png"], "no class"),
    (["cam", "chelsea", "--model", "efficientnet_lite0", "--layer", "fc9", "--out", "x.png"], "no layer"),
    (["cam", "chelsea", "--model", "efficientnet_lite0", "--method", "lime", "--out", "x.png"], "invalid choice"),
    (["classify", "missing.png", "--model", "efficientnet_lite0"], "missing.png"),
    (["cam", "chelsea", "--model", "efficientnet_lite0", "--method", "guided_gradcam", "--layer", "classifier",
      "--out", "x.png"], "needs a layer with (N, C, H, W) output; classifier gives (1, 1000)"),
])
def test_cli_errors_are_one_line(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_predictions_chart_data_order_highlight_and_labels():
    """The top-5 bars as data (Vega-Lite): the most probable on top, the explained class
    marked, each percentage written inside a long bar (> 50 %) and beside a short one."""
    from explorer.charts.explain import predictions_figure

    spec = predictions_figure([(281, "tabby", 0.25), (285, "Egyptian cat", 0.625), (282, "tiger cat", 0.125)],
                              highlight=281)  # given out of order: drawn by probability
    bars = spec["datasets"]["predictions"]
    assert [b["label"] for b in bars] == ["Egyptian cat (285)", "tabby (281)", "tiger cat (282)"]
    assert [b["p"] for b in bars] == [0.625, 0.25, 0.125] and [b["explained"] for b in bars] == [False, True, False]
    # every layer draws the bars in that order, fixed in the spec: a data-driven order kept the old
    # classes on top when a rerun changed the data in place (issue #23: 9, 5, then the top class 3)
    order = ["Egyptian cat (285)", "tabby (281)", "tiger cat (282)"]
    for layer in spec["layer"]:
        assert layer["encoding"]["y"]["sort"] == order and layer["encoding"]["y"]["scale"]["domain"] == order
    inside, beside = spec["layer"][1], spec["layer"][2]
    assert inside["transform"] == [{"filter": "datum.p > 0.5"}] and inside["mark"]["align"] == "right"
    assert beside["transform"] == [{"filter": "datum.p <= 0.5"}] and beside["mark"]["align"] == "left"
    assert spec["layer"][0]["encoding"]["x"]["scale"]["domain"] == [0, 1]
