"""The design-space sweep: the fast totals equal the full profile exactly, the grid is fast, the
Pareto front is right, and a chosen point loads into the DenseNet page."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer import profile
from explorer.analysis import sweep as sw
from explorer.models.densenet import PRESETS, DenseNetConfig
from explorer.errors import ConfigError

fields = st.fixed_dictionaries({
    "growth_rate": st.integers(0, 140),
    "block_config": st.lists(st.integers(0, 40), min_size=0, max_size=7),
    "num_init_features": st.integers(0, 300),
    "bottleneck": st.booleans(),
    "bn_size": st.integers(0, 17),
    "compression": st.sampled_from([0.0, 0.01, 0.05, 0.1, 0.3, 0.5, 0.7, 0.99, 1.0, 1.5]),
    "drop_rate": st.sampled_from([0.0, 0.2, 1.0]),
    "stem": st.sampled_from(["imagenet", "cifar", "other"]),
    "input_size": st.integers(1, 300),
    "num_classes": st.integers(1, 1000),
    "memory_efficient": st.booleans(),
})


@settings(max_examples=300, deadline=None)
@given(fields, st.integers(1, 64))
def test_fast_totals_equal_the_profile_and_refuse_the_same_configs(d, batch):
    try:
        config = DenseNetConfig(**d)
    except ConfigError as error:
        with pytest.raises(ConfigError) as fast:
            sw.densenet_totals(d, batch)
        assert fast.value.field == error.field
        return
    assert sw.densenet_totals(d, batch) == profile(config, batch_size=batch).totals


@pytest.mark.parametrize("name", list(PRESETS))
def test_fast_totals_on_presets(name):
    for efficient, drop in itertools.product((False, True), (0.0, 0.2)):
        config = PRESETS[name].replace(memory_efficient=efficient, drop_rate=drop)
        assert sw.densenet_totals(config.to_dict(), 7) == profile(config, batch_size=7).totals


def test_published_totals_through_the_sweep_path():
    assert sw.densenet_totals(PRESETS["densenet121"].to_dict())["params"] == 7_978_856
    assert sw.densenet_totals(PRESETS["densenet121"].to_dict())["macs"] == 2_834_161_664
    assert sw.densenet_totals(PRESETS["densenet-bc-190-k40"].to_dict())["params"] == 25_624_430


def test_40_by_40_grid_is_exact():
    """Exactness of the 1,600-point grid; its speed (< 1 s) is checked by benchmarks/compare_speed.py."""
    base = PRESETS["densenet121"]
    params = sw.sweep_params(base)
    xs = sw.axis_values(params["growth_rate"], 8, 64, 40)
    ys = sw.axis_values(params["compression"], 0.1, 1.0, 40)
    assert len(ys) == 40 and len(xs) == 40 - 0  # 8..64 has 57 integers: 40 distinct values
    result = sw.sweep(base, "growth_rate", xs, "compression", ys, 32)
    assert not result.errors and len(result.points) == 1600
    for iy, ix in [(0, 0), (13, 27), (39, 39)]:
        config = base.replace(growth_rate=xs[ix], compression=ys[iy])
        expected = profile(config, batch_size=32).totals
        assert {m: int(result.grid[m][iy, ix]) for m in sw.METRICS} == expected
    # the preset itself sits on the grid: k = 32 is not on it, so check a grid neighbour instead
    assert result.grid["params"][0, 0] < result.grid["params"][39, 39]


def test_googlenet_40_by_40_grid_is_exact():
    """As above, for GoogLeNet's width multiplier x input size."""
    from explorer.models.googlenet import PRESETS as INCEPTION_PRESETS

    base = INCEPTION_PRESETS["googlenet"]
    params = sw.sweep_params(base)
    xs = sw.axis_values(params["width_multiplier"], 0.25, 2.0, 40)
    ys = sw.axis_values(params["input_size"], 64, 448, 40)
    result = sw.sweep(base, "width_multiplier", xs, "input_size", ys, 8)
    assert not result.errors and len(result.points) == 1600
    for iy, ix in [(0, 0), (21, 5), (39, 39)]:
        config = base.replace(width_multiplier=xs[ix], input_size=ys[iy])
        assert {m: int(result.grid[m][iy, ix]) for m in sw.METRICS} == profile(config, batch_size=8).totals


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def test_refused_points_are_kept_with_their_reason():
    base = PRESETS["densenet121"]
    params = sw.sweep_params(base)
    xs = sw.axis_values(params["input_size"], 32, 64, 5)  # imagenet stem + 3 transitions need >= 29 px
    ys = sw.axis_values(params["layers_per_block"], 1, 4, 4)
    result = sw.sweep(base, "input_size", xs, "layers_per_block", ys)
    assert not result.errors
    small = sw.sweep(base.replace(stem="cifar", block_config=(2, 2, 2, 2, 2, 2)), "input_size",
                     [16, 32, 48], "growth_rate", [12, 24])
    assert set(small.errors) == {(0, 0), (1, 0)}  # 16 px halves to nothing after 5 transitions
    assert "input_size" in small.errors[(0, 0)]
    for iy, ix in itertools.product(range(2), range(1, 3)):
        config = sw.config_at(base.replace(stem="cifar", block_config=(2,) * 6), sw.sweep_params(base)["input_size"],
                              small.x_values[ix], sw.sweep_params(base)["growth_rate"], small.y_values[iy])
        assert int(small.grid["macs"][iy, ix]) == profile(config).macs


