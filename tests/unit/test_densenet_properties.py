"""Property-based: any combination of the DenseNet page's fields either profiles, builds on meta and
passes the budget, or is refused with a one-line message before anything is allocated."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import explorer
from explorer.models.densenet import LIMITS, DenseNetConfig
from explorer.errors import BudgetError, ConfigError
from explorer.analysis.measure import count_params

fields = st.fixed_dictionaries({
    "growth_rate": st.integers(-2, 140),
    "block_config": st.lists(st.integers(-1, 130), min_size=0, max_size=7).map(tuple),
    "num_init_features": st.integers(0, 1100),
    "bottleneck": st.booleans(),
    "bn_size": st.integers(0, 17),
    "compression": st.floats(-0.5, 1.5, allow_nan=False),
    "drop_rate": st.floats(0, 1),
    "stem": st.sampled_from(["imagenet", "cifar", "resnet"]),
    "input_size": st.integers(1, 2100),
    "num_classes": st.integers(0, 2000),
    "memory_efficient": st.booleans(),
})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=fields, batch_size=st.integers(1, 4096))
def test_any_input_profiles_or_is_refused_cleanly(fields, batch_size):
    try:
        config = DenseNetConfig(**fields)
    except ConfigError as error:
        message = str(error)
        assert "\n" not in message and error.field in DenseNetConfig.__dataclass_fields__
        return
    assert 1 <= config.growth_rate <= LIMITS["growth_rate"][1]
    result = explorer.profile(config, batch_size=batch_size)
    assert result.params > 0 and result.macs > 0 and result.activation_bytes > 0
    try:
        explorer.check_budget(result)
    except BudgetError as error:
        assert "reduce" in str(error) and "\n" not in str(error)
        return
    if config.input_size <= 256 and sum(config.block_config) <= 200:
        model = explorer.build_model(config)  # meta: free, so the check is affordable
        assert count_params(model) == result.params
