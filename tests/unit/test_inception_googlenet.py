"""GoogLeNet: torchvision equivalence, exact params/MACs against independent counters, training memory."""

import json
import random

import pytest
import torch
import torchvision

import explorer
from explorer.cli.main import main
from explorer.errors import ConfigError
from explorer.models.googlenet import MODULE_NAMES, PRESETS, TABLE1, GoogLeNet, GoogLeNetConfig, profile_googlenet
from explorer.models.registry import build_model
from explorer.analysis.measure import count_flops, count_params, saved_activation_bytes

# torchvision 0.29.1, GoogLeNet_Weights.IMAGENET1K_V1.meta["num_params"]; MACs = FlopCounterMode / 2 at 224.
GOOGLENET_PARAMS = 6_624_904
GOOGLENET_MACS = 1_498_376_192


def torchvision_googlenet(**kwargs):
    with torch.device("meta"):
        return torchvision.models.googlenet(init_weights=False, **kwargs)


def test_googlenet_preset_numbers():
    result = explorer.profile("googlenet")
    assert result.params == GOOGLENET_PARAMS
    assert result.macs == GOOGLENET_MACS
    reference = torchvision_googlenet(aux_logits=False)
    assert count_params(reference) == GOOGLENET_PARAMS
    assert count_flops(reference, (1, 3, 224, 224)) == 2 * GOOGLENET_MACS
    assert PRESETS["googlenet"].depth == 22  # "22 layers deep" (paper, counting layers with weights)


def test_googlenet_paper_preset_uses_true_5x5():
    result = explorer.profile("googlenet-paper")
    model = build_model("googlenet-paper")
    assert model.inception3a.branch3[1].conv.kernel_size == (5, 5)
    assert build_model("googlenet").inception3a.branch3[1].conv.kernel_size == (3, 3)
    # Each "5x5" conv gains 16 weights per (in, out) channel pair over the 3x3.
    extra = sum(16 * row[3] * row[4] for row in TABLE1)
    assert result.params == GOOGLENET_PARAMS + extra == 7_005_832
    assert result.params == count_params(model)
    assert result.macs == count_flops(model, (1, 3, 224, 224)) // 2 == 1_582_671_872


@pytest.mark.slow
@pytest.mark.parametrize("aux", [False, True])
def test_torchvision_state_dict_loads_strict_and_gives_same_logits(aux):
    torch.manual_seed(0)
    reference = torchvision.models.googlenet(aux_logits=aux, init_weights=False)
    for module in reference.modules():  # non-trivial BN statistics so a swapped layer would show
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    ours = build_model(PRESETS["googlenet"].replace(aux_logits=aux), device="cpu")
    ours.load_state_dict(reference.state_dict(), strict=True)
    assert list(ours.state_dict()) == list(reference.state_dict()) or set(ours.state_dict()) == set(
        reference.state_dict())
    x = torch.randn(2, 3, 160, 160)
    with torch.no_grad():
        torch.testing.assert_close(ours.eval()(x), reference.eval()(x), rtol=0, atol=0)


@pytest.mark.slow
def test_transform_input_matches_torchvision():
    reference = torchvision.models.googlenet(aux_logits=False, init_weights=False, transform_input=True)
    ours = build_model(PRESETS["googlenet"].replace(transform_input=True), device="cpu")
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.rand(1, 3, 96, 96)
    with torch.no_grad():
        torch.testing.assert_close(ours.eval()(x), reference.eval()(x))


def test_training_outputs_like_torchvision():
    model = build_model(GoogLeNetConfig(aux_logits=True, input_size=64, width_multiplier=0.25), device="cpu")
    out = model.train()(torch.randn(2, 3, 64, 64))
    assert [tuple(t.shape) for t in out] == [(2, 1000)] * 3  # logits, aux2, aux1
    assert tuple(model.eval()(torch.randn(1, 3, 64, 64)).shape) == (1, 1000)


def random_config(rng: random.Random) -> GoogLeNetConfig:
    widths = tuple(tuple(max(1, int(w * rng.uniform(0.05, 1.3))) for w in row) for row in TABLE1)
    stem = rng.choice(["imagenet", "cifar"])
    return GoogLeNetConfig(
        widths=widths, width_multiplier=rng.choice([0.25, 0.5, 0.75, 1.0, 1.3]), branch3_kernel=rng.choice([3, 5]),
        factorize=rng.choice(["none", "stacked", "asymmetric"]), aux_logits=rng.random() < 0.5, stem=stem,
        input_size=rng.randint(15, 260) if stem == "imagenet" else rng.randint(8, 64),
        num_classes=rng.choice([10, 100, 1000]), dropout=rng.choice([0.0, 0.2, 0.5]))


@pytest.mark.parametrize("seed", range(32))
def test_random_configs_params_and_macs_exact(seed):
    config = random_config(random.Random(seed))
    result = explorer.profile(config)
    model = explorer.build_model(config)  # meta: nothing allocated
    assert result.params == count_params(model)
    assert result.macs == count_flops(model, (1, 3, config.input_size, config.input_size)) // 2
    assert 2 * result.macs == count_flops(model, (1, 3, config.input_size, config.input_size))


