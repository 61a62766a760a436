"""Training: the digits data set, the pure loop (tiny models, few steps), stop and time budget,
and safetensors files (round trip, and each refusal as one line)."""

import io
import json
import struct
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.models.densenet import DenseNet, DenseNetConfig
from explorer.training import default_config, load_model, save_model, train
from explorer.training.data import split_indices
from explorer.training.weights import WeightsFileError

TINY = DenseNetConfig(growth_rate=2, block_config=(1, 1), num_init_features=4, stem="cifar", input_size=16,
                      num_classes=10)


def test_digits_dataset(digits16):
    # scikit-learn's digits: 1,797 images of 10 classes; 20 % of each class held out.
    assert len(digits16.train_y) + len(digits16.val_y) == 1797
    assert digits16.train_x.shape[1:] == (3, 16, 16) and digits16.train_x.dtype == torch.float32
    assert digits16.num_classes == 10 and digits16.classes[3] == "3"
    from sklearn.datasets import load_digits

    counts = np.bincount(load_digits().target)  # 178 zeros, 182 ones, ...
    val_counts = np.bincount(digits16.val_y.numpy())
    assert list(val_counts) == [round(0.2 * c) for c in counts]
    # Normalised with the training part's statistics: mean 0, std 1 per channel.
    assert digits16.train_x.mean(dim=(0, 2, 3)).abs().max() < 1e-4
    assert (digits16.train_x.std(dim=(0, 2, 3)) - 1).abs().max() < 1e-3


def test_split_is_seeded_and_disjoint():
    labels = np.array([0] * 10 + [1] * 5)
    a = split_indices(labels, 0.2, seed=1)
    b = split_indices(labels, 0.2, seed=1)
    assert all((x == y).all() for x, y in zip(a, b))
    assert set(a[0]).isdisjoint(a[1]) and len(a[0]) + len(a[1]) == 15
    assert len(a[1]) == 3  # 2 of class 0, 1 of class 1


def test_default_config_is_densenet_bc_40_k12():
    c = default_config()
    assert (c.variant, c.depth, c.growth_rate, c.block_config, c.stem) == ("DenseNet-BC", 40, 12, (6, 6, 6), "cifar")
    # Parameters counted independently from the built module.
    assert sum(p.numel() for p in DenseNet(c).parameters()) == 176_122


def test_train_tiny_reports_and_keeps_model(digits16):
    seen = []
    result = train(TINY, digits16, epochs=2, batch_size=256, device="cpu", progress=seen.append)
    assert result.epochs == 2 and len(result.history) == 2 and result.stopped_by == "epochs"
    steps = 2 * int(np.ceil(len(digits16.train_y) / 256))
    assert [p.step for p in seen[:-1]] == list(range(1, steps + 1))
    assert seen[-1].eta_s == 0 and seen[-1].history == result.history
    # The reported accuracy is the accuracy of the returned weights on the validation set.
    model = result.build_model()
    with torch.no_grad():
        acc = (model(digits16.val_x).argmax(1) == digits16.val_y).float().mean().item()
    assert acc == pytest.approx(result.val_accuracy)
    assert result.summary()["config"]["num_classes"] == 10


def test_stop_keeps_the_model_trained_so_far(digits16):
    calls = []

    def stop():
        calls.append(1)
        return len(calls) >= 3

    result = train(TINY, digits16, epochs=5, batch_size=256, device="cpu", should_stop=stop)
    assert result.stopped_by == "stop" and result.epochs == 1 and len(result.step_losses) == 3
    assert set(result.state_dict) == set(DenseNet(result.config).state_dict())


def test_time_budget(digits16):
    result = train(TINY, digits16, epochs=50, batch_size=256, device="cpu", time_budget_s=0.0)
    assert result.stopped_by == "time budget" and len(result.step_losses) == 1


def test_steps_that_fit():
    from explorer.training.loop import steps_that_fit

    # 100 s left of 120, 90 % of it usable, 0.5 s a step plus a 10 % evaluation share: 90 / 0.55 = 163.6
    assert steps_that_fit(120.0, 20.0, 10, 0.5, 0.1) == 10 + 163
    assert steps_that_fit(120.0, 130.0, 10, 0.5, 0.1) == 10  # over the budget already


