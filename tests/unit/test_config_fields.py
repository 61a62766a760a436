"""The shared field checks, the limits every config enforces, and the strict ``from_dict``."""

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.errors import ConfigError
from explorer.models import limits
from explorer.models.densenet import DenseNetConfig
from explorer.models.fields import Range, check_bool, check_choice
from explorer.models.googlenet import TABLE1, GoogLeNetConfig
from explorer.models.inception import InceptionModuleConfig
from explorer.models.inception_v3 import InceptionV3Config
from explorer.models.registry import all_presets, profile
from explorer.analysis import sweep as sw
from tests.helpers.errors import message

CONFIGS = (DenseNetConfig, GoogLeNetConfig, InceptionModuleConfig, InceptionV3Config)


# --- Range and the small checks ---------------------------------------------------------------------

def test_integer_range_is_inclusive_and_refuses_bools_and_floats():
    r = Range(1, 4096)
    assert 1 in r and 4096 in r and 0 not in r and 4097 not in r
    assert True not in r and 2.0 not in r and "2" not in r
    assert message(r.check, "batch_size", 0) == "batch_size: must be an integer from 1 to 4096, got 0"
    assert message(r.check, "w", 0, label="inception3a #1x1", hint="; why") == \
        "inception3a #1x1: must be an integer from 1 to 4096, got 0; why"
    low, high = r  # widgets unpack a range as (min, max)
    assert (low, high) == (1, 4096) and r[1] == 4096


def test_real_ranges_with_open_and_closed_ends():
    theta = Range(0, 1, integer=False, open_low=True)
    assert 1 in theta and 0.05 in theta and 0 not in theta and 1.0001 not in theta
    assert math.nan not in theta and True not in theta
    assert message(theta.check, "compression", 0) == "compression: must be in (0, 1], got 0"
    drop = Range(0, 1, integer=False, open_high=True)
    assert 0 in drop and 0.99 in drop and 1 not in drop
    assert message(drop.check, "dropout", 1.0) == "dropout: must be in [0, 1), got 1.0"
    closed = Range(0.0625, 4.0, integer=False)
    assert 4 in closed and 0.0625 in closed and 0.06 not in closed
    assert message(closed.check, "m", 5) == "m: must be a number from 0.0625 to 4.0, got 5"


def test_bool_and_choice_checks():
    check_bool("aux_logits", False)
    assert message(check_bool, "aux_logits", 1) == "aux_logits: must be true or false, got 1"
    check_choice("stem", "cifar", ("imagenet", "cifar"))
    assert message(check_choice, "k", 4, (3, 5)) == "k: must be one of 3, 5, got 4"


# --- the limits are the ones the configs, the profile and the sweep enforce ----------------------------

@pytest.mark.parametrize("config_type, table, fields", [
    (DenseNetConfig, limits.DENSENET, ["growth_rate", "num_init_features", "bn_size", "num_classes"]),
    (GoogLeNetConfig, limits.GOOGLENET, ["num_classes"]),
    (InceptionV3Config, limits.INCEPTION_V3, ["num_classes"]),
])
def test_integer_limits_are_enforced_at_both_ends(config_type, table, fields):
    for name in fields:
        low, high = table[name]
        config_type(**{name: low})
        config_type(**{name: high})
        assert message(config_type, **{name: high + 1}).startswith(f"{name}: must be an integer from {low} to {high}")
        assert message(config_type, **{name: low - 1}).startswith(f"{name}:")


def test_input_size_limits():
    assert tuple(limits.INPUT_SIZE) == (8, 2048) and tuple(limits.INCEPTION_V3["input_size"]) == (75, 2048)
    DenseNetConfig(input_size=2048, stem="cifar", block_config=(1,))
    message(DenseNetConfig, input_size=2049)
    InceptionV3Config(input_size=75)
    assert message(InceptionV3Config, input_size=74) == "input_size: must be an integer from 75 to 2048, got 74"


def test_batch_size_limit_is_the_profiles_and_the_sweeps():
    assert tuple(limits.BATCH_SIZE) == (1, 4096)
    assert profile("densenet-40-k12", batch_size=4096).batch_size == 4096
    assert message(profile, "densenet-40-k12", batch_size=4097) == \
        "batch_size: must be an integer from 1 to 4096, got 4097"
    base = all_presets()["densenet-40-k12"][1]
    with pytest.raises(ConfigError, match="batch_size: must be an integer from 1 to 4096"):
        sw.sweep(base, "growth_rate", [12, 16], "compression", [0.5, 1.0], batch_size=4097)


def test_offered_ranges_lie_inside_what_configs_accept():
    for name, offered in limits.DENSENET_OFFERED.items():
        DenseNetConfig(**{name: offered.low})
        DenseNetConfig(**{name: offered.high})
    assert tuple(limits.DENSENET_OFFERED["compression"]) == (0.05, 1.0)
    compression = sw.DENSENET_PARAMS["compression"]
    assert (compression.low, compression.high) == (0.05, 1.0)


# --- from_dict ------------------------------------------------------------------------------------------

def every_config():
    configs = [config for _, config in all_presets().values()]
    return configs + [InceptionModuleConfig(), InceptionModuleConfig(reduction=False, factorize="asymmetric")]


