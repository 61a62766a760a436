"""ResNet / ResNeXt / wide ResNet: exact against torchvision (params, MACs, state dicts), training memory,
the concatenation switch and the cardinality view (ResNeXt paper, Table 2)."""

import json

import pytest
import torch
import torchvision
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torchvision.models import get_model_weights
from torchvision.models.resnet import BasicBlock as TorchvisionBasicBlock
from torchvision.models.resnet import Bottleneck as TorchvisionBottleneck
from torchvision.models.resnet import ResNet as TorchvisionResNet

from explorer.analysis.measure import count_flops, count_params, saved_activation_bytes
from explorer.errors import ConfigError
from explorer.models.limits import RESNET as LIMITS
from explorer.models.resnet import (PRESET_DESCRIPTIONS, PRESETS, RESNEXT_TABLE2, ResNet, ResNetConfig,
                                    cardinality_family, profile_resnet, resnet_plan)
from tests.helpers.errors import message

# torchvision 0.29.1: weights meta "num_params" and "_ops" (its "GFLOPS" are GMACs) of IMAGENET1K_V1.
PUBLISHED = {
    "resnet18": (11_689_512, 1.814),
    "resnet34": (21_797_672, 3.664),
    "resnet50": (25_557_032, 4.089),
    "resnet101": (44_549_160, 7.801),
    "resnet152": (60_192_808, 11.514),
    "resnext50_32x4d": (25_028_904, 4.230),
    "resnext101_32x8d": (88_791_336, 16.414),
    "resnext101_64x4d": (83_455_272, 15.460),
    "wide_resnet50_2": (68_883_240, 11.398),
    "wide_resnet101_2": (126_886_696, 22.753),
}
# FlopCounterMode / 2 on torchvision's models at 224 px (docs/REFERENCE).
EXACT_MACS = {"resnet50": 4_089_184_256, "resnext50_32x4d": 4_230_479_872}


def on_meta(build):
    """Built on the meta device (no memory) in eval mode (BN needs no batch statistics)."""
    with torch.device("meta"):
        return build().eval()


def test_presets_are_torchvision_models_with_descriptions():
    assert list(PRESETS) == list(PUBLISHED) == list(PRESET_DESCRIPTIONS)
    assert [PRESETS[n].depth for n in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")] == [
        18, 34, 50, 101, 152]


@pytest.mark.parametrize("name", PUBLISHED)
def test_preset_matches_torchvision(name):
    params, gmacs = PUBLISHED[name]
    meta = get_model_weights(name).IMAGENET1K_V1.meta
    assert (meta["num_params"], meta["_ops"]) == (params, gmacs)
    profile = profile_resnet(PRESETS[name])
    reference = on_meta(getattr(torchvision.models, name))
    ours = on_meta(lambda: ResNet(PRESETS[name]))
    assert profile.params == count_params(ours) == count_params(reference) == params
    assert profile.macs == count_flops(ours, (1, 3, 224, 224)) // 2
    assert round(profile.macs / 1e9, 3) == gmacs
    if name in EXACT_MACS:
        assert profile.macs == EXACT_MACS[name]
    assert tuple(ours(torch.empty(2, 3, 224, 224, device="meta")).shape) == (2, 1000)
    theirs = {k: v.shape for k, v in reference.state_dict().items()}
    assert {k: v.shape for k, v in ours.state_dict().items()} == theirs
    ours.load_state_dict(reference.state_dict(), strict=True)
    reference.load_state_dict(ours.state_dict(), strict=True)


def _randomise_bn_statistics(model):
    for module in model.modules():  # non-trivial statistics, so a swapped layer would show
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
            module.weight.data.uniform_(0.5, 1.5)


@pytest.mark.parametrize("build, config", [
    (lambda: TorchvisionResNet(TorchvisionBasicBlock, [1, 2, 1, 1], num_classes=10),
     ResNetConfig("basic", (1, 2, 1, 1), num_classes=10)),
    (lambda: TorchvisionResNet(TorchvisionBottleneck, [1, 2, 1, 1], num_classes=10, groups=4, width_per_group=8),
     ResNetConfig("bottleneck", (1, 2, 1, 1), cardinality=4, width_per_group=8, num_classes=10)),
])
def test_state_dict_round_trip_gives_the_same_logits(build, config):
    torch.manual_seed(0)
    reference = build()
    _randomise_bn_statistics(reference)
    ours = ResNet(config)
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 40, 40)
    with torch.no_grad():
        torch.testing.assert_close(ours.eval()(x), reference.eval()(x), rtol=0, atol=0)
    _randomise_bn_statistics(ours)
    reference.load_state_dict(ours.state_dict(), strict=True)
    with torch.no_grad():
        torch.testing.assert_close(reference(x), ours(x), rtol=0, atol=0)


