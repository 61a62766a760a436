"""Inception v3's arithmetic profile against torchvision's model (params, FlopCounterMode, saved tensors)."""

import json

import pytest
import torch
import torchvision

import explorer
from explorer.cli.main import main
from explorer.errors import ConfigError
from explorer.models.inception_v3 import InceptionV3Config, profile_inception_v3
from explorer.analysis.measure import count_flops, count_params, saved_activation_bytes

# torchvision 0.29.1, Inception_V3_Weights.IMAGENET1K_V1.meta["num_params"] (AuxLogits included) and
# FlopCounterMode / 2 of an eval pass at 299 (which skips AuxLogits; meta "_ops" = 5.713).
V3_PARAMS = 27_161_264
V3_MACS = 5_713_216_096
V3_AUX_PARAMS = 3_326_696  # AuxLogits: conv0 768->128 + BN, conv1 5x5 128->768 + BN, fc 768->1000


def torchvision_v3(**kwargs):
    with torch.device("meta"):
        return torchvision.models.inception_v3(init_weights=False, **kwargs)


def test_preset_numbers():
    result = explorer.profile("inception_v3")
    assert result.params == V3_PARAMS
    assert result.macs == V3_MACS
    reference = torchvision_v3()
    assert count_params(reference) == V3_PARAMS
    assert count_flops(reference, (1, 3, 299, 299)) == 2 * V3_MACS
    aux = next(b for b in result.blocks if b.name == "AuxLogits")
    assert aux.params == V3_AUX_PARAMS == count_params(reference.AuxLogits)
    assert aux.params == 768 * 128 + 2 * 128 + 25 * 128 * 768 + 2 * 768 + 768 * 1000 + 1000
    assert aux.macs == 0


def test_mixed_rows():
    blocks = {b.name: b for b in explorer.profile("inception_v3").blocks}
    # Output channels and map sizes at 299 (torchvision's comments: 35x35x256 ... 8x8x2048).
    expected = {"Mixed_5b": (256, 35), "Mixed_5c": (288, 35), "Mixed_5d": (288, 35), "Mixed_6a": (768, 17),
                "Mixed_6b": (768, 17), "Mixed_6c": (768, 17), "Mixed_6d": (768, 17), "Mixed_6e": (768, 17),
                "Mixed_7a": (1280, 8), "Mixed_7b": (2048, 8), "Mixed_7c": (2048, 8)}
    for name, (channels, size) in expected.items():
        assert (blocks[name].out_channels, blocks[name].height, blocks[name].width) == (channels, size, size)
    reference = torchvision_v3()
    for name in expected:
        assert blocks[name].params == count_params(getattr(reference, name)), name


@pytest.mark.parametrize("config", [
    InceptionV3Config(aux_logits=False, input_size=75),
    InceptionV3Config(input_size=224, num_classes=10),
    InceptionV3Config(input_size=331, dropout=0.0),
    InceptionV3Config(input_size=512, aux_logits=False, num_classes=100),
])
def test_other_configs_match_torchvision(config):
    result = profile_inception_v3(config)
    reference = torchvision_v3(aux_logits=config.aux_logits, num_classes=config.num_classes, dropout=config.dropout)
    assert result.params == count_params(reference)
    assert result.macs == count_flops(reference, (1, 3, config.input_size, config.input_size)) // 2


@pytest.mark.slow
@pytest.mark.parametrize("config", [InceptionV3Config(), InceptionV3Config(aux_logits=False, input_size=107)])
def test_activation_memory(config):
    batch = 2  # the aux head's BN sees a 1x1 map: it needs more than one value per channel in training
    model = explorer.build_model(config).to_empty(device="cpu")  # values are irrelevant to what is saved
    measured = saved_activation_bytes(model, (batch, 3, config.input_size, config.input_size))
    assert abs(profile_inception_v3(config, batch).activation_bytes - measured) <= 0.05 * measured


def test_minimum_size_and_errors():
    assert InceptionV3Config(input_size=75).input_size == 75  # torchvision meta["min_size"] == (75, 75)
    with pytest.raises(ConfigError, match="input_size"):
        InceptionV3Config(input_size=74)
    with pytest.raises(ConfigError, match="dropout"):
        InceptionV3Config(dropout=1.5)
    # Below 299 px the aux head cannot run, but its weights still count.
    small = profile_inception_v3(InceptionV3Config(input_size=150))
    assert small.params == V3_PARAMS
    assert all(r.activation_bytes == 0 for r in small.layers if r.block == "AuxLogits")


def test_cli(capsys):
    assert main(["profile", "inception_v3", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["arch"] == "inception_v3" and data["input"] == [3, 299, 299]
    assert data["totals"]["params"] == V3_PARAMS and data["totals"]["macs"] == V3_MACS
    assert [b["name"] for b in data["blocks"] if b["name"].startswith("Mixed")][::10] == ["Mixed_5b", "Mixed_7c"]
    assert main(["profile", "inception_v3", "--width-multiplier", "2"]) == 2
    assert "does not apply to inception_v3" in capsys.readouterr().err