def test_every_preset_survives_a_json_round_trip():
    for config in every_config():
        data = json.loads(json.dumps(config.to_dict()))
        assert type(config).from_dict(data) == config
        assert type(config).from_dict(data).to_dict() == data


def test_to_dict_is_plain_json_data_in_field_order():
    d = DenseNetConfig().to_dict()
    assert list(d) == ["growth_rate", "block_config", "num_init_features", "bottleneck", "bn_size", "compression",
                       "drop_rate", "stem", "input_size", "num_classes", "memory_efficient"]
    assert d["block_config"] == [6, 12, 24, 16]
    g = GoogLeNetConfig().to_dict()
    assert g["widths"][0] == [64, 96, 128, 16, 32, 32] and isinstance(g["widths"], list)


def test_lists_become_tuples_and_missing_fields_take_defaults():
    config = DenseNetConfig.from_dict({"block_config": [2, 3], "stem": "cifar", "input_size": 32})
    assert config.block_config == (2, 3) and config.growth_rate == 32
    g = GoogLeNetConfig.from_dict({"widths": [list(row) for row in TABLE1]})
    assert g.widths == TABLE1 and isinstance(g.widths[0], tuple)
    assert InceptionModuleConfig.from_dict({"widths": [1, 2, 3, 4, 5, 6]}).widths == (1, 2, 3, 4, 5, 6)
    assert DenseNetConfig.from_dict({}) == DenseNetConfig()
    assert DenseNetConfig.from_dict({"compression": 1}).compression == 1  # JSON may write 1.0 as 1


@pytest.mark.parametrize("config_type, data, expected", [
    (DenseNetConfig, {"growth": 12}, "growth: unknown field; expected one of block_config, bn_size, "),
    (DenseNetConfig, {"growth_rate": "32"}, "growth_rate: must be an integer, got '32'"),
    (DenseNetConfig, {"growth_rate": 32.0}, "growth_rate: must be an integer, got 32.0"),
    (DenseNetConfig, {"growth_rate": True}, "growth_rate: must be an integer, got True"),
    (DenseNetConfig, {"growth_rate": None}, "growth_rate: must be an integer, got None"),
    (DenseNetConfig, {"bottleneck": 1}, "bottleneck: must be true or false, got 1"),
    (DenseNetConfig, {"compression": "0.5"}, "compression: must be a number, got '0.5'"),
    (DenseNetConfig, {"compression": False}, "compression: must be a number, got False"),
    (DenseNetConfig, {"stem": ["cifar"]}, "stem: must be a string, got ['cifar']"),
    (DenseNetConfig, {"block_config": 6}, "block_config: must be a list, got 6"),
    (DenseNetConfig, {"block_config": "6,12"}, "block_config: must be a list, got '6,12'"),
    (DenseNetConfig, {"block_config": [6, "12"]}, "block_config: must be an integer, got '12'"),
    (DenseNetConfig, {"block_config": [6, 1000]}, "block_config (block 2): must be an integer from 1 to 128"),
    (DenseNetConfig, {"stem": "mnist"}, "stem: must be one of imagenet, cifar, got 'mnist'"),
    (DenseNetConfig, [1, 2], "config: must be a mapping of field names to values, got list"),
    (DenseNetConfig, None, "config: must be a mapping of field names to values, got NoneType"),
    (GoogLeNetConfig, {"widths": [[1] * 6] * 8 + [[1] * 6 + ["x"]]}, "widths: must be an integer, got 'x'"),
    (GoogLeNetConfig, {"widths": [1] * 9}, "widths: must be a list, got 1"),
    (GoogLeNetConfig, {"widths": [[1] * 6] * 8}, "widths: needs 9 modules (3a..5b), got 8"),
    (GoogLeNetConfig, {"aux_logits": "yes"}, "aux_logits: must be true or false, got 'yes'"),
    (GoogLeNetConfig, {"width_multiplier": "1"}, "width_multiplier: must be a number, got '1'"),
    (InceptionModuleConfig, {"widths": {"a": 1}}, "widths: must be a list, got {'a': 1}"),
    (InceptionModuleConfig, {"widths": [1, 2, 3]}, "widths: needs 6 widths"),
    (InceptionV3Config, {"dropout": [0.5]}, "dropout: must be a number, got [0.5]"),
    (InceptionV3Config, {1: 2}, "1: unknown field"),
])
def test_from_dict_refuses_with_one_line(config_type, data, expected):
    assert message(config_type.from_dict, data).startswith(expected)


def test_long_values_are_shortened_in_the_message():
    text = message(DenseNetConfig.from_dict, {"stem": list(range(1000))})
    assert len(text) < 100 and text.endswith("...")


json_values = st.recursive(st.none() | st.booleans() | st.integers(-10, 300) | st.floats(allow_nan=True) |
                           st.text(max_size=5), lambda inner: st.lists(inner, max_size=10), max_leaves=60)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(config_type=st.sampled_from(CONFIGS), data=st.data())
def test_from_dict_of_any_json_gives_a_config_or_one_config_error(config_type, data):
    names = list(config_type.__dataclass_fields__) + ["bogus"]
    values = data.draw(st.dictionaries(st.sampled_from(names), json_values, max_size=4))
    try:
        config = config_type.from_dict(values)
    except ConfigError as error:
        assert "\n" not in str(error)
    else:
        assert type(config) is config_type
        assert config_type.from_dict(json.loads(json.dumps(config.to_dict()))) == config