@pytest.mark.slow  # about 0.3 s an example
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bottleneck=st.booleans(), layers=st.lists(st.integers(1, 3), min_size=4, max_size=4),
       groups=st.integers(1, 8), width_per_group=st.integers(1, 24), num_classes=st.integers(1, 20),
       size=st.integers(8, 48))
def test_random_configs_match_torchvision(bottleneck, layers, groups, width_per_group, num_classes, size):
    if bottleneck:
        block, config = TorchvisionBottleneck, ResNetConfig("bottleneck", tuple(layers), cardinality=groups,
                                                             width_per_group=width_per_group,
                                                             num_classes=num_classes, input_size=size)
    else:
        groups, width_per_group = 1, 64  # torchvision's BasicBlock allows nothing else
        block, config = TorchvisionBasicBlock, ResNetConfig("basic", tuple(layers), num_classes=num_classes,
                                                            input_size=size)
    reference = on_meta(lambda: TorchvisionResNet(block, layers, num_classes=num_classes, groups=groups,
                                                  width_per_group=width_per_group))
    ours = on_meta(lambda: ResNet(config))
    profile = profile_resnet(config)
    assert profile.params == count_params(ours) == count_params(reference)
    assert 2 * profile.macs == count_flops(ours, (1, 3, size, size)) == count_flops(reference, (1, 3, size, size))
    assert ours(torch.empty(1, 3, size, size, device="meta")).shape == (1, num_classes)
    ours.load_state_dict(reference.state_dict(), strict=True)
    reference.load_state_dict(ours.state_dict(), strict=True)


@pytest.mark.parametrize("config", [
    ResNetConfig("basic", (1, 1, 1, 1), base_width=8, input_size=32),
    ResNetConfig("bottleneck", (2, 1, 2), base_width=8, cardinality=4, width_per_group=8, input_size=19),
    ResNetConfig("bottleneck", (2, 2), base_width=8, cardinality=2, width_per_group=16, input_size=20,
                 shortcut="concat"),
    ResNetConfig("basic", (2, 3), base_width=8, input_size=17, shortcut="concat", stem="cifar"),
    ResNetConfig("bottleneck", (2, 2, 1), base_width=4, width_per_group=32, input_size=16, stem="cifar",
                 num_classes=7),
])
def test_training_memory_is_what_autograd_saves(config):
    model = ResNet(config)
    size = config.input_size
    assert profile_resnet(config, batch_size=2).activation_bytes == saved_activation_bytes(model, (2, 3, size, size))
    assert profile_resnet(config).params == count_params(model)
    assert 2 * profile_resnet(config).macs == count_flops(model, (1, 3, size, size), device="cpu")


def test_concatenation_grows_channels_like_a_dense_block():
    add = ResNetConfig("bottleneck", (2, 3), base_width=8, input_size=32)
    concat = add.replace(shortcut="concat")
    # Stage 1: planes 8, branch output k = 32; the first block projects 8 -> 32, then each block adds 32.
    # Stage 2: k = 64; the stride-2 projection compresses 96 -> 64 (DenseNet's transition), then + 3 x 64.
    assert resnet_plan(add).stage_out_channels == (32, 64)
    assert resnet_plan(concat).stage_out_channels == (32 + 2 * 32, 64 + 3 * 64)
    assert resnet_plan(concat).fc.in_features == 256
    a, c = ResNet(add), ResNet(concat)
    convs = lambda m: [n for n, x in m.named_modules() if isinstance(x, torch.nn.Conv2d)]  # noqa: E731
    assert convs(a) == convs(c) and add.depth == concat.depth  # the same layers, only the merge differs
    # The convs that read the grown inputs: block 2's conv1 reads 64 channels (not 32), and so on.
    assert c.layer1[1].conv1.in_channels == 64 and a.layer1[1].conv1.in_channels == 32
    assert c.layer2[0].downsample[0].in_channels == 96
    assert profile_resnet(concat).params > profile_resnet(add).params
    assert c(torch.randn(2, 3, 32, 32)).shape == (2, 1000)


