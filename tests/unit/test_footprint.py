"""The whole training-step footprint against the CPU allocator (torch.profiler memory events):
within 5 % for presets (at small inputs, so the test stays quick) and small configs, for each
optimizer, in float32 and under bf16 autocast; the checkpoint RNG state counted exactly; configs
that cannot train flagged; the largest batch that fits."""

import random

import pytest
import torch

from explorer.analysis.footprint import (CPU_RNG_STATE_BYTES, footprint_of, growth_exponent, largest_batch,
                                         measure_forward_bytes, measure_inference, measure_training_step,
                                         training_footprint)
from explorer.models.densenet import PRESETS, DenseNet, DenseNetConfig, profile_densenet
from explorer.training import default_config


def _random_configs(n: int, seed: int = 15):
    """Random small configs with at least a few MB of activations: below that, the CPU kernels'
    own transient buffers (about 100 KB, measured) are more than 5 % of the step."""
    rng = random.Random(seed)
    for _ in range(n):
        yield DenseNetConfig(growth_rate=rng.choice([8, 12, 16]), block_config=tuple(rng.randint(2, 6) for _ in range(3)),
                             num_init_features=rng.choice([16, 24]), bottleneck=rng.choice([True, False]),
                             compression=rng.choice([0.5, 1.0]), stem="cifar", input_size=32, num_classes=10,
                             memory_efficient=False)


CASES = {
    "default-bc40": (default_config(), 4),
    "default-bc40-efficient": (default_config().replace(memory_efficient=True), 4),
    "densenet-40-k12-16px": (PRESETS["densenet-40-k12"].replace(input_size=16), 2),
    "densenet-bc-100-k12-8px": (PRESETS["densenet-bc-100-k12"].replace(input_size=8), 2),
    **{f"random-{i}": (c, 4) for i, c in enumerate(_random_configs(3))},
}


def _within(predicted: int, measured: int, tolerance: float) -> None:
    assert abs(predicted / measured - 1) <= tolerance, f"predicted {predicted:,} measured {measured:,}"


# Every optimizer on the default model; one each on the others (the state is checked exactly in
# test_optimizer_state_sizes). All eleven presets at batch 2 (CIFAR ones at 8 px, ImageNet ones at
# 32 px) were within 1.2 % with momentum too, but take minutes on a busy machine.
PAIRS = [("default-bc40", o) for o in ("sgd", "momentum", "adam")] + [
    (name, ("sgd", "momentum", "adam")[i % 3]) for i, name in enumerate(n for n in CASES if n != "default-bc40")]


@pytest.mark.slow
@pytest.mark.parametrize("name, optimizer", PAIRS)
def test_training_step_within_5_percent(name, optimizer):
    config, batch = CASES[name]
    predicted = training_footprint(profile_densenet(config, batch), optimizer).training_bytes
    _within(predicted, measure_training_step(config, batch, optimizer), 0.05)


def test_shallow_memory_efficient_blocks_known_gap():
    """Known gap: in memory-efficient mode with 1-3 layers per block the prediction is 15-18 %
    low (recomputation transients not fully modelled); with 6 layers per block it is within 2 %
    (default-bc40-efficient above). Pinned here so a change in either direction is noticed."""
    config = DenseNetConfig(growth_rate=8, block_config=(3, 3), num_init_features=16, bottleneck=False,
                            compression=1.0, stem="cifar", input_size=16, num_classes=10, memory_efficient=True)
    predicted = training_footprint(profile_densenet(config, 4)).training_bytes
    measured = measure_training_step(config, 4)
    assert 0.78 <= predicted / measured <= 1.0


@pytest.mark.slow
def test_mixed_precision_within_5_percent():
    config = default_config()
    f = training_footprint(profile_densenet(config, 4), "momentum", "amp")
    _within(f.training_bytes, measure_training_step(config, 4, "momentum", "amp"), 0.05)
    assert f.training_bytes < 0.6 * training_footprint(profile_densenet(config, 4), "momentum").training_bytes


