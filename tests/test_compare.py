"""The comparison: measured and analytic numbers against published references, the cache, the
latency measurement, the trade-off statements and the ``compare`` CLI.

Reference numbers (torchvision 0.29.1, batch 1): params = sum(p.numel()), MACs = FlopCounterMode
total / 2; accuracy and weights metadata from torchvision's DEFAULT weights.
"""

from __future__ import annotations

import json

import pytest
import torch
import torchvision

from explorer import profile
from explorer.analysis import advice, compare, latency, reference, torchvision_costs
from explorer.cli.main import main
from explorer.analysis.latency import Latency, latency_key
from explorer.models.densenet import DenseNetConfig
from explorer.errors import ConfigError
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


@pytest.mark.parametrize("name", list(REFERENCE))
def test_rows_match_published_numbers(rows, name):
    size, params, macs, top1, top5, tag = REFERENCE[name]
    row = rows[name]
    assert (row.input_size, row.params, row.macs, row.flops) == (size, params, macs, 2 * macs)
    assert row.param_bytes == 4 * params
    assert (row.top1, row.top5, row.weights) == (top1, top5, tag)
    project = name in compare.all_presets()
    assert row.source == ("analytic" if project else "measured")


def test_project_presets_use_the_analytic_profile(rows):
    for name in ("densenet121", "densenet161"):
        result = profile(name, batch_size=32)
        assert rows[name].source == "analytic"
        assert rows[name].activation_bytes == result.activation_bytes
        assert rows[name].stages[1] == ("denseblock1", result.blocks[1].out_channels, 56)


def test_measured_stages(rows):
    assert ("layer4", 2048, 7) in rows["resnet50"].stages
    assert rows["resnet50"].stages[0] == ("conv1", 64, 112)
    assert rows["mobilenet_v2"].stages[-1] == ("features.18", 1280, 7)
    assert rows["inception_v3"].stages[-1][1:] == (2048, 8)


def test_measured_activation_bytes_are_linear_in_batch():
    """Two forwards (batches 2 and 3) predict a third batch exactly; checked against a direct
    measurement at batch 5 on small inputs."""
    for name in ("mobilenet_v2", "resnet50"):
        m = torchvision_costs.measure_torchvision(name, 64)
        model = torchvision.models.get_model(name, weights=None)
        assert m.activation_bytes(5) == saved_activation_bytes(model, (5, 3, 64, 64))
        assert m.activation_constant > 0  # BN batch statistics: 2 floats per channel per BN
        assert m.params == sum(p.numel() for p in model.parameters())


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


def test_best_values_and_csv(rows):
    chosen = [rows[n] for n in ("densenet121", "resnet50", "mobilenet_v2")]
    best = compare.best_values(chosen)
    assert best["params"] == 3_504_872 and best["top1"] == 80.858 and best["macs"] == 300_774_272
    lines = compare.rows_csv(chosen).splitlines()
    assert lines[0].split(",")[:5] == ["name", "source", "arch", "input_size", "params"]
    assert lines[2].startswith("resnet50,measured,resnet,224,25557032,4089184256")


def _latency(name, ms, batch=1, size=224):
    return Latency(name, batch, size, "cpu", torch.get_num_threads(), (ms, ms * 1.1, ms * 0.9))


def test_tradeoffs_are_computed_from_the_numbers(rows):
    pair = [rows["densenet121"], rows["resnet50"]]
    lines = advice.tradeoffs(pair)
    statement = next(line for line in lines if line.startswith("densenet121 has about a third of resnet50"))
    assert "training activation memory" in statement and "slower" not in statement
    assert "Most accurate: resnet50 (80.9 % ImageNet top-1)." in lines
    slow = {latency_key("densenet121", 1, 224): _latency("densenet121", 30.0),
            latency_key("resnet50", 1, 224): _latency("resnet50", 20.0)}
    statement = next(line for line in advice.tradeoffs(pair, slow) if line.startswith("densenet121 has"))
    assert "a 1.5x slower forward on cpu (30.0 vs 20.0 ms at batch 1)" in statement
    fast = {latency_key("densenet121", 1, 224): _latency("densenet121", 10.0),
            latency_key("resnet50", 1, 224): _latency("resnet50", 20.0)}
    lines = advice.tradeoffs(pair, fast)
    assert not any("slower" in line for line in lines)
    assert "Fastest forward at batch 1: densenet121 (10.0 ms, 100 images/s)." in lines


def test_measure_latency_on_a_small_model():
    entry = compare.resolve_entry("densenet-40-k12")
    steps = []
    result = latency.measure_latency(entry, batch_size=2, warmup=1, repeats=3,
                                     progress=lambda done, total: steps.append((done, total)))
    assert len(result.times_ms) == 3 and result.min_ms <= result.median_ms <= result.max_ms
    assert result.images_per_s == pytest.approx(2000 / result.median_ms)
    assert (result.device, result.threads, result.input_size) == (str(latency.best_device()),
                                                                  torch.get_num_threads(), 32)
    assert steps[-1] == (4, 4)
    with pytest.raises(ConfigError):
        latency.measure_latency(entry, batch_size=0)


def test_cli_json_shape(rows, capsys):
    assert main(["compare", "densenet121", "densenet264", "resnet50", "--batch-size", "32", "--format", "json"]) == 0
    models = json.loads(capsys.readouterr().out)["models"]
    assert [set(m) for m in models] == [{"name", "params", "macs", "flops", "param_bytes", "activation_bytes",
                                         "input_size", "top1", "top5", "latency_ms"}] * 3
    assert models[0]["params"] == 7_978_856 and models[0]["top1"] == 74.434
    assert models[1]["top1"] is None and models[1]["latency_ms"] is None  # no published accuracy
    assert models[2]["macs"] == 4_089_184_256 and models[2]["activation_bytes"] == rows["resnet50"].activation_bytes


def test_cli_latency_table_and_errors(capsys):
    assert main(["compare", "densenet-40-k12", "--measure-latency", "--repeats", "2", "--format", "json"]) == 0
    model = json.loads(capsys.readouterr().out)["models"][0]
    assert model["latency_ms"] > 0
    assert main(["compare", "densenet121", "densenet-40-k12"]) == 0
    out = capsys.readouterr().out
    assert "7.98 M" in out and "2.83 GMACs" in out and "74.43" in out
    assert main(["compare", "densenet121", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: models: unknown model 'nope'") and err.count("\n") == 1
    assert main(["compare", "resnet50", "--input-size", "8"]) == 2
    assert "input_size" in capsys.readouterr().err