def test_refused_points_are_grey_cells_that_say_why():
    from explorer.charts.compare import sweep_heatmap

    base = PRESETS["densenet121"].replace(stem="cifar", block_config=(2,) * 6)
    small = sw.sweep(base, "input_size", [16, 32, 48], "growth_rate", [12, 24])
    chart = sweep_heatmap(small, "macs")
    refused, cells = chart["datasets"]["refused"], chart["datasets"]["cells"]
    # 16 px halves to nothing after 5 transitions: the first column, at both growth rates
    assert [(c["x"], c["y"]) for c in refused] == [("16", "12"), ("16", "24")] and len(cells) == 4
    assert all("input_size" in c["value"] for c in refused)
    assert chart["layer"][1]["data"]["name"] == "refused" and "color" not in chart["layer"][1]["encoding"]


def test_depth_multiplier_and_bad_axes():
    params = sw.sweep_params(PRESETS["densenet121"])
    config = sw.config_at(PRESETS["densenet121"], params["depth_multiplier"], 2.0, params["growth_rate"], 32)
    assert config.block_config == (12, 24, 48, 32)
    with pytest.raises(ConfigError, match="two different"):
        sw.sweep(PRESETS["densenet121"], "growth_rate", [12], "growth_rate", [12])
    with pytest.raises(ConfigError, match="cannot be swept"):
        sw.sweep(PRESETS["densenet121"], "width", [1], "growth_rate", [12])
    with pytest.raises(ConfigError, match="range"):
        sw.axis_values(params["compression"], 0.0, 0.5, 10)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=1, max_size=40))
def test_pareto_front_matches_brute_force(points):
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mask = sw.pareto_front(xs, ys)
    for i, (x, y) in enumerate(points):
        dominated = any(a <= x and b <= y and (a < x or b < y) for a, b in points)
        assert mask[i] == (not dominated)


def test_presets_for_reference():
    names = [p["name"] for p in sw.preset_points("densenet", stem="imagenet")]
    assert names[:4] == ["densenet121", "densenet169", "densenet201", "densenet161"]
    assert all(not n.startswith("densenet-") for n in names)


def test_a_point_loads_into_the_densenet_page():
    """The address the Compare page opens for a sweep point rebuilds the same config there."""
    from streamlit.testing.v1 import AppTest

    from explorer.units import format_bytes, format_count
    from pages.ui.settings import builder_link

    config = DenseNetConfig(growth_rate=20, block_config=(4, 8, 10), compression=0.35, bn_size=3,
                            num_init_features=48, input_size=160)
    page, query = builder_link(config, "densenet121", batch_size=4)
    assert page == "pages/densenet.py"
    assert query == {"preset": "densenet121", "k": "20", "blocks": "4,8,10", "theta": "0.35", "bn": "3", "k0": "48",
                     "size": "160", "batch": "4"}
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / page), default_timeout=60)
    at.query_params.update(query)
    at.run()
    assert not at.exception and not at.error
    result = profile(config, batch_size=4)
    text = " ".join(c.value for c in at.caption)
    assert f"{result.params:,} parameters" in text and f"{result.macs:,} MACs" in text
    assert at.metric[0].value == format_count(result.params)
    assert at.metric[4].label == "Activations, batch 4" and at.metric[4].value == format_bytes(result.activation_bytes)


