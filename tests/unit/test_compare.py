"""The comparison: measured and analytic numbers against published references, the cache, the
latency measurement, the trade-off statements and the ``compare`` CLI.

Reference numbers (torchvision 0.29.1, batch 1): params = sum(p.numel()), MACs = FlopCounterMode
total / 2; accuracy and weights metadata from torchvision's weights (DEFAULT, and IMAGENET1K_V1 for
the like-for-like comparison).
"""

from __future__ import annotations

import json

import pytest
import torch
import torchvision

import explorer
from explorer import profile
from explorer.analysis import advice, compare, latency, reference, torchvision_costs
from explorer.cli.main import main
from explorer.analysis.latency import Latency, latency_key
from explorer.models.densenet import DenseNetConfig
from explorer.errors import BudgetError, ConfigError
from explorer.analysis.measure import saved_activation_bytes

# name: (input, params, MACs, top-1, top-5, weights tag)
REFERENCE = {
    "densenet121": (224, 7_978_856, 2_834_161_664, 74.434, 91.972, "IMAGENET1K_V1"),
    "densenet169": (224, 14_149_480, 3_359_843_328, 75.600, 92.806, "IMAGENET1K_V1"),
    "densenet201": (224, 20_013_928, 4_291_365_888, 76.896, 93.370, "IMAGENET1K_V1"),
    "densenet161": (224, 28_681_000, 7_727_907_072, 77.138, 93.560, "IMAGENET1K_V1"),
    "googlenet": (224, 6_624_904, 1_498_376_192, 69.778, 89.530, "IMAGENET1K_V1"),
    "inception_v3": (299, 27_161_264, 5_713_216_096, 77.294, 93.450, "IMAGENET1K_V1"),
    "resnet50": (224, 25_557_032, 4_089_184_256, 80.858, 95.434, "IMAGENET1K_V2"),
    "resnext50_32x4d": (224, 25_028_904, 4_230_479_872, 81.198, 95.340, "IMAGENET1K_V2"),
    "mobilenet_v2": (224, 3_504_872, 300_774_272, 72.154, 90.822, "IMAGENET1K_V2"),
    "efficientnet_b0": (224, 5_288_548, 385_814_752, 77.692, 93.532, "IMAGENET1K_V1"),
}
# Original-recipe weights (IMAGENET1K_V1): the like-for-like accuracy every comparison uses by default.
ORIGINAL = {
    "densenet121": (74.434, 91.972), "densenet169": (75.600, 92.806), "densenet201": (76.896, 93.370),
    "densenet161": (77.138, 93.560), "googlenet": (69.778, 89.530), "inception_v3": (77.294, 93.450),
    "resnet50": (76.130, 92.862), "resnext50_32x4d": (77.618, 93.698), "mobilenet_v2": (71.878, 90.286),
    "efficientnet_b0": (77.692, 93.532),
}
FILE_MB = {"densenet121": 30.845, "googlenet": 49.731, "inception_v3": 103.903, "resnet50": 97.79}


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    """All ten at their native sizes, batch 32, measured into an empty cache directory."""
    import os

    old = os.environ.get("EXPLORER_CACHE_DIR")
    os.environ["EXPLORER_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    torchvision_costs.clear_cache()
    try:
        yield {r.name: r for r in compare.comparison_rows(list(reference.TORCHVISION_MODELS), batch_size=32)}
    finally:
        if old is None:
            os.environ.pop("EXPLORER_CACHE_DIR", None)
        else:
            os.environ["EXPLORER_CACHE_DIR"] = old


def test_torchvision_metadata_is_read_without_download():
    for name, (size, params, _macs, top1, top5, tag) in REFERENCE.items():
        info = reference.torchvision_info(name)
        assert (info.input_size, info.num_params, info.top1, info.top5, info.weights) == (size, params, top1, top5, tag)
        assert abs(info.gmacs - _macs / 1e9) < 0.001  # torchvision's "GFLOPS" are MACs
    for name, mb in FILE_MB.items():
        assert reference.torchvision_info(name).file_mb == mb
    assert reference.torchvision_info("densenet121").file_name == "densenet121-a639ec97.pth"
    assert reference.torchvision_info("densenet264") is None


@pytest.mark.slow
@pytest.mark.parametrize("name", list(REFERENCE))
def test_rows_match_published_numbers(rows, name):
    size, params, macs, top1, top5, tag = REFERENCE[name]
    row = rows[name]
    assert (row.input_size, row.params, row.macs, row.flops) == (size, params, macs, 2 * macs)
    assert row.param_bytes == 4 * params
    # Like with like by default: the original recipe; the DEFAULT (newest) weights beside it.
    assert (row.top1, row.top5, row.weights, row.recipe) == (*ORIGINAL[name], "IMAGENET1K_V1", "original recipe")
    if tag == "IMAGENET1K_V1":
        assert row.newer_top1 is None and (row.top1, row.top5) == (top1, top5)
    else:
        assert (row.newer_top1, row.newer_top5, row.newer_weights) == (top1, top5, tag)
    project = name in compare.all_presets()
    assert row.source == ("analytic" if project else "measured")


@pytest.mark.slow
def test_like_for_like_table_against_torchvision_metadata(rows):
    """Each row's accuracy is its IMAGENET1K_V1 weights' (read here straight from torchvision),
    the newer recipe's is the other ImageNet-1K version where there is one; numbers embedded."""
    from torchvision.models import get_model_weights

    for name in REFERENCE:
        versions = {w.name: w.meta["_metrics"]["ImageNet-1K"] for w in get_model_weights(name)}
        v1 = versions.pop("IMAGENET1K_V1")
        assert (rows[name].top1, rows[name].top5) == (v1["acc@1"], v1["acc@5"]) == ORIGINAL[name]
        newer = {tag: m for tag, m in versions.items() if tag.startswith("IMAGENET1K_")}
        assert rows[name].newer_top1 == (newer[rows[name].newer_weights]["acc@1"] if newer else None)
    # The case: ResNet-50 76.13 vs DenseNet-121 74.434 (1.7 points), not 80.858 (6.4 points).
    assert rows["resnet50"].top1 - rows["densenet121"].top1 == pytest.approx(1.696)
    newest = compare.comparison_rows(["resnet50", "densenet121"], recipe="newest")
    assert [(r.top1, r.weights) for r in newest] == [(80.858, "IMAGENET1K_V2"), (74.434, "IMAGENET1K_V1")]
    with pytest.raises(ConfigError, match="accuracy"):
        compare.comparison_rows(["resnet50"], recipe="best")


@pytest.mark.slow
def test_paper_figure_is_cited_where_it_differs(rows):
    # Szegedy et al. 2016, abstract: 21.2 % top-1 and 5.6 % top-5 error, single frame.
    row = rows["inception_v3"]
    assert (row.paper_top1, row.paper_top5) == (78.8, 94.4) and row.paper_top1 != row.top1
    assert "Szegedy" in row.paper_source and "2016" in row.paper_source
    assert rows["resnet50"].paper_top1 is None


@pytest.mark.slow
def test_project_presets_use_the_analytic_profile(rows):
    for name in ("densenet121", "densenet161"):
        result = profile(name, batch_size=32)
        assert rows[name].source == "analytic"
        assert rows[name].activation_bytes == result.activation_bytes
        assert rows[name].stages[1] == ("denseblock1", result.blocks[1].out_channels, 56)


@pytest.mark.slow
def test_measured_stages(rows):
    assert ("layer4", 2048, 7) in rows["resnet50"].stages
    assert rows["resnet50"].stages[0] == ("conv1", 64, 112)
    assert rows["mobilenet_v2"].stages[-1] == ("features.18", 1280, 7)
    assert rows["inception_v3"].stages[-1][1:] == (2048, 8)


@pytest.mark.slow
def test_measured_activation_bytes_are_linear_in_batch():
    """Two forwards (batches 2 and 3) predict a third batch exactly; checked against a direct
    measurement at batch 5 on small inputs."""
    for name in ("mobilenet_v2", "resnet50"):
        m = torchvision_costs.measure_torchvision(name, 64)
        model = torchvision.models.get_model(name, weights=None)
        assert m.activation_bytes(5) == saved_activation_bytes(model, (5, 3, 64, 64))
        assert m.activation_constant > 0  # BN batch statistics: 2 floats per channel per BN
        assert m.params == sum(p.numel() for p in model.parameters())


@pytest.mark.slow
def test_disk_cache_is_used(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_CACHE_DIR", str(tmp_path))
    torchvision_costs.clear_cache()
    first = torchvision_costs.measure_torchvision("mobilenet_v2", 32)
    assert torchvision_costs.is_cached("mobilenet_v2", 32)
    torchvision_costs.clear_cache()  # in-process only: the file remains

    def refuse(*_args, **_kwargs):
        raise AssertionError("measured again instead of reading the cache")

    monkeypatch.setattr(torchvision_costs, "saved_activation_bytes", refuse)
    monkeypatch.setattr(torchvision_costs, "count_flops", refuse)
    assert torchvision_costs.measure_torchvision("mobilenet_v2", 32) == first
    torchvision_costs.clear_cache(disk=True)
    assert not torchvision_costs.is_cached("mobilenet_v2", 32)


@pytest.mark.slow
def test_common_input_size_changes_compute_not_params(rows):
    row = compare.comparison_row(compare.resolve_entry("inception_v3"), 1, 224)
    assert row.input_size == 224 and row.native_input_size == 299
    assert row.params == rows["inception_v3"].params
    assert row.macs < rows["inception_v3"].macs
    dense = compare.comparison_row(compare.resolve_entry("densenet121"), 1, 256)
    assert dense.macs == profile("densenet121", input_size=256).macs


def test_user_builds_and_name_resolution():
    config = DenseNetConfig(growth_rate=24, block_config=(6, 12, 24, 16))
    builds = {"my-k24": {"arch": "densenet", "config": config.to_dict()}}
    row = compare.comparison_rows(["my-k24"], batch_size=4, builds=builds)[0]
    result = profile(config, batch_size=4)
    assert (row.params, row.macs, row.activation_bytes) == (result.params, result.macs, result.activation_bytes)
    assert row.top1 is None and row.source == "analytic"  # not torchvision's densenet121
    assert "my-k24" in compare.available_models(builds)
    assert compare.comparison_rows(["densenet264"])[0].top1 is None
    with pytest.raises(ConfigError, match="unknown model 'resnet9000'"):
        compare.resolve_entry("resnet9000")
    with pytest.raises(ConfigError, match="at least one"):
        compare.comparison_rows([])
    with pytest.raises(ConfigError, match="batch_size"):
        compare.comparison_rows(["densenet121"], batch_size=0)
    with pytest.raises(ConfigError, match="input size"):
        compare.comparison_row(compare.resolve_entry("resnet50"), 1, 8)


@pytest.mark.slow
def test_best_values_and_csv(rows):
    chosen = [rows[n] for n in ("densenet121", "resnet50", "mobilenet_v2")]
    best = compare.best_values(chosen)
    assert best["params"] == 3_504_872 and best["top1"] == 76.13 and best["macs"] == 300_774_272
    assert best["newer_top1"] == 80.858
    lines = compare.rows_csv(chosen).splitlines()
    assert lines[0].split(",")[:5] == ["name", "source", "arch", "input_size", "params"]
    assert lines[2].startswith("resnet50,measured,resnet,224,25557032,4089184256")


def _latency(name, ms, batch=1, size=224):
    return Latency(name, batch, size, "cpu", torch.get_num_threads(), (ms, ms * 1.1, ms * 0.9))


@pytest.mark.slow
def test_tradeoffs_are_computed_from_the_numbers(rows):
    pair = [rows["densenet121"], rows["resnet50"]]
    lines = advice.tradeoffs(pair)
    statement = next(line for line in lines if line.startswith("densenet121 has about a third of resnet50"))
    assert "training activation memory" in statement and "slower" not in statement
    assert "Most accurate: resnet50 (76.1 % ImageNet top-1, original recipe)." in lines
    assert "1.7 points lower top-1 (both original recipe)" in statement
    slow = {latency_key("densenet121", 1, 224): _latency("densenet121", 30.0),
            latency_key("resnet50", 1, 224): _latency("resnet50", 20.0)}
    statement = next(line for line in advice.tradeoffs(pair, slow) if line.startswith("densenet121 has"))
    assert "a 1.5x slower forward on cpu (30.0 vs 20.0 ms at batch 1)" in statement
    fast = {latency_key("densenet121", 1, 224): _latency("densenet121", 10.0),
            latency_key("resnet50", 1, 224): _latency("resnet50", 20.0)}
    lines = advice.tradeoffs(pair, fast)
    assert not any("slower" in line for line in lines)
    assert "Fastest forward at batch 1: densenet121 (10.0 ms, 100 images/s)." in lines


@pytest.mark.slow
def test_measure_latency_on_a_small_model():
    entry = compare.resolve_entry("densenet-40-k12")
    steps = []
    result = latency.measure_latency(entry, batch_size=2, warmup=1, repeats=3,
                                     progress=lambda done, total, _text: steps.append((done, total)))
    assert len(result.times_ms) == 3 and result.min_ms <= result.median_ms <= result.max_ms
    assert result.images_per_s == pytest.approx(2000 / result.median_ms)
    assert (result.device, result.threads, result.input_size) == (str(latency.best_device()),
                                                                  torch.get_num_threads(), 32)
    assert steps[-1] == (4, 4)
    with pytest.raises(ConfigError):
        latency.measure_latency(entry, batch_size=0)


@pytest.mark.slow
def test_cli_json_shape(rows, capsys):
    assert main(["compare", "densenet121", "densenet264", "resnet50", "--batch-size", "32", "--format", "json"]) == 0
    models = json.loads(capsys.readouterr().out)["models"]
    assert [set(m) for m in models] == [{"name", "params", "macs", "flops", "param_bytes", "activation_bytes",
                                         "input_size", "top1", "top5", "weights", "top1_newer", "top5_newer",
                                         "weights_newer", "top1_paper", "paper_source", "latency_ms",
                                         "latency_q1_ms", "latency_q3_ms"}] * 3
    assert models[0]["params"] == 7_978_856 and models[0]["top1"] == 74.434
    assert models[1]["top1"] is None and models[1]["latency_ms"] is None  # no published accuracy
    assert models[2]["macs"] == 4_089_184_256 and models[2]["activation_bytes"] == rows["resnet50"].activation_bytes
    assert (models[2]["top1"], models[2]["top1_newer"], models[2]["weights_newer"]) == (76.13, 80.858, "IMAGENET1K_V2")


@pytest.mark.slow
def test_cli_latency_table_and_errors(capsys):
    assert main(["compare", "densenet-40-k12", "--measure-latency", "--repeats", "3", "--budget", "120",
                 "--format", "json"]) == 0
    model = json.loads(capsys.readouterr().out)["models"][0]
    assert model["latency_q1_ms"] <= model["latency_ms"] <= model["latency_q3_ms"] and model["latency_ms"] > 0
    assert main(["compare", "densenet121", "densenet-40-k12"]) == 0
    out = capsys.readouterr().out
    assert "7.98 M" in out and "2.83 GMACs" in out and "74.43" in out
    assert main(["compare", "densenet121", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: models: unknown model 'nope'") and err.count("\n") == 1
    assert main(["compare", "resnet50", "--input-size", "8"]) == 2
    assert "input_size" in capsys.readouterr().err
    assert main(["compare", "resnet50", "--measure-latency", "--budget", "0"]) == 2
    assert "budget" in capsys.readouterr().err
    if latency.available_memory(torch.device("cpu")) < 48 * 2**30:  # refused before the table is measured
        assert main(["compare", "resnet50", "--input-size", "1024", "--batch-size", "256", "--measure-latency"]) == 2
        captured = capsys.readouterr()
        assert captured.err.startswith("error: timing resnet50 at batch 256 and 1024 px needs about 48.1 GiB")
        assert "reduce the batch" in captured.err and captured.err.count("\n") == 1 and not captured.out


# --- latency you can trust: spreads, interleaving, budget, cancel, memory ---------------------------

def _timed(name, times, batch=1, size=224):
    return Latency(name, batch, size, "cpu", torch.get_num_threads(), tuple(times))


def test_spread_statistics_by_hand():
    x = _timed("a", (10.0, 12.0, 11.0, 30.0, 13.0))
    # inclusive quartiles of 10, 11, 12, 13, 30: the 2nd and 4th values
    assert (x.median_ms, x.q1_ms, x.q3_ms, x.min_ms, x.max_ms, x.rounds) == (12.0, 11.0, 13.0, 10.0, 30.0, 5)
    assert x.spread == pytest.approx(2 / 12) and not x.noisy
    assert _timed("b", (10.0, 20.0, 15.0, 11.0)).noisy  # middle half 10.75..16.25: 41 % of 13 ms
    assert _timed("c", (10.0, 10.1)).noisy  # two rounds: no spread to speak of


@pytest.mark.slow
def test_latency_advice_is_withheld_when_spreads_overlap(rows):
    """Synthetic timings (no clock involved): a slower median alone is not a finding."""
    pair = [rows["densenet121"], rows["resnet50"]]

    def run(dense, res):
        return advice.tradeoffs(pair, {latency_key("densenet121", 1, 224): _timed("densenet121", dense),
                                       latency_key("resnet50", 1, 224): _timed("resnet50", res)})

    # DenseNet's median is 1.5x ResNet's, but the middle halves overlap (25..35 vs 18..27).
    lines = run((20.0, 25.0, 30.0, 35.0, 40.0), (15.0, 18.0, 20.0, 27.0, 28.0))
    assert not any("slower" in line for line in lines)
    assert any(line.startswith("Fastest forward at batch 1: not decided") for line in lines)
    # Separated (29..31 vs 19..21): stated, with the medians.
    lines = run((28.0, 29.0, 30.0, 31.0, 32.0), (18.0, 19.0, 20.0, 21.0, 22.0))
    assert any("a 1.5x slower forward on cpu (30.0 vs 20.0 ms at batch 1)" in line for line in lines)
    assert "Fastest forward at batch 1: resnet50 (20.0 ms, 50 images/s)." in lines
    # Separated but only two rounds each: withheld.
    lines = run((30.0, 31.0), (20.0, 21.0))
    assert not any("slower" in line for line in lines)
    # middle halves 5.5..6.5 (17 % of 6) and 1.95..2.05 (5 % of 2): narrow, apart
    assert latency.clearly_slower(_timed("a", (5.0, 6.0, 7.0)), _timed("b", (1.9, 2.0, 2.1)))
    # middle halves 4.0..6.5 and 1.5..5.5 overlap, although every median and minimum differs
    assert not latency.clearly_slower(_timed("a", (2.0, 6.0, 7.0)), _timed("b", (1.0, 2.0, 9.0)))
    # Issue #23: apart (34..36 vs 10..16) but ResNet's middle half spans 46 % of its 13 ms median, so the
    # page warns "no speed advice is drawn from these": no "2.6x slower" line either (one rule for both).
    wide = (8.0, 10.0, 13.0, 16.0, 18.0)  # inclusive quartiles 10 and 16: (16 - 10) / 13 = 46 %
    assert _timed("resnet50", wide).noisy and not _timed("densenet121", (33.0, 34.0, 35.0, 36.0, 37.0)).noisy
    lines = run((33.0, 34.0, 35.0, 36.0, 37.0), wide)
    assert not any("slower" in line for line in lines), lines
    assert any(line.startswith("Fastest forward at batch 1: not decided") and "spread widely" in line
               for line in lines), lines
    assert not latency.clearly_slower(_timed("densenet121", (33.0, 34.0, 35.0, 36.0, 37.0)), _timed("resnet50", wide))


def _tiny_requests():
    a, b = compare.resolve_entry("densenet-40-k12"), compare.resolve_entry("densenet-bc-100-k12")
    return [(a, 1, 16), (b, 1, 16), (a, 2, 16)]


@pytest.mark.slow
def test_rounds_are_interleaved_and_equal():
    texts = []
    run = latency.measure_latencies(_tiny_requests(), warmup=1, rounds=3, budget_s=600,
                                    progress=lambda done, total, text: texts.append((done, total, text)))
    assert run.stopped is None and run.rounds == 3 and len(run.results) == 3
    assert [r.rounds for r in run.results] == [3, 3, 3]
    assert [r.threads for r in run.results] == [torch.get_num_threads()] * 3
    rounds = [t for _, _, t in texts if t.startswith("round")]
    assert rounds[:4] == ["round 1 of 3: densenet-40-k12 at batch 1", "round 1 of 3: densenet-bc-100-k12 at batch 1",
                          "round 1 of 3: densenet-40-k12 at batch 2", "round 2 of 3: densenet-40-k12 at batch 1"]
    assert texts[-1] == (12, 12, "done") and "Median of 3 interleaved rounds after 1 warm-up run each" in run.summary


@pytest.mark.slow
def test_cancel_drops_the_unfinished_round():
    calls = []

    def should_stop():  # Cancel pressed during round 2: checked before building the 2 models, the 3 warm-ups,
        calls.append(1)  # the 3 forwards of round 1 and the first of round 2
        return len(calls) > 9

    run = latency.measure_latencies(_tiny_requests(), warmup=1, rounds=5, budget_s=600, should_stop=should_stop)
    assert run.stopped == "cancelled" and run.rounds == 1
    assert [r.rounds for r in run.results] == [1, 1, 1] and run.summary.startswith("Cancelled after 1 interleaved")
    assert len(run.noisy) == 3  # one round: no spread, no advice


@pytest.mark.slow
def test_time_budget_stops_between_rounds():
    ticks = iter(range(10_000))  # a clock that advances 1 s at every look: no real time involved
    run = latency.measure_latencies(_tiny_requests(), warmup=1, rounds=50, budget_s=60,
                                    clock=lambda: float(next(ticks)))
    assert run.stopped == "budget" and 1 <= run.rounds < 50
    assert len({r.rounds for r in run.results}) == 1 and "time budget" in run.summary
    with pytest.raises(ConfigError, match="budget"):
        latency.measure_latencies(_tiny_requests(), budget_s=0)


def test_latency_refuses_what_cannot_fit_before_allocating():
    """ResNet-50 at 1024 px: conv1 outputs 64 x 512 x 512 floats per image (67,108,864 bytes), as
    large as layer1's 256 x 256 x 256; a forward holds three such maps."""
    entry = compare.resolve_entry("resnet50")
    assert latency.latency_memory(entry, 256, 1024) == (25_557_032 * 4, 3 * 67_108_864)
    with pytest.raises(BudgetError, match=r"needs about 48.1 GiB .* reduce the batch to 42"):
        latency.measure_latencies([(entry, 256, 1024)], memory_limit=8 * 2**30)
    assert latency.available_memory(torch.device("cpu")) > 0


# --- the measurement cache is validated on read ------------------------------------------------------

BAD_CACHES = ['{"version": 2, "models": []}', '[1, 2, 3]', '"text"', 'null', '{"version": 2}',
              '{"version": 2, "models": {"mobilenet_v2@32": {"name": "mobilenet_v2"}}}',
              '{"version": 2, "models": {"mobilenet_v2@32": 5}}', '{not json', '[' * 100_000]


@pytest.mark.parametrize("text", BAD_CACHES, ids=range(len(BAD_CACHES)))
def test_a_cache_of_the_wrong_shape_is_rewritten(tmp_path, monkeypatch, text):
    monkeypatch.setenv("EXPLORER_CACHE_DIR", str(tmp_path))
    torchvision_costs.clear_cache()
    path = torchvision_costs._cache_file()
    path.write_text(text)
    assert not torchvision_costs.is_cached("mobilenet_v2", 32)
    assert json.loads(path.read_text()) == {"version": 2, "models": {}}  # rewritten: valid and empty


@pytest.mark.slow
def test_a_wrong_entry_is_dropped_and_the_cli_still_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EXPLORER_CACHE_DIR", str(tmp_path))
    torchvision_costs.clear_cache()
    good = torchvision_costs.measure_torchvision("mobilenet_v2", 32)
    path = torchvision_costs._cache_file()
    data = json.loads(path.read_text())
    data["models"]["resnet50@32"] = {**data["models"]["mobilenet_v2@32"], "params": "many"}
    data["models"]["mobilenet_v2@33"] = data["models"]["mobilenet_v2@32"]  # key and size disagree
    path.write_text(json.dumps(data))
    torchvision_costs.clear_cache()
    assert torchvision_costs.measure_torchvision("mobilenet_v2", 32) == good  # the valid entry survives
    assert set(json.loads(path.read_text())["models"]) == {"mobilenet_v2@32"}
    path.write_text('{"version": 2, "models": []}')
    torchvision_costs.clear_cache()
    assert main(["compare", "mobilenet_v2", "--input-size", "32", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["models"][0]["params"] == 3_504_872


# --- Compare's heavy work as jobs (issue 11) ------------------------------------------------------------

@pytest.mark.slow
def test_the_latency_job_reports_every_round_and_estimates_its_cost(monkeypatch):
    from explorer.analysis import work

    reports = []
    monkeypatch.setattr(work, "report", lambda fraction, text="": reports.append((fraction, text)))
    run = work.measure_latencies(_tiny_requests(), 3, 600)
    assert run.rounds == 3 and run.stopped is None
    for r in (1, 2, 3):  # each round is reported (before each of its 3 forwards)
        assert sum(text.startswith(f"round {r} of 3:") for _, text in reports) == 3
    # 2 builds + 3 warm-ups + 9 timed forwards are reported, in order, then "done" at 1.0
    fractions = [f for f, _ in reports]
    assert fractions == sorted(fractions) and reports[-1] == (1.0, "done")
    cost = work.latency_cost(_tiny_requests(), 3, 20)
    # Independently: both models' weights (held together while rounds interleave) plus three of the
    # largest output map of the largest forward (densenet-40-k12 at batch 2, or the other at batch 1),
    # from real forwards at 16 px with hooks.
    weights, largest = 0, {}
    for name in ("densenet-40-k12", "densenet-bc-100-k12"):
        model = explorer.build_model(compare.resolve_entry(name).config.replace(input_size=16), "cpu").eval()
        weights += sum(p.numel() * 4 for p in model.parameters())
        sizes = []
        for module in model.modules():
            module.register_forward_hook(lambda _m, _i, out: sizes.append(out[0].numel() * 4)
                                         if isinstance(out, torch.Tensor) else None)
        with torch.no_grad():
            model(torch.zeros(1, 3, 16, 16))
        largest[name] = max(sizes + [3 * 16 * 16 * 4])
    expected = weights + 3 * max(2 * largest["densenet-40-k12"], largest["densenet-bc-100-k12"])
    assert cost.bytes == expected and cost.seconds == 20 + work._LATENCY_SLACK_S


def test_the_latency_job_refuses_what_cannot_fit_before_it_is_queued():
    from explorer.analysis import work

    entry = compare.resolve_entry("resnet50")  # 48.1 GiB: refused by the request check, one line
    with pytest.raises(BudgetError, match=r"needs about 48.1 GiB .* reduce the batch to"):
        work.latency_cost([(entry, 256, 1024)], 5, 25)


@pytest.mark.slow
def test_the_torchvision_measurement_estimate_covers_what_it_allocates():
    """The job's memory estimate, from a meta copy, against what autograd saves at batch 3 in a
    real training forward (``saved_activation_bytes``, measured independently) plus the weights."""
    from explorer.analysis.measure import saved_activation_bytes

    for name in ("efficientnet_b0", "resnet50"):  # the lowest and the highest ratio of outputs to saved bytes
        model = torchvision_costs.torchvision_model(name)
        weights = sum(p.numel() * p.element_size() for p in model.parameters())
        saved = saved_activation_bytes(model, (3, 3, 64, 64))
        estimate = torchvision_costs.measure_bytes(name, 64)
        assert 1.3 * saved < estimate - weights < 2.5 * saved


def test_where_a_latency_was_measured_counts_threads_in_words():
    from explorer.analysis.latency import where_measured
    from explorer.i18n import translator

    assert where_measured("cpu", 1) == "cpu, 1 thread"
    assert where_measured("cuda", 2) == "cuda, 2 threads"
    assert where_measured("cpu", 1, translator("ja")) == "cpu、1 スレッド"


def test_the_budget_bounds_the_whole_job_on_a_busy_machine(monkeypatch):
    """Issue #24: a 60 s budget ran 93 s and timed 0 rounds on a busy machine. On a simulated
    clock where a build takes 12 s and a cold forward 20 s for the first model (the others in
    proportion to their weights and maps, as on a machine slow for everyone), the job does not
    start a build or a forward predicted to end past the budget, and says plainly that nothing was
    timed. (Before: builds 0-21.1 s, warm-ups until 57.4 s, then a third warm-up started at 57.4 s
    and the job ended at 79.6 s, "after 0 interleaved rounds".)"""
    from torch import nn

    from explorer.analysis import work

    requests = _tiny_requests()
    sizes = {entry.name: latency.latency_memory(entry, 1, 16) for entry, _b, _s in requests}  # cached: real
    first_weights, first_maps = sizes["densenet-40-k12"]
    now = [0.0]

    class Slow(nn.Module):
        def __init__(self, weights: int, per_image: int):
            super().__init__()
            self.units = weights, per_image

        def forward(self, x):
            now[0] += 20.0 * (self.units[0] + self.units[1] * x.shape[0]) / (first_weights + first_maps)
            return x

    def build(entry, size, device):
        weights, per_image = sizes[entry.name]
        now[0] += 12.0 * weights / first_weights
        return Slow(weights, per_image)

    monkeypatch.setattr(latency, "_live_model", build)
    run = latency.measure_latencies(requests, warmup=1, rounds=5, budget_s=60, clock=lambda: now[0])
    assert run.stopped == "budget" and run.rounds == 0 and run.results == []
    assert run.elapsed_s <= 60.0
    assert run.summary == (f"No round was timed: building and warming up the models took the whole 60 s time budget "
                           f"({run.elapsed_s:.1f} s on cpu). Choose fewer or smaller models or batches, or raise the "
                           f"budget.")
    assert work.latency_cost(requests, 5, 60).bounded  # the job layer's time limit is a fuse near the budget


# --- issue #23: a fresh machine shows published numbers at once; labels that never collide ----------

# torchvision's weights metadata (meta["num_params"], meta["_ops"] in GFLOPS, which are MACs), checked
# below against torchvision.models.get_weight(...).meta itself
# (the DenseNets, GoogLeNet and Inception v3 are the project's own presets: analytic, never waiting)
PUBLISHED = {"resnet50": (25_557_032, 4.089), "resnext50_32x4d": (25_028_904, 4.23), "mobilenet_v2": (3_504_872, 0.301),
             "efficientnet_b0": (5_288_548, 0.386)}
WEIGHTS = {"resnet50": "ResNet50_Weights.IMAGENET1K_V1", "resnext50_32x4d": "ResNeXt50_32X4D_Weights.IMAGENET1K_V1",
           "mobilenet_v2": "MobileNet_V2_Weights.IMAGENET1K_V1",
           "efficientnet_b0": "EfficientNet_B0_Weights.IMAGENET1K_V1"}


def test_unmeasured_models_show_their_published_numbers_at_once(tmp_path, monkeypatch):
    """An empty cache and ``measure=False``: params and MACs from the weights' meta, nothing measured
    (measuring is made to fail), the activations left for the measurement; at a size the meta does
    not describe, the MACs wait too."""
    monkeypatch.setenv("EXPLORER_CACHE_DIR", str(tmp_path))
    torchvision_costs.clear_cache()

    def not_now(*_args, **_kwargs):
        raise AssertionError("measured while the page waits")

    monkeypatch.setattr(compare, "measure_torchvision", not_now)
    rows = {r.name: r for r in compare.comparison_rows([*PUBLISHED, "densenet-40-k12"], 32, measure=False)}
    for name, (params, gmacs) in PUBLISHED.items():
        meta = torchvision.models.get_weight(WEIGHTS[name]).meta
        assert (meta["num_params"], meta["_ops"]) == (params, gmacs), name
        row = rows[name]
        assert row.pending and row.source == "published" and row.params == params
        assert row.macs == round(gmacs * 1e9) and row.flops == 2 * row.macs and row.param_bytes == 4 * params
        assert row.activation_bytes is None and row.top1 == ORIGINAL[name][0]
    assert rows["densenet-40-k12"].source == "analytic" and not rows["densenet-40-k12"].pending
    assert compare.uncached(list(rows)) == list(PUBLISHED)
    at_131 = compare.comparison_rows(["resnet50"], 32, 131, measure=False)[0]
    assert at_131.params == 25_557_032 and at_131.macs is None and at_131.flops is None
    with pytest.raises(ConfigError):  # a size the model cannot take is still refused at once
        compare.comparison_rows(["resnet50"], 32, 16, measure=False)
    # No leader is named in a column a model still being measured lacks; accuracy and params are known.
    lines = advice.tradeoffs([rows[name] for name in PUBLISHED])
    assert "Fewest parameters: mobilenet_v2 (3.5 M)." in lines
    assert not any(line.startswith("Least training activation memory") for line in lines)
    assert not any("training activation memory" in line for line in lines)
    best = compare.best_values([rows[name] for name in PUBLISHED])  # no cell marked best before it is known
    assert best["params"] == 3_504_872 and "activation_bytes" not in best
    torchvision_costs.clear_cache()


@pytest.mark.slow
def test_one_job_measures_every_pending_model_at_a_modest_size():
    from explorer.analysis import work
    from explorer.jobs.limits import limits_for

    names = list(reference.TORCHVISION_MODELS)
    chosen, cost = work.torchvision_job(names, 131)
    assert chosen == names and cost.seconds == pytest.approx(10 * (5 + 5 * (131 / 224) ** 2))
    limits_for(cost)  # fits one job
    # at 1024 px the ten would not: the job takes the first ones, the page measures the rest next
    chosen, cost = work.torchvision_job(names, 1024)
    assert 1 <= len(chosen) < len(names) and chosen == names[:len(chosen)]


def _boxes(points, places, width, font_px):
    from explorer.charts.labels import LINE
    from explorer.charts.style import text_em

    boxes = []
    for (x, y, _r, text), place in zip(points, places):
        w, h = text_em(text) * font_px, LINE * font_px
        left = x * width + place.dx - {"left": 0, "center": w / 2, "right": w}[place.align]
        boxes.append((left, left + w, y + place.dy - h / 2, y + place.dy + h / 2))
    return boxes


def test_bubble_labels_never_overlap_nor_leave_the_plot():
    """The ten models' bubbles (Compare's default) at a phone's plot width and wider, normal and
    presentation-size labels: every label placed, none overlapping another, all inside the plot
    (the browser checks the drawn text in tests/e2e/test_browser_compare.py)."""
    from explorer.charts import compare as charts
    from explorer.charts.labels import WIDTHS, place_labels

    rows = compare.comparison_rows(list(reference.TORCHVISION_MODELS), 32, measure=False)
    spec = charts.accuracy_vs_macs(rows)
    x_max = spec["layer"][0]["encoding"]["x"]["scale"]["domain"][1]
    y_low, y_high = spec["layer"][0]["encoding"]["y"]["scale"]["domain"]
    most = max(r.params for r in rows)
    points = [(r.macs / 1e9 / x_max, (y_high - r.top1) / (y_high - y_low) * charts.PLOT_HEIGHT,
               (charts.MAX_BUBBLE_AREA * r.params / most / 3.141592653589793) ** 0.5, r.name) for r in rows]
    for font in (12, 18):
        for k, least in enumerate(WIDTHS):
            places = place_labels(points, charts.PLOT_HEIGHT, least, font)
            assert all(places), (font, least)
            for width in (least, least + 37, 2 * least, 1100):  # a place holds at any wider plot
                boxes = _boxes(points, places, width, font)
                for i, a in enumerate(boxes):
                    assert a[0] >= 0 and a[1] <= width and a[2] >= 0 and a[3] <= charts.PLOT_HEIGHT, (font, width, i)
                    for b in boxes[i + 1:]:
                        assert min(a[1], b[1]) <= max(a[0], b[0]) or min(a[3], b[3]) <= max(a[2], b[2]), \
                            (font, width, a, b)