def test_cardinality_family_is_the_papers_table_2():
    rows = cardinality_family()
    assert [(r.cardinality, r.width_per_group) for r in rows] == list(RESNEXT_TABLE2) == [
        (1, 64), (2, 40), (4, 24), (8, 14), (32, 4)]
    for r in rows:
        C, d = r.cardinality, r.width_per_group
        # Xie et al., Fig. 1 / Sec. 3.3: C * (256*d + 3*3*d*d + d*256) weights, "about 70k" for each.
        assert r.group_width == C * d
        assert r.conv_weights == C * (256 * d + 9 * d * d + d * 256)
        assert round(r.conv_weights, -4) == 70_000
        assert r.params == r.conv_weights + 2 * (C * d + C * d + 256)  # BN scale and shift
        assert r.macs == r.conv_weights * 56 * 56
        assert r.grouped_3x3_weights == C * d * d * 9
        assert r.dense_3x3_weights == (C * d) ** 2 * 9 == C * r.grouped_3x3_weights
    assert rows[0].conv_weights == 69_632  # ResNet-50's conv2 bottleneck
    last = rows[-1]
    assert (last.grouped_3x3_weights, last.dense_3x3_weights) == (4_608, 147_456)  # 128*128*9/32 vs 128*128*9
    assert last.conv_weights == 70_144


def test_cardinality_family_is_the_block_the_model_builds():
    row = cardinality_family([(32, 4)], in_channels=256, planes=64, size=56)[0]
    block = on_meta(lambda: ResNet(PRESETS["resnext50_32x4d"])).layer1[1]  # 256 in and out, 56x56
    assert row.params == count_params(block)
    assert 2 * row.macs == count_flops(block, (1, 256, 56, 56))
    assert block.conv2.weight.numel() == row.grouped_3x3_weights


@pytest.mark.parametrize("fields, expected", [
    (dict(block="basic", cardinality=32), "cardinality: must be 1 with basic blocks"),
    (dict(block="basic", width_per_group=128), "width_per_group: must be 64 with basic blocks"),
    (dict(base_width=8, width_per_group=4), "width_per_group: 4 leaves stage 1's groups with no channels"),
    (dict(layers=()), "layers: must have 1 to 6 stages, got 0"),
    (dict(layers=(3, 0)), "layers (stage 2): must be an integer from 1 to 64, got 0"),
    (dict(cardinality=0), "cardinality: must be an integer from 1 to 256"),
    (dict(shortcut="sum"), "shortcut: must be one of add, concat"),
    (dict(block="dense"), "block: must be one of basic, bottleneck"),
    (dict(stem="mnist"), "stem: must be one of imagenet, cifar"),
    (dict(layers="abc"), "layers: must be a list of integers"),
])
def test_config_refuses_with_one_line(fields, expected):
    assert message(ResNetConfig, **fields).startswith(expected)


@pytest.mark.parametrize("name", ["base_width", "cardinality", "width_per_group", "num_classes"])
def test_integer_limits_are_enforced_at_both_ends(name):
    low, high = LIMITS[name]
    ResNetConfig(**{name: low})
    ResNetConfig(**{name: high})
    assert message(ResNetConfig, **{name: high + 1}).startswith(f"{name}: must be an integer from {low} to {high}")
    assert message(ResNetConfig, **{name: low - 1}).startswith(f"{name}:")


def test_config_round_trips_through_json_shape():
    config = PRESETS["resnext101_64x4d"].replace(shortcut="concat", stem="cifar", input_size=32)
    assert ResNetConfig.from_dict(config.to_dict()) == config
    assert config.to_dict()["layers"] == [3, 4, 23, 3]
    assert message(ResNetConfig.from_dict, {"groups": 32}).startswith("groups: unknown field")


json_values = st.recursive(st.none() | st.booleans() | st.integers(-10, 300) | st.floats(allow_nan=True) |
                           st.text(max_size=5) | st.sampled_from(["basic", "bottleneck", "cifar", "concat"]),
                           lambda inner: st.lists(inner, max_size=8), max_leaves=40)


@settings(max_examples=150, deadline=None)
@given(values=st.dictionaries(st.sampled_from(list(ResNetConfig.__dataclass_fields__) + ["bogus"]), json_values,
                              max_size=4))
def test_from_dict_of_any_json_gives_a_config_or_one_config_error(values):
    try:
        config = ResNetConfig.from_dict(values)
    except ConfigError as error:
        assert "\n" not in str(error)
    else:
        assert ResNetConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_profile_rows_name_the_live_modules():
    config = ResNetConfig("bottleneck", (1, 2), base_width=8, input_size=32)
    model = on_meta(lambda: ResNet(config))
    names = dict(model.named_modules())
    profile = profile_resnet(config)
    real = [r.name for r in profile.layers if r.kind not in ("input", "add", "concat")]
    assert all(name in names for name in real)
    assert [b.name for b in profile.blocks] == ["stem", "layer1", "layer2", "head"]
    assert [b.layers for b in profile.blocks] == [1, 1, 2, 1]
    assert sum(b.params for b in profile.blocks) == profile.params
    assert profile_resnet(config, totals_only=True) == profile.totals
