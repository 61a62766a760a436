"""The Inception module designer: the seed's worked example, hand counts, the CLI, and the live module."""

import json
import random

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from explorer.cli.main import main
from explorer.errors import ConfigError
from explorer.models.inception import Inception, InceptionModuleConfig, inception_module_plan, module_report

SEED = InceptionModuleConfig(192, (64, 96, 128, 16, 32, 32), 28)


def branch(report, name):
    return next(b for b in report.branches if b.name == name)


def test_seed_worked_example():
    # Seed text (GoogLeNet 3a): 12,288 + (18,432 + 110,592) + (3,072 + 12,800) + 6,144 = 163,328.
    report = module_report(SEED)
    assert report.out_channels == 64 + 128 + 32 + 32 == 256
    assert report.conv_weight_params == 163_328
    assert [b.conv_weight_params for b in report.branches] == [12_288, 129_024, 15_872, 6_144]
    five = branch(report, "5x5")
    assert five.conv_weight_params == 1 * 1 * 192 * 16 + 5 * 5 * 16 * 32 == 15_872
    assert five.naive_conv_weight_params == 5 * 5 * 192 * 32 == 153_600
    assert round(five.naive_conv_weight_params / five.conv_weight_params, 1) == 9.7
    assert branch(report, "3x3").naive_conv_weight_params == 3 * 3 * 192 * 128
    # BN adds scale and shift per conv output channel: 2 x (64 + 96 + 128 + 16 + 32 + 32).
    assert report.params == 163_328 + 2 * 368
    # Every branch keeps 28 x 28, so MACs = conv weights x 784.
    assert report.macs == 163_328 * 28 * 28


def test_without_reduction_convs_read_the_input():
    report = module_report(SEED.replace(reduction=False))
    assert [b.out_channels for b in report.branches] == [64, 128, 32, 192]  # pool: no projection
    assert [b.conv_weight_params for b in report.branches] == [12_288, 221_184, 153_600, 0]
    assert report.out_channels == 416
    assert report.conv_weight_params == 387_072


def test_factorisation_counts():
    stacked = module_report(SEED.replace(factorize="stacked"))
    # 5x5 as two 3x3 (16 -> 32 -> 32): 3,072 + 9*16*32 + 9*32*32.
    assert branch(stacked, "5x5").conv_weight_params == 3_072 + 4_608 + 9_216
    assert branch(stacked, "3x3").conv_weight_params == 129_024  # a 3x3 stays
    asym = module_report(SEED.replace(factorize="asymmetric"))
    # 3x3 as 1x3 (96 -> 128) then 3x1 (128 -> 128); 5x5 as 1x5 (16 -> 32) then 5x1 (32 -> 32).
    assert branch(asym, "3x3").conv_weight_params == 18_432 + 3 * 96 * 128 + 3 * 128 * 128
    assert branch(asym, "5x5").conv_weight_params == 3_072 + 5 * 16 * 32 + 5 * 32 * 32
    assert branch(asym, "5x5").naive_conv_weight_params == 5 * 192 * 32 + 5 * 32 * 32
    assert asym.out_channels == 256


def test_torchvision_quirk_kernel():
    report = module_report(SEED.replace(branch3_kernel=3))
    assert branch(report, "5x5").conv_weight_params == 3_072 + 3 * 3 * 16 * 32


@pytest.mark.parametrize("changes, field", [
    ({"widths": (64, 96, 128, 0, 32, 32)}, "#5x5 reduce"),
    ({"widths": (0, 96, 128, 16, 32, 32)}, "#1x1"),
    ({"widths": (64, 96, 128, 16, 32)}, "widths"),
    ({"in_channels": 5000}, "in_channels"),
    ({"input_size": 0}, "size"),
    ({"factorize": "diagonal"}, "factorize"),
])
def test_invalid_modules_name_the_field(changes, field):
    with pytest.raises(ConfigError) as info:
        SEED.replace(**changes)
    assert str(info.value).startswith(field)
    assert "\n" not in str(info.value)


def test_reduction_widths_are_free_without_reduction():
    report = module_report(InceptionModuleConfig(192, (64, 0, 128, 0, 32, 0), 28, reduction=False))
    assert report.out_channels == 416


def _random_module(rng):
    return InceptionModuleConfig(rng.randint(1, 96), tuple(rng.randint(1, 48) for _ in range(6)), rng.randint(1, 20),
                                 reduction=rng.random() < 0.7, factorize=rng.choice(["none", "stacked", "asymmetric"]),
                                 branch3_kernel=rng.choice([3, 5]))


@pytest.mark.parametrize("seed", range(12))
def test_live_module_matches_report(seed):
    """The nn.Module built from the plan: numel, FlopCounterMode and the output shape agree with the report."""
    config = _random_module(random.Random(seed))
    report = module_report(config)
    with torch.device("meta"):
        module = Inception(inception_module_plan(config))
    assert sum(p.numel() for p in module.parameters()) == report.params
    conv_weights = sum(m.weight.numel() for m in module.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv_weights == report.conv_weight_params
    x = torch.empty(2, config.in_channels, config.input_size, config.input_size, device="meta")
    with FlopCounterMode(display=False) as counter:
        out = module.eval()(x)
    assert counter.get_total_flops() == 2 * 2 * report.macs
    assert tuple(out.shape) == (2, report.out_channels, config.input_size, config.input_size)


def test_cli_module_json(capsys):
    assert main(["module", "--in-channels", "192", "--widths", "64,96,128,16,32,32", "--size", "28",
                 "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"in_channels", "size", "out_channels", "conv_weight_params", "params", "macs", "branches"}
    assert (data["in_channels"], data["size"], data["out_channels"], data["conv_weight_params"]) == (192, 28, 256,
                                                                                                     163_328)
    five = data["branches"][2]
    assert set(five) == {"name", "out_channels", "conv_weight_params", "naive_conv_weight_params", "params", "macs"}
    assert (five["name"], five["conv_weight_params"], five["naive_conv_weight_params"]) == ("5x5", 15_872, 153_600)


def test_cli_module_flags(capsys):
    assert main(["module", "--no-reduction", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["conv_weight_params"] == 387_072
    assert main(["module", "--factorize", "--format", "json"]) == 0  # bare flag: stacked
    assert json.loads(capsys.readouterr().out)["branches"][2]["conv_weight_params"] == 3_072 + 4_608 + 9_216
    assert main(["module"]) == 0
    table = capsys.readouterr().out
    assert "163,328" in table and "153,600" in table and "15,872" in table


@pytest.mark.parametrize("argv, text", [
    (["module", "--widths", "64,96,128,0,32,32"], "#5x5 reduce"),
    (["module", "--widths", "1,2,3"], "expected 6 widths"),
    (["module", "--widths", "a,b,c,d,e,f"], "comma-separated"),
    (["module", "--in-channels", "99999"], "in_channels"),
    (["module", "--factorize", "sideways"], "invalid choice"),
])
def test_cli_module_errors(argv, text, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert text in err and err.count("\n") == 1 and "Traceback" not in err
