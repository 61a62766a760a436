"""Property-based, through the real pages: random widget values on the Build pages either render
the numbers or show an error box; never an exception, and the last good view stays on screen."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

PAGES = Path(__file__).resolve().parents[2] / "pages"

densenet_widgets = st.fixed_dictionaries({
    "growth_rate": st.integers(1, 128),
    "num_blocks": st.integers(1, 6),
    "block_1": st.integers(1, 128),
    "block_2": st.integers(1, 128),
    "compression": st.sampled_from([0.05, 0.1, 0.3, 0.5, 0.7, 1.0]),
    "bottleneck": st.booleans(),
    "bn_size": st.integers(1, 16),
    "init_features": st.integers(1, 1024),
    "stem": st.sampled_from(["imagenet", "cifar"]),
    "input_size": st.integers(8, 2048),
    "batch_size": st.integers(1, 4096),
    "memory_efficient": st.booleans(),
})


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=densenet_widgets)
def test_densenet_page_renders_or_refuses(values):
    app = AppTest.from_file(str(PAGES / "densenet.py"), default_timeout=60).run()
    for key, value in values.items():
        app.session_state[key] = value
    app.run()
    assert not app.exception
    metrics = {m.label for m in app.metric}
    assert "Parameters" in metrics  # either the new numbers or the last good ones
    if app.error:
        assert len(app.error) == 1 and "\n" not in app.error[0].value
        assert any("last config that worked" in i.value for i in app.info)


module_widgets = st.fixed_dictionaries({
    "inc_in_channels": st.integers(1, 1024),
    "inc_1x1": st.integers(0, 512),
    "inc_3x3_reduce": st.integers(0, 512),
    "inc_3x3": st.integers(0, 512),
    "inc_5x5_reduce": st.integers(0, 512),
    "inc_5x5": st.integers(0, 512),
    "inc_pool_proj": st.integers(0, 512),
})


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=module_widgets)
def test_inception_module_designer_renders_or_refuses(values):
    app = AppTest.from_file(str(PAGES / "inception.py"), default_timeout=60).run()
    for key, value in values.items():
        app.session_state[key] = value
    app.run()
    assert not app.exception
    assert any(m.label == "Output channels" for m in app.metric)
    widths = [values[k] for k in ("inc_1x1", "inc_3x3_reduce", "inc_3x3", "inc_5x5_reduce", "inc_5x5",
                                  "inc_pool_proj")]
    if 0 in widths:
        assert app.error  # a zero-width branch leaves no output: refused with a message
