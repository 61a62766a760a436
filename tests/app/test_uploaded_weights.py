"""A user's own weights file: loaded only if it is a state dict of the selected model, refused with
one line naming what is wrong otherwise, and never able to run code."""

from __future__ import annotations

import io
import os
import pickle
import zipfile

import pytest
import timm
import torch
import torchvision

from explorer.vision import classifier as C
from explorer.vision import loading as L
from explorer.vision import weights as W
from explorer.vision.images import load_sample


def saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def random_state(builder, **kwargs) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return builder(weights=None, **kwargs).state_dict()


@pytest.fixture(scope="module")
def densenet_state():
    return random_state(torchvision.models.densenet121)


def refusal(name: str, data: bytes, file_name: str = "upload.pth") -> str:
    with pytest.raises(W.WeightsError) as info:
        L.load_uploaded_weights(name, data, file_name)
    message = str(info.value)
    assert message.startswith(f"{name}: {file_name}: ") and "\n" not in message and "Traceback" not in message
    return message


@pytest.mark.slow
def test_correct_file_loads_and_classifies(densenet_state):
    model = C.pretrained_from_upload("densenet121", saved(densenet_state), "mine.pth", device="cpu")
    assert model.name == "densenet121" and not model.module.training
    assert all(torch.equal(model.module.state_dict()[k], v) for k, v in densenet_state.items())
    reference = torchvision.models.densenet121()
    reference.load_state_dict(densenet_state)
    x = model.transforms(load_sample("chelsea")).unsqueeze(0)
    with torch.no_grad():
        assert torch.allclose(model.module(x), reference.eval()(x), atol=1e-4)
    top = model.predict(load_sample("chelsea"))
    assert len(top) == 5 and top[0][0] == int(reference(x).argmax())


@pytest.mark.slow
def test_old_densenet_keys_and_half_precision(densenet_state):
    """torchvision's published files use pre-0.4 names (norm.1) and no num_batches_tracked."""
    old = {k.replace("norm1.", "norm.1.").replace("conv2.", "conv.2."): v.half() if v.is_floating_point() else v
           for k, v in densenet_state.items() if not k.endswith("num_batches_tracked")}
    assert "features.denseblock1.denselayer1.norm.1.weight" in old
    module = L.load_uploaded_weights("densenet121", saved({"state_dict": old}), device="cpu")
    weight = module.features.denseblock1.denselayer1.norm1.weight
    assert weight.dtype == torch.float32 and torch.allclose(
        weight, densenet_state["features.denseblock1.denselayer1.norm1.weight"].half().float())


def test_wrong_architecture():
    message = refusal("densenet121", saved(random_state(torchvision.models.resnet18)))
    assert "not a state dict for DenseNet-121" in message and "0 of 606 tensors match" in message
    assert "missing (features.conv0.weight" in message and "unexpected (conv1.weight" in message


def test_wrong_shapes():
    message = refusal("densenet121", saved(random_state(torchvision.models.densenet121, num_classes=10)))
    assert "2 tensors have other shapes" in message
    assert "classifier.weight: (10, 1024) in the file, (1000, 1024) in the model" in message


def test_some_tensors_missing(densenet_state):
    partial = {k: v for k, v in densenet_state.items() if not k.startswith("classifier.")}
    message = refusal("densenet121", saved(partial))
    assert "2 missing (classifier.weight, classifier.bias)" in message and "unexpected" not in message


class Exploit:
    """Unpickling this would run ``os.system`` (or open a file for writing)."""

    def __init__(self, call, *args):
        self.call, self.args = call, args

    def __reduce__(self):
        return self.call, self.args


@pytest.mark.parametrize("how", ["torch.save", "pickle"])
@pytest.mark.parametrize("call", ["system", "open"])
def test_pickle_with_code_is_never_run(tmp_path, densenet_state, how, call):
    marker = tmp_path / "pwned"
    payload = Exploit(os.system, f"touch {marker}") if call == "system" else Exploit(open, str(marker), "w")
    if how == "torch.save":  # a real weights file with one extra entry that runs code
        data = saved({**densenet_state, "x": payload})
    else:  # a bare pickle (torch.load's legacy path)
        data = pickle.dumps({"x": payload}, protocol=2)
    message = refusal("densenet121", data, "evil.pth")
    assert "refused" in message and "never code" in message and ("system" in message or "open" in message)
    assert not marker.exists()
    if how == "pickle":  # the payload is real: plain unpickling runs it
        pickle.loads(data)
        assert marker.exists()