@pytest.mark.parametrize("name", ["default-bc40", "densenet-40-k12-16px", "random-0"])
def test_inference_is_a_lower_bound_of_the_allocator_peak(name):
    """Inference counts tensors, not the CPU convolution kernels' temporary buffers: the
    allocator's peak is higher (measured 1.03-1.3x here, up to 1.9x for tiny maps), never lower."""
    config, batch = CASES[name]
    predicted = training_footprint(profile_densenet(config, batch)).inference_bytes
    measured = measure_inference(config, batch)
    assert predicted <= measured <= 2 * predicted


def test_optimizer_state_sizes():
    config = default_config()
    params = sum(p.numel() for p in DenseNet(config).parameters())  # 176,122
    f = {o: training_footprint(profile_densenet(config, 2), o) for o in ("sgd", "momentum", "adam")}
    assert (f["sgd"].optimizer_state, f["momentum"].optimizer_state, f["adam"].optimizer_state) == (
        0, 4 * params, 8 * params)
    assert f["sgd"].gradients == 4 * params


@pytest.mark.parametrize("efficient", [False, True])
def test_forward_memory_and_rng_state_exact(efficient):
    """What backward will need, measured with the allocator, equals the profile's activation bytes
    plus 5,056 bytes per checkpointed layer."""
    config = default_config().replace(input_size=16, block_config=(3, 2, 2), memory_efficient=efficient)
    f = training_footprint(profile_densenet(config, 2))
    assert f.checkpoint_rng == (7 * 5056 if efficient else 0) and CPU_RNG_STATE_BYTES == 5056
    assert measure_forward_bytes(config, 2) == f.activations + f.checkpoint_rng


def test_cannot_train_is_flagged_with_the_reason():
    # cifar stem at 8 px, 4 blocks: 8 -> 4 -> 2 -> 1, so norm5 normalises a 1x1 map.
    config = DenseNetConfig(growth_rate=4, block_config=(1, 1, 1, 1), num_init_features=8, stem="cifar", input_size=8,
                            num_classes=10)
    f = training_footprint(profile_densenet(config, 1))
    assert not f.can_train and "1x1 map at batch 1" in f.reason
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        DenseNet(config).train()(torch.randn(1, 3, 8, 8))
    assert training_footprint(profile_densenet(config, 2)).can_train


def test_largest_batch():
    config = default_config()
    memory = 2 * 10**9
    best = largest_batch(config, memory, "adam")
    assert footprint_of(config, best, "adam").training_bytes <= memory
    assert footprint_of(config, best + 1, "adam").training_bytes > memory
    assert largest_batch(config, 10**3) == 0
    assert largest_batch(config, 10**15) == 4096


def test_growth_exponent():
    assert growth_exponent([1, 2, 4, 8], [3, 12, 48, 192]) == pytest.approx(2.0)
    assert growth_exponent([2, 3, 5], [10, 15, 25]) == pytest.approx(1.0)


def test_cannot_train_reason_in_both_languages():
    """The reason is English text that translates (a ``Message``)."""
    from explorer.analysis.footprint import footprint_of
    from explorer.i18n import render, translator
    from explorer.models.densenet import DenseNetConfig

    # CIFAR stem at 8 px, 4 blocks: 8 -> 4 -> 2 -> 1, so the last block sees 1x1 maps.
    config = DenseNetConfig(growth_rate=4, block_config=(1, 1, 1, 1), num_init_features=8, stem="cifar",
                            input_size=8, num_classes=10)
    f = footprint_of(config, 1)
    assert not f.can_train
    layer = f.reason.split(" ")[0]
    assert layer.startswith("features.") and f.reason == (
        f"{layer} normalises a 1x1 map at batch 1: BatchNorm needs more than one value per channel in training "
        f"(use batch 2 or more, or a larger input)")
    assert render(f.reason, translator("ja")).startswith(f"{layer} はバッチ 1 で 1×1 のマップを正規化する")
    assert footprint_of(config, 2).can_train
