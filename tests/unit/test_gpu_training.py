"""On CUDA: the predicted training-step footprint against torch.cuda.max_memory_allocated, and a
short training run on the GPU. Skipped without CUDA."""

import pytest
import torch

from explorer.analysis.footprint import measure_training_step, training_footprint
from explorer.models.densenet import PRESETS, DenseNetConfig, profile_densenet
from explorer.training import default_config, digits_dataset, train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")

CONFIGS = {
    "default-bc40": default_config(),
    "bc40-efficient": default_config().replace(memory_efficient=True),
    "densenet-40-k12": PRESETS["densenet-40-k12"],
    "densenet-bc-100-k12": PRESETS["densenet-bc-100-k12"],
    "densenet121-64px": PRESETS["densenet121"].replace(input_size=64),
    "small-no-bottleneck": DenseNetConfig(growth_rate=8, block_config=(4, 4), num_init_features=16, bottleneck=False,
                                          compression=1.0, stem="cifar", input_size=16, num_classes=10),
}


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_cuda_peak_within_10_percent(name, optimizer):
    config = CONFIGS[name]
    batch = 32
    predicted = training_footprint(profile_densenet(config, batch), optimizer).training_bytes
    measured = measure_training_step(config, batch, optimizer, device="cuda")
    print(f"{name} {optimizer}: measured {measured} predicted {predicted} ({100 * (predicted / measured - 1):+.2f} %)")
    assert abs(predicted / measured - 1) <= 0.10


def test_trains_on_cuda():
    result = train(default_config(), digits_dataset(), epochs=2, device="cuda")
    assert result.device.startswith("cuda")
    assert result.val_accuracy > 0.5