def test_truncated_file(densenet_state):
    data = saved(densenet_state)
    for cut in (len(data) // 2, 1000, 10):
        assert "not a PyTorch weights file" in refusal("densenet121", data[:cut])


@pytest.mark.parametrize("data,needle", [
    (b"", "the file is empty"),
    (b"this is a text file, not weights\n" * 10, "not a PyTorch weights file"),
    (load_sample("chelsea").tobytes()[:5000], "not a PyTorch weights file"),
    (saved([torch.zeros(3)]), "does not hold a state dict"),
    (saved({"w": 3}), "does not hold a state dict"),
    (saved({}), "does not hold a state dict"),
])
def test_not_weights(data, needle):
    assert needle in refusal("densenet121", data)


@pytest.mark.slow
def test_non_finite_values_and_integer_weights(densenet_state):
    state = dict(densenet_state)
    state["classifier.bias"] = torch.full((1000,), float("nan"))
    assert "classifier.bias holds NaN" in refusal("densenet121", saved(state))
    state["classifier.bias"] = torch.zeros(1000, dtype=torch.int64)
    assert "classifier.bias is torch.int64, not floating point" in refusal("densenet121", saved(state))


def test_size_caps(monkeypatch, densenet_state):
    monkeypatch.setattr(L, "MAX_WEIGHTS_BYTES", 1000)
    assert "over the 0 MiB limit" in refusal("densenet121", b"x" * 1001)

    class Endless(io.RawIOBase):  # a stream that never ends: only cap + 1 bytes may be read
        read_total = 0

        def read(self, n=-1):
            assert n != -1 and n <= 1001
            Endless.read_total += n
            return b"\0" * n

    refusal("densenet121", Endless())
    assert Endless.read_total == 1001
    # a zip whose entries declare more than the cap when decompressed
    monkeypatch.setattr(L, "MAX_WEIGHTS_BYTES", 5_000_000)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data/0", bytes(6_000_000))
    assert len(archive.getvalue()) < 100_000
    assert "would expand past" in refusal("densenet121", archive.getvalue())


def test_efficientnet_lite0_by_timm_names_or_by_order():
    torch.manual_seed(1)
    source = timm.create_model("tf_efficientnet_lite0", pretrained=False).eval()
    state = source.state_dict()
    module = L.load_uploaded_weights("efficientnet_lite0", saved(state), device="cpu")
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(module(x), source(x), atol=1e-5)
    # the package's own file names its tensors differently; they are taken in order, as the registry does
    renamed = {f"t{i}.{k.rsplit('.', 1)[-1]}": v for i, (k, v) in enumerate(state.items())}
    module = L.load_uploaded_weights("efficientnet_lite0", saved(renamed), device="cpu")
    with torch.no_grad():
        assert torch.allclose(module(x), source(x), atol=1e-5)


# --- the Explain page -----------------------------------------------------------------------------

def test_page_uses_uploaded_weights(explain_app):
    torch.manual_seed(2)
    source = timm.create_model("tf_efficientnet_lite0", pretrained=False).eval()
    published = next(m for m in explain_app.metric if m.label == "Top prediction").value
    assert published == "Egyptian cat"
    uploader = explain_app.file_uploader(key="explain_weights_efficientnet_lite0")
    uploader.upload("mine.pth", saved(source.state_dict())).run()
    assert not explain_app.exception and not explain_app.error
    assert any("Using your weights from mine.pth" in c.value for c in explain_app.caption)
    expected = W.REGISTRY["efficientnet_lite0"].preprocess(load_sample("chelsea")).unsqueeze(0)
    with torch.no_grad():
        label = W.imagenet_categories()[int(source(expected).argmax())]
    assert next(m for m in explain_app.metric if m.label == "Top prediction").value == label


def test_page_refuses_wrong_weights_in_one_line(explain_app):
    data = saved(random_state(torchvision.models.resnet18))
    explain_app.file_uploader(key="explain_weights_efficientnet_lite0").upload("resnet.pth", data).run()
    assert not explain_app.exception
    errors = [e.value for e in explain_app.error]
    assert len(errors) == 1 and "not a state dict for EfficientNet-Lite0" in errors[0] and "\n" not in errors[0]
