"""The feature-reuse matrix (DenseNet paper, Fig. 5) on a hand-built DenseNet whose weights are
set by hand, so each expected entry is worked out below from the numbers alone."""

import json

import pytest
import torch

from explorer.analysis.reuse import ReuseError, reuse_csv, reuse_json, reuse_matrices
from explorer.models.densenet import DenseNet, DenseNetConfig

# k=1, two blocks of two layers, 2 stem maps, no bottleneck, theta=1: block 1 sees 2 then 3
# channels and outputs 4; block 2 sees 4 then 5 and outputs 6; the classifier reads 6.
CONFIG = DenseNetConfig(growth_rate=1, block_config=(2, 2), num_init_features=2, bottleneck=False, compression=1.0,
                        stem="cifar", input_size=8, num_classes=2)


def _fill(weight: torch.Tensor, per_input_channel: list[float]) -> None:
    """Every weight reading input channel c gets per_input_channel[c] (all outputs, all taps)."""
    with torch.no_grad():
        for c, v in enumerate(per_input_channel):
            weight[:, c] = v


@pytest.fixture(scope="module")
def state():
    model = DenseNet(CONFIG)
    f = model.features
    _fill(f.denseblock1.denselayer1.conv1.weight, [1, -3])
    _fill(f.denseblock1.denselayer2.conv1.weight, [1, 1, -4])
    _fill(f.transition1.conv.weight, [2, 2, 1, 8])
    _fill(f.denseblock2.denselayer1.conv1.weight, [0.5, 0.5, 0.5, 0.5])
    _fill(f.denseblock2.denselayer2.conv1.weight, [3, 3, 3, 3, -6])
    with torch.no_grad():
        model.classifier.weight[:] = torch.tensor([[1.0, 1, 1, 1, 2, 4], [-1, -1, -1, -1, -2, 0]])
    return model.state_dict()


def test_matrix_by_hand(state):
    blocks = reuse_matrices(state)
    assert [b.name for b in blocks] == ["denseblock1", "denseblock2"]
    b1, b2 = blocks
    assert b1.sources == ["input", "denselayer1", "denselayer2"]
    assert b1.targets == ["denselayer1", "denselayer2", "transition1"]
    assert b2.targets == ["denselayer1", "denselayer2", "classifier"]
    # Block 1. layer1: input mean(|1|,|-3|) = 2 -> 2/2 = 1.
    # layer2: input mean(1,1) = 1, layer1 |-4| = 4 -> 1/4, 4/4.
    # transition1: input mean(2,2) = 2, layer1 1, layer2 8 -> 2/8, 1/8, 8/8.
    assert b1.matrix == [[1.0, None, None], [0.25, 1.0, None], [0.25, 0.125, 1.0]]
    # Block 2. layer1: only the input (0.5) -> 1. layer2: input 3, layer1 6 -> 0.5, 1.
    # classifier: input channels mean |.| over both rows = 1; layer1 (2+2)/2 = 2; layer2 (4+0)/2 = 2.
    assert b2.matrix == [[1.0, None, None], [0.5, 1.0, None], [0.5, 1.0, 1.0]]


def test_json_and_csv_shapes(state):
    data = json.loads(json.dumps(reuse_json(reuse_matrices(state))))
    assert data["blocks"][0]["matrix"][0] == [1.0, None, None]
    assert set(data["blocks"][0]) == {"name", "sources", "targets", "matrix"}
    lines = reuse_csv(reuse_matrices(state)).splitlines()
    assert lines[0] == "block,target,source,value"
    assert "denseblock1,transition1,denselayer1,0.125" in lines
    assert len(lines) == 1 + 2 * (1 + 2 + 3)  # connections per block: 1 + 2 + 3


def test_torchvision_densenet121_layout():
    import torchvision

    with torch.device("meta"):
        state = torchvision.models.densenet121().state_dict()
    # Meta tensors have shapes but no values: check the layout only (values need real weights).
    from explorer.analysis.reuse import _block_layout

    layout = _block_layout(state)
    assert [len(v) for v in layout.values()] == [6, 12, 24, 16]
    assert layout[1][0] == 64 and layout[2][0] == 128 and layout[4][-1] == 512 + 15 * 32


def test_not_a_densenet():
    with pytest.raises(ReuseError, match="no dense layers"):
        reuse_matrices({"fc.weight": torch.zeros(2, 2)})


def test_a_barely_trained_models_reuse_comes_with_a_caveat():
    """From the file's metadata: under halfway from guessing to 100 % (10 classes: 10 % and 55 %)
    the weights are still mostly their random start; no accuracy in the file, no claim."""
    from explorer.analysis.reuse import reuse_caveat

    assert str(reuse_caveat({"val_accuracy": 0.117}, 10)).startswith(
        "This model is barely trained (11.7 % validation accuracy; guessing gives 10 %)")
    assert reuse_caveat({"val_accuracy": 0.55}, 10) is None
    assert reuse_caveat({"val_accuracy": 0.6}, 2) is not None  # 2 classes: 50 % and 75 %
    assert reuse_caveat({}, 10) is None and reuse_caveat({"val_accuracy": "high"}, 10) is None
