"""What the Compare page carries in its address (builds, models, sweep ranges) and the sweep's
choices and notes, as pure functions; expected values computed here independently."""

from __future__ import annotations

import pytest

from explorer.analysis import compare, sweep
from explorer.charts import compare as charts
from explorer.errors import ConfigError
from explorer.models.densenet import PRESETS
from explorer.models.registry import all_presets


def test_builds_travel_in_the_address_and_come_back():
    build = PRESETS["densenet121"].replace(growth_rate=24, compression=0.7)
    builds = {"my k24": {"arch": "densenet", "config": build.to_dict()}, "b2": {"arch": "densenet",
                                                                                "config": PRESETS["densenet169"].to_dict()}}
    links = compare.build_links(builds, 12)
    assert list(links) == ["build1", "build2"] and links["build1"] == "my k24|densenet|k=24&theta=0.7"
    assert compare.build_links(builds, 1) == {"build1": links["build1"]}
    back, notes = compare.builds_from_link(links, 12)
    assert back == builds and notes == []
    back, notes = compare.builds_from_link({"build1": "bad", "build13": links["build1"]}, 12)
    assert back == {} and len(notes) == 1 and "not name|architecture|settings" in notes[0]


def test_models_from_link_keep_the_known_once_in_order():
    models, notes = compare.models_from_link("b,a,,b,zz,yy", ["a", "b", "c"])
    assert models == ["b", "a"] and notes == ["models: unknown zz, yy (ignored)"]
    assert compare.models_from_link("a", ["a"]) == (["a"], [])


def test_builds_first():
    rows = compare.comparison_rows(["densenet121", "densenet-40-k12"], 1)
    assert [r.name for r in compare.builds_first(rows, {"densenet-40-k12": {}})] == ["densenet-40-k12", "densenet121"]
    assert compare.builds_first(rows, None) == rows


def test_default_range_and_its_text():
    params = sweep.sweep_params(PRESETS["densenet121"])
    assert sweep.default_range(params["growth_rate"]) == (8, 64)
    low, high = params["compression"].low, params["compression"].high
    assert sweep.default_range(params["compression"]) == (float(low), float(high))
    assert sweep.range_text((12, 40)) == "12,40" and sweep.range_text((0.25, 0.5)) == "0.25,0.5"
    assert sweep.slider_range(params["growth_rate"]) == (int(params["growth_rate"].low),
                                                         int(params["growth_rate"].high), 1)
    assert sweep.slider_range(params["compression"])[2] == 0.01


def test_ranges_from_link():
    found, notes = sweep.ranges_from_link({"sweep_xr": "12,40", "sweep_yr": "0.25,0.5"}, "densenet", "densenet121",
                                          "growth_rate", "compression")
    assert found == {"growth_rate": (12, 40), "compression": (0.25, 0.5)} and notes == []
    found, notes = sweep.ranges_from_link({"sweep_xr": "1,2,3"}, "densenet", "densenet121", "growth_rate", "bn_size")
    assert found == {} and "sweep_xr: not low,high" in notes[0]
    # a preset of another architecture, or no range in the link: nothing read
    assert sweep.ranges_from_link({"sweep_xr": "12,40"}, "googlenet", "densenet121", "growth_rate", "x") == ({}, [])
    assert sweep.ranges_from_link({}, "densenet", "densenet121", "growth_rate", "compression") == ({}, [])


def test_sweep_choice_falls_back_to_what_is_offered():
    assert sweep.sweep_choice(None, None, None, None) == ("densenet", "densenet121", "growth_rate", "compression")
    assert sweep.sweep_choice("densenet", "densenet169", "bn_size", "nope")[2:] == ("bn_size", "compression")
    assert sweep.sweep_choice("densenet", "densenet169", "compression", "nope")[2:] == ("compression", "input_size")
    assert sweep.sweep_choice("densenet", "densenet169", "bn_size", "bn_size")[3] == "bn_size"  # refused when swept
    arch, base, x, y = sweep.sweep_choice("googlenet", "densenet121", "growth_rate", None)
    params = list(sweep.sweep_params(all_presets()[base][1]))
    assert (arch, base) == ("googlenet", "googlenet") and x == params[0] and y == "input_size"


def test_grid_axes_refuse_the_same_hyperparameter_twice():
    params = sweep.sweep_params(PRESETS["densenet121"])
    with pytest.raises(ConfigError, match="two different"):
        sweep.grid_axes(params, "bn_size", "bn_size", {"bn_size": (1, 8)}, 4)
    px, py, xs, ys = sweep.grid_axes(params, "growth_rate", "bn_size", {"growth_rate": (8, 64), "bn_size": (1, 8)}, 3)
    assert (px.name, py.name, xs, ys) == ("growth_rate", "bn_size", [8, 36, 64], [1, 4, 8])


def _points(*pairs):
    return [{"params": p, "macs": m, "x": i, "y": 10 * i} for i, (p, m) in enumerate(pairs)]


def test_front_caption():
    params = sweep.sweep_params(PRESETS["densenet121"])
    x, y = params["growth_rate"], params["compression"]
    assert sweep.front_caption([], x, y) == ""
    text = sweep.front_caption(_points((1, 3), (2, 2), (3, 1), (3, 3)), x, y)
    assert text.startswith("3 configs are on the Pareto front (red line)")
    text = sweep.front_caption(_points((5_000, 5e9), (2_000, 2e9), (9_000, 9e9), (2_000, 2e9)), x, y)
    # equal points are one config: the caption names the last of them
    assert text.startswith("No Pareto front here: one config, growth rate k = 3 and compression θ = 30, ")
    assert "fewest parameters (2 k)" in text and "fewest MACs (2 GMACs)" in text


def test_selected_cell_and_the_sweep_figure():
    assert charts.selected_cell(None) is None and charts.selected_cell({"points": []}) is None
    chosen = {"points": [{"curve_number": 2, "customdata": [9, 9]}, {"curve_number": 0, "customdata": [3.0, 4.0, 1, 2]}]}
    assert charts.selected_cell(chosen) == (3, 4)
    base = PRESETS["densenet121"]
    params = sweep.sweep_params(base)
    result = sweep.sweep(base, "growth_rate", sweep.axis_values(params["growth_rate"], 8, 32, 3), "compression",
                         [0.5, 1.0], 1)
    scatter = charts.sweep_figure(result, "scatter", base)
    assert scatter.data[0].name == "grid points" and len(scatter.data[0].x) == len(result.points)
    assert any(t.name == "presets" for t in scatter.data)
    heatmap = charts.sweep_figure(result, "params", base)
    assert heatmap == charts.sweep_heatmap(result, "params")
