"""Property-based: any combination of the Inception page's fields (module designer and whole
GoogLeNet) either profiles, builds on meta and passes the budget, or is refused with one line."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import explorer
from explorer.errors import BudgetError, ConfigError
from explorer.models.googlenet import GoogLeNetConfig
from explorer.models.inception import InceptionModuleConfig, module_report
from explorer.analysis.measure import count_params

width = st.integers(-1, 1100)
module_fields = st.fixed_dictionaries({
    "in_channels": st.integers(-1, 4200),
    "widths": st.lists(width, min_size=5, max_size=7).map(tuple),
    "input_size": st.integers(-1, 1100),
    "reduction": st.booleans(),
    "factorize": st.sampled_from(["none", "stacked", "asymmetric", "diagonal"]),
    "branch3_kernel": st.sampled_from([3, 5, 7]),
})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=module_fields)
def test_module_designer_any_input(fields):
    try:
        config = InceptionModuleConfig(**fields)
    except ConfigError as error:
        assert "\n" not in str(error)
        return
    report = module_report(config)
    assert report.out_channels == sum(b.out_channels for b in report.branches) > 0
    assert report.conv_weight_params == sum(b.conv_weight_params for b in report.branches)
    c, (w1, r3, o3, r5, o5, proj) = config.in_channels, config.widths
    k = config.branch3_kernel
    if config.factorize == "none":  # the seed text's arithmetic, for any widths
        branches = {b.name: b for b in report.branches}
        assert branches["1x1"].conv_weight_params == c * w1
        assert branches["3x3"].naive_conv_weight_params == 9 * c * o3
        assert branches["5x5"].naive_conv_weight_params == k * k * c * o5
        if config.reduction:
            assert branches["3x3"].conv_weight_params == c * r3 + 9 * r3 * o3
            assert branches["5x5"].conv_weight_params == c * r5 + k * k * r5 * o5
            assert branches["pool"].conv_weight_params == c * proj
    assert report.macs == report.conv_weight_params * config.input_size ** 2


googlenet_fields = st.fixed_dictionaries({
    "widths": st.lists(st.lists(st.integers(0, 300), min_size=6, max_size=6).map(tuple), min_size=9,
                       max_size=9).map(tuple),
    "width_multiplier": st.floats(0.0, 5.0, allow_nan=False),
    "branch3_kernel": st.sampled_from([3, 5, 4]),
    "factorize": st.sampled_from(["none", "stacked", "asymmetric", "bogus"]),
    "aux_logits": st.booleans(),
    "stem": st.sampled_from(["imagenet", "cifar", "other"]),
    "input_size": st.integers(1, 700),
    "num_classes": st.integers(0, 3000),
})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=googlenet_fields, batch_size=st.integers(1, 4096))
def test_googlenet_any_input(fields, batch_size):
    try:
        config = GoogLeNetConfig(**fields)
    except ConfigError as error:
        assert "\n" not in str(error) and error.field in GoogLeNetConfig.__dataclass_fields__
        return
    result = explorer.profile(config, batch_size=batch_size)
    assert result.params > 0 and result.macs > 0
    try:
        explorer.check_budget(result)
    except BudgetError as error:
        assert "reduce" in str(error) and "\n" not in str(error)
        return
    assert count_params(explorer.build_model(config)) == result.params