def _within(profiled: int, measured: int, tolerance: float = 0.05) -> bool:
    return abs(profiled - measured) <= tolerance * measured


@pytest.mark.parametrize("preset", ["googlenet", "googlenet-paper"])
def test_activation_memory_presets(preset):
    config = PRESETS[preset]
    measured = saved_activation_bytes(build_model(config, device="cpu"), (1, 3, 224, 224))
    assert _within(profile_googlenet(config).activation_bytes, measured)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_activation_memory_random_configs(seed):
    rng = random.Random(100 + seed)
    config = random_config(rng).replace(width_multiplier=rng.choice([0.25, 0.5]))
    if config.stem == "imagenet":
        config = config.replace(input_size=min(config.input_size, 128))
    batch = 2  # the aux heads' BN needs more than one value per channel in training
    measured = saved_activation_bytes(build_model(config, device="cpu"), (batch, 3, config.input_size,
                                                                               config.input_size))
    assert _within(explorer.profile(config, batch_size=batch).activation_bytes, measured)


def test_config_round_trip_and_module_rows():
    config = PRESETS["googlenet"].replace(width_multiplier=0.5, aux_logits=True)
    assert GoogLeNetConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    result = explorer.profile("googlenet")
    blocks = {b.name: b for b in result.blocks}
    # Table 1 output channels and map sizes at 224.
    expected = {"3a": (256, 28), "3b": (480, 28), "4a": (512, 14), "4b": (512, 14), "4c": (512, 14),
                "4d": (528, 14), "4e": (832, 14), "5a": (832, 7), "5b": (1024, 7)}
    for name in MODULE_NAMES:
        row = blocks[f"inception{name}"]
        assert (row.out_channels, row.height) == expected[name]
    # The seed's module plus BN; torchvision's 3x3 "5x5" conv has 16 x 32 x (25 - 9) fewer weights.
    paper = {b.name: b for b in explorer.profile("googlenet-paper").blocks}
    assert paper["inception3a"].params == 163_328 + 2 * 368
    assert blocks["inception3a"].params == 163_328 - 16 * 32 * 16 + 2 * 368


@pytest.mark.parametrize("changes, field", [
    ({"width_multiplier": 0}, "width_multiplier"),
    ({"widths": TABLE1[:8]}, "widths"),
    ({"widths": ((64, 96, 128, 16, 0, 32),) + TABLE1[1:]}, "inception3a #5x5"),
    ({"input_size": 14}, "input_size"),
    ({"dropout": 1.0}, "dropout"),
    ({"stem": "tiny"}, "stem"),
    ({"branch3_kernel": 7}, "branch3_kernel"),
])
def test_invalid_configs(changes, field):
    with pytest.raises(ConfigError) as info:
        PRESETS["googlenet"].replace(**changes)
    assert str(info.value).startswith(field)


def test_minimum_input_size_matches_torchvision():
    # GoogLeNet_Weights.IMAGENET1K_V1.meta["min_size"] == (15, 15)
    assert GoogLeNetConfig(input_size=15).input_size == 15
    with pytest.raises(ConfigError, match="at least 15 px"):
        GoogLeNetConfig(input_size=14)


def test_cli_profile_googlenet(capsys):
    assert main(["profile", "googlenet", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["arch"] == "googlenet" and data["preset"] == "googlenet"
    assert data["totals"]["params"] == GOOGLENET_PARAMS and data["totals"]["macs"] == GOOGLENET_MACS
    assert set(data) == {"arch", "preset", "config", "input", "batch_size", "totals", "blocks", "layers"}
    assert main(["profile", "googlenet", "--width-multiplier", "0.5", "--aux-logits", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    model = explorer.build_model(GoogLeNetConfig(width_multiplier=0.5, aux_logits=True))
    assert data["preset"] is None and data["totals"]["params"] == count_params(model)
    assert main(["profile", "googlenet-paper"]) == 0
    assert "7,005,832" in capsys.readouterr().out


@pytest.mark.parametrize("argv, text", [
    (["profile", "googlenet", "--growth-rate", "12"], "--growth-rate does not apply to googlenet"),
    (["profile", "googlenet", "--no-bottleneck"], "--no-bottleneck does not apply to googlenet"),
    (["profile", "densenet121", "--width-multiplier", "2"], "--width-multiplier does not apply to densenet"),
    (["profile", "googlenet", "--input-size", "10"], "input_size"),
])
def test_cli_profile_errors(argv, text, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert text in err and err.count("\n") == 1


def test_materialize_initialises_like_torchvision():
    model = explorer.materialize(explorer.build_model("googlenet"), "cpu")
    assert isinstance(model, GoogLeNet)
    weight = model.inception4a.branch2[1].conv.weight
    assert torch.isfinite(weight).all() and 0.005 < weight.std().item() < 0.015  # truncated normal, std 0.01
    assert torch.equal(model.conv1.bn.weight, torch.ones(64))
