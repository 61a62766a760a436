"""The analytic profile against independent counts: sum(numel), FlopCounterMode, autograd's saved
tensors, torchvision's metadata and the DenseNet paper's Table 2."""

import random

import pytest
import torchvision

import explorer
from explorer.models.densenet import PRESETS, DenseNetConfig
from explorer.errors import ConfigError
from explorer.analysis.measure import count_flops, count_params, saved_activation_bytes

# torchvision 0.29.1: weights.meta["num_params"], and FlopCounterMode / 2 (its "_ops" are these, rounded).
TORCHVISION = {
    "densenet121": (7_978_856, 2_834_161_664),
    "densenet169": (14_149_480, 3_359_843_328),
    "densenet201": (20_013_928, 4_291_365_888),
    "densenet161": (28_681_000, 7_727_907_072),
}
# DenseNet paper (Huang et al. 2017), Table 2, params in millions.
PAPER_TABLE_2 = {
    "densenet-40-k12": 1.0, "densenet-100-k12": 7.0, "densenet-100-k24": 27.2,
    "densenet-bc-100-k12": 0.8, "densenet-bc-250-k24": 15.3, "densenet-bc-190-k40": 25.6,
}


def random_configs(count: int, seed: int):
    rng = random.Random(seed)
    configs = []
    while len(configs) < count:
        i = len(configs)
        stem = "imagenet" if i % 2 == 0 else "cifar"
        blocks = tuple(rng.randint(1, 5) for _ in range(rng.randint(1, 4)))
        try:
            configs.append(DenseNetConfig(
                growth_rate=rng.randint(1, 24), block_config=blocks, num_init_features=rng.randint(1, 48),
                bottleneck=(i // 2) % 2 == 0, bn_size=rng.randint(1, 5),
                compression=rng.choice([0.3, 0.5, 0.7, 0.29, 0.85, 1.0]) if i % 4 else 0.7,
                drop_rate=rng.choice([0.0, 0.0, 0.2]), stem=stem,
                input_size=rng.choice([33, 47, 64, 65, 97]) if stem == "imagenet" else rng.choice([9, 16, 21, 32]),
                num_classes=rng.randint(1, 20), memory_efficient=rng.random() < 0.3))
        except ConfigError:
            continue  # e.g. too small an input for that many blocks
    return configs


RANDOM_CONFIGS = random_configs(60, seed=2017)


def test_random_configs_cover_the_space():
    assert len(RANDOM_CONFIGS) >= 50
    assert {c.stem for c in RANDOM_CONFIGS} == {"imagenet", "cifar"}
    assert {c.bottleneck for c in RANDOM_CONFIGS} == {True, False}
    assert any(c.compression < 1 for c in RANDOM_CONFIGS)
    assert any(c.input_size % 2 for c in RANDOM_CONFIGS)
    assert any(c.memory_efficient for c in RANDOM_CONFIGS) and any(c.drop_rate for c in RANDOM_CONFIGS)


@pytest.mark.parametrize("name", list(TORCHVISION))
def test_torchvision_metadata(name):
    params, macs = TORCHVISION[name]
    result = explorer.profile(name)
    assert result.params == params
    assert result.macs == macs
    assert result.flops == 2 * macs
    meta = torchvision.models.get_model_weights(name).DEFAULT.meta
    assert meta["num_params"] == params
    assert round(macs / 1e9, 3) == pytest.approx(meta["_ops"], abs=1e-3)


@pytest.mark.parametrize("name", list(PAPER_TABLE_2))
def test_paper_table_2(name):
    assert round(explorer.profile(name).params / 1e6, 1) == PAPER_TABLE_2[name]


def test_densenet264_recomputed():
    result = explorer.profile("densenet264")
    assert result.params == 33_337_704
    assert round(result.macs / 1e9, 2) == 5.75


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_match_module_and_flop_counter(name):
    config = PRESETS[name]
    result = explorer.profile(name)
    model = explorer.build_model(name)  # meta: no memory
    assert result.params == count_params(model)
    assert 2 * result.macs == count_flops(model, (1, 3, config.input_size, config.input_size))
    assert result.param_bytes == 4 * result.params


@pytest.mark.parametrize("index", range(len(RANDOM_CONFIGS)))
def test_random_configs_match_module_and_flop_counter(index):
    config = RANDOM_CONFIGS[index]
    result = explorer.profile(config, batch_size=2)
    model = explorer.build_model(config)
    assert result.params == count_params(model)
    # MACs are per image (torchvision's convention); FlopCounterMode counts the whole batch.
    assert 2 * 2 * result.macs == count_flops(model, (2, 3, config.input_size, config.input_size))


def _relative_error(config, batch_size):
    analytic = explorer.profile(config, batch_size=batch_size).activation_bytes
    measured = saved_activation_bytes(explorer.build_model(config, "cpu"), (batch_size, 3, config.input_size,
                                                                             config.input_size))
    return abs(analytic - measured) / measured


@pytest.mark.slow
@pytest.mark.parametrize("memory_efficient", [False, True])
@pytest.mark.parametrize("name", ["densenet121", "densenet-40-k12", "densenet-bc-100-k12", "densenet161"])
def test_activation_memory_matches_saved_tensors(name, memory_efficient):
    config = PRESETS[name].replace(memory_efficient=memory_efficient)
    if config.stem == "imagenet":
        config = config.replace(input_size=112)  # same arithmetic as 224, a quarter of the work
    assert _relative_error(config, batch_size=2) < 0.05


@pytest.mark.slow
@pytest.mark.parametrize("memory_efficient", [False, True])
def test_activation_memory_of_full_size_densenet121(memory_efficient):
    assert _relative_error(PRESETS["densenet121"].replace(memory_efficient=memory_efficient), 1) < 0.05


@pytest.mark.slow
@pytest.mark.parametrize("index", range(0, len(RANDOM_CONFIGS), 2))
def test_activation_memory_random_configs(index):
    config = RANDOM_CONFIGS[index]
    for mode in (False, True):
        assert _relative_error(config.replace(memory_efficient=mode), batch_size=2) < 0.05


def test_memory_efficient_saves_memory_and_scales_with_batch():
    standard = explorer.profile("densenet-bc-100-k12", batch_size=64)
    efficient = explorer.profile(PRESETS["densenet-bc-100-k12"].replace(memory_efficient=True), batch_size=64)
    assert efficient.activation_bytes < 0.6 * standard.activation_bytes
    one = explorer.profile("densenet-bc-100-k12", batch_size=1).activation_bytes
    # Everything but BN's per-channel statistics scales with the batch.
    assert 63 * one < standard.activation_bytes < 64 * one


def test_profile_rows_and_blocks_are_consistent():
    result = explorer.profile("densenet121")
    assert sum(b.params for b in result.blocks) == result.params
    assert sum(b.macs for b in result.blocks) == result.macs
    assert sum(b.activation_bytes for b in result.blocks) == result.activation_bytes
    blocks = {b.name: b for b in result.blocks}
    assert (blocks["denseblock1"].out_channels, blocks["transition1"].out_channels) == (256, 128)
    assert (blocks["denseblock3"].height, blocks["denseblock4"].height) == (14, 7)
    layer = next(r for r in result.layers if r.name == "features.denseblock1.denselayer3.cat")
    assert layer.in_channels == 64 + 2 * 32


def test_to_dict_shape():
    data = explorer.profile("densenet121", batch_size=4).to_dict()
    assert list(data) == ["arch", "preset", "config", "input", "batch_size", "totals", "blocks", "layers"]
    assert data["input"] == [3, 224, 224] and data["batch_size"] == 4 and data["preset"] == "densenet121"
    assert list(data["totals"]) == ["params", "macs", "flops", "param_bytes", "activation_bytes"]
    assert list(data["layers"][1]) == ["name", "kind", "in_channels", "out_channels", "height", "width", "params",
                                       "macs", "activation_bytes"]


def test_input_size_override():
    result = explorer.profile("densenet121", input_size=112)
    assert result.input == (3, 112, 112)
    assert result.params == 7_978_856
    assert result.macs == count_flops(explorer.build_model(PRESETS["densenet121"].replace(input_size=112)),
                                      (1, 3, 112, 112)) // 2


def test_bad_batch_size():
    with pytest.raises(ConfigError, match="batch_size"):
        explorer.profile("densenet121", batch_size=0)
    with pytest.raises(ConfigError, match="unknown preset"):
        explorer.profile("densenet122")