@pytest.mark.slow
def test_a_time_budget_shortens_the_schedule_to_the_steps_that_fit(digits16, monkeypatch):
    """On a clock where every reading is 0.25 s later, the run learns its speed, re-plans to the
    steps that fit in the budget (fewer than its epochs ask for) and ends there, within the
    budget, with the learning rate annealed to the schedule's end (one-cycle: max_lr / 25 / 1e4)."""
    import explorer.training.loop as loop

    clock = [0.0]

    def tick():
        clock[0] += 0.25
        return clock[0]

    lrs = []
    original_step = torch.optim.SGD.step

    def step(self, *args, **kwargs):
        lrs.append(self.param_groups[0]["lr"])
        return original_step(self, *args, **kwargs)

    monkeypatch.setattr(loop.time, "perf_counter", tick)
    monkeypatch.setattr(torch.optim.SGD, "step", step)
    seen = []
    result = train(TINY, digits16, epochs=50, batch_size=256, device="cpu", time_budget_s=60.0,
                   progress=seen.append)
    steps_per_epoch = int(np.ceil(len(digits16.train_y) / 256))  # 6
    assert result.stopped_by == "time budget" and len(result.step_losses) < 50 * steps_per_epoch
    assert seen[-1].total_steps == len(result.step_losses) == len(lrs)  # ended where re-planned
    assert result.seconds < 60.0  # by the plan, before the budget ran out
    # The last step ran at the end of the shortened one-cycle schedule: 0.1 / 25 / 1e4 = 4e-7 at
    # its very end; one step before it, within 1 % of 0.1 of that.
    assert lrs[-1] < 1e-3 * 0.1 and max(lrs) == pytest.approx(0.1, rel=0.05)


def test_train_is_pure_and_seeded(digits16):
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = train(TINY, digits16, epochs=1, batch_size=512, device="cpu", seed=7)
    after = torch.rand(1)
    assert before == after  # the global RNG is untouched
    b = train(TINY, digits16, epochs=1, batch_size=512, device="cpu", seed=7)
    assert a.step_losses == b.step_losses


def test_bad_epochs(digits16):
    with pytest.raises(Exception, match="epochs: must be an integer"):
        train(TINY, digits16, epochs=0)


# --- safetensors ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def saved():
    torch.manual_seed(0)
    model = DenseNet(TINY)
    data = save_model(model.state_dict(), TINY, [str(d) for d in range(10)], (0.1, 0.2, 0.3), (1.0, 2.0, 3.0),
                      val_accuracy=0.5)
    return model, data


def test_round_trip(saved):
    model, data = saved
    loaded = load_model(data)
    assert loaded.config == TINY and loaded.classes[9] == "9" and loaded.mean == (0.1, 0.2, 0.3)
    assert loaded.info == {"val_accuracy": 0.5}
    for key, tensor in model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[key], tensor), key
    # Names are the live model's (torchvision's), and the config is in the metadata.
    from safetensors.torch import load

    assert "features.denseblock1.denselayer1.conv1.weight" in load(data)
    (n,) = struct.unpack("<Q", data[:8])
    meta = json.loads(json.loads(data[8:8 + n])["__metadata__"]["explorer"])
    assert meta["config"]["growth_rate"] == 2


def _with_header(data: bytes, edit) -> bytes:
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    edit(header)
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def test_refusals_are_one_line(saved):
    _, data = saved
    cases = {
        "too short": b"abc",
        "bad header length": b"\xff" * 16,
        "no explorer metadata": _with_header(data, lambda h: h.pop("__metadata__")),
        "missing 1 tensor": _with_header(data, lambda h: h.pop("classifier.bias")),
        "has shape": _with_header(data, lambda h: h["classifier.bias"].update(shape=[11])),
        "is F16": _with_header(data, lambda h: h["classifier.bias"].update(dtype="F16")),
    }
    for expected, blob in cases.items():
        with pytest.raises(WeightsFileError, match=expected) as info:
            load_model(blob, "m.safetensors")
        assert "\n" not in str(info.value) and str(info.value).startswith("m.safetensors: ")


def test_bad_config_in_metadata(saved):
    _, data = saved

    def edit(h):
        meta = json.loads(h["__metadata__"]["explorer"])
        meta["config"]["growth_rate"] = 0
        h["__metadata__"]["explorer"] = json.dumps(meta)

    with pytest.raises(WeightsFileError, match="bad config in the metadata: growth_rate"):
        load_model(_with_header(data, edit))