# --- how the sweep is drawn (issue 13) ---------------------------------------------------------------

def legend_label(expression: str, value: float) -> str:
    """Evaluates a legend's labelExpr (a chain of ``datum.value < t ? "a" : ...``) at ``value``."""
    import json
    import re

    *steps, last = re.split(r" : (?=datum|\")", expression)
    for step in steps:
        threshold, label = re.fullmatch(r"datum\.value < ([-\d.e]+) \? (\".*\")", step).groups()
        if value < float(threshold):
            return json.loads(label)
    return json.loads(last)


def test_the_colour_scale_says_what_it_is_the_log_of_and_shows_the_values():
    """DenseNet-121 over k 8..64 x theta 0.1..1: the colours are log10 of the parameter count; the
    bar's labels are counts (1-2-5 steps) at log10 positions, not bare log10 numbers."""
    import math

    from explorer.charts.compare import log_ticks, sweep_heatmap
    from explorer.units import format_count

    base = PRESETS["densenet121"]
    params = sw.sweep_params(base)
    result = sw.sweep(base, "growth_rate", sw.axis_values(params["growth_rate"], 8, 64, 5), "compression",
                      sw.axis_values(params["compression"], 0.1, 1.0, 5), 32)
    least, most = min(p["params"] for p in result.points), max(p["params"] for p in result.points)
    chart = sweep_heatmap(result, "params")
    legend = chart["layer"][0]["encoding"]["color"]["legend"]
    title = " ".join(legend["title"])
    assert "log10" in title and "parameters" in title and "count" in title
    expected = [v for v in (1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 2e7, 5e7, 1e8, 2e8) if least <= v <= most]
    assert log_ticks(least, most) == expected and len(expected) >= 2
    assert legend["values"] == pytest.approx([math.log10(v) for v in expected])
    # the label of each tick, as the browser picks it: the expression evaluated at the tick's position
    assert [legend_label(legend["labelExpr"], math.log10(v)) for v in expected] == [format_count(v) for v in expected]
    assert format_count(1e6) == "1 M"
    # every grid point is a cell, its colour log10 of its own count, its hover text the count itself
    cells = chart["datasets"]["cells"]
    assert len(cells) == 25 and not chart["datasets"]["refused"]
    assert [c["log"] for c in cells] == pytest.approx([math.log10(p["params"]) for p in result.points])
    assert cells[0]["value"] == format_count(result.points[0]["params"])
    memory = sweep_heatmap(result, "activation_bytes")["layer"][0]["encoding"]["color"]["legend"]
    labels = [legend_label(memory["labelExpr"], v) for v in memory["values"]]
    assert "bytes" in " ".join(memory["title"]) and all("iB" in t or t.endswith(" B") for t in labels)
    assert log_ticks(3.0, 4.0) == [3.0, 4.0]  # no 1-2-5 value inside: the ends


def test_a_front_of_one_point_is_not_drawn_as_a_front():
    from explorer.charts.compare import sweep_scatter

    points = [{"params": p, "macs": m, "activation_bytes": 1, "ix": i, "iy": 0, "x": i, "y": 0}
              for i, (p, m) in enumerate([(1e6, 1e9), (2e6, 2e9), (3e6, 3e9)])]
    one = sweep_scatter(points, sw.pareto_front([1e6, 2e6, 3e6], [1e9, 2e9, 3e9]), [], "k", "theta")
    names = [trace.name for trace in one.data]
    assert "Pareto front" not in names and "fewest params and fewest MACs (no trade-off)" in names
    assert list(one.data[1].x) == [1.0] and one.data[1].mode == "markers"  # a marker, no line
    two = sweep_scatter(points, sw.pareto_front([1e6, 2e6, 3e6], [3e9, 2e9, 1e9]), [], "k", "theta")
    front = next(trace for trace in two.data if trace.name == "Pareto front")
    assert list(front.x) == [1.0, 2.0, 3.0] and "lines" in front.mode
