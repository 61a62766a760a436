"""Every exercise generator's answer, for many seeds, against the profile engine, torch modules or
torchvision's metadata: never against the generator's own formula."""

import json
import math
from urllib.parse import parse_qs, urlparse

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import get_model_weights
from torchvision.models.densenet import DenseNet as TorchvisionDenseNet
from torchvision.models.densenet import _DenseLayer

import explorer
from explorer.cli.main import main
from explorer.models.inception import Inception, InceptionModuleConfig, inception_module_plan, module_report
from explorer.teach.exercises import (GENERATORS, KIND_TITLES, check_answer, make_exercise, make_exercises,
                                      parse_number, worksheet_markdown)
from explorer.teach.exercises import ExerciseError

SEEDS = range(30)


def numel(*modules) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


def exercises(kind, seeds=SEEDS):
    return [make_exercise(kind, seed, index) for seed in seeds for index in (0, 5)]


def test_at_least_twelve_kinds_each_titled():
    assert len(GENERATORS) >= 12
    assert set(KIND_TITLES) == set(GENERATORS)


@pytest.mark.slow
def test_dense_channels_against_torchvision_densenet():
    for ex in exercises("dense_channels"):
        p = ex.params
        with torch.device("meta"):
            model = TorchvisionDenseNet(growth_rate=p["k"], block_config=(p["n"],), num_init_features=p["k0"])
        assert ex.answer == model.classifier.in_features, ex.question


@pytest.mark.slow
def test_transition_channels_against_the_built_model():
    for ex in exercises("transition_channels"):
        p = ex.params
        config = explorer.DenseNetConfig(growth_rate=p["k"], block_config=(p["n"], 2), num_init_features=p["k0"],
                                         compression=p["theta"], stem="cifar", input_size=32)
        model = explorer.build_model(config)
        assert model.features.denseblock1.denselayer1.norm1.num_features == p["k0"]
        assert model.features.transition1.norm.num_features == p["m"]
        assert ex.answer == model.features.transition1.conv.out_channels, ex.question
    # Two embedded cases: the floor is exact where floating point is not (0.7 * 1248 = 873.6).
    assert math.floor(0.7 * 1248) == 873 and math.floor(0.3 * 160) == 48


def test_bottleneck_params_against_torchvision_dense_layer():
    for ex in exercises("bottleneck_params"):
        with torch.device("meta"):
            layer = _DenseLayer(ex.params["c"], ex.params["k"], bn_size=4, drop_rate=0.0)
        assert ex.answer == numel(layer), ex.question


def _module(ex, **changes):
    return InceptionModuleConfig(in_channels=ex.params["c"], widths=tuple(ex.params["widths"]),
                                 input_size=ex.params["size"], **changes)


def test_inception_answers_against_the_module_report_and_torch():
    for ex in exercises("inception_params"):
        assert ex.answer == module_report(_module(ex)).conv_weight_params
    for ex in exercises("inception_naive"):
        assert ex.answer == module_report(_module(ex, reduction=False)).conv_weight_params
    for ex in exercises("inception_macs"):
        assert ex.answer == module_report(_module(ex)).macs
        assert ex.tolerance == 0.01
    # One module through torch itself: conv kernels counted, MACs by FlopCounterMode / 2.
    from torch.utils.flop_counter import FlopCounterMode

    for seed in (11, 12):
        ex = make_exercise("inception_macs", seed)
        module = Inception(inception_module_plan(_module(ex))).eval()
        weights = sum(m.weight.numel() for m in module.modules() if isinstance(m, nn.Conv2d))
        assert weights == module_report(_module(ex)).conv_weight_params
        x = torch.zeros(1, ex.params["c"], ex.params["size"], ex.params["size"])
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            module(x)
        assert ex.answer == counter.get_total_flops() // 2


def test_reduction_saving_against_the_module_report():
    for ex in exercises("reduction_saving"):
        p = ex.params
        report = module_report(InceptionModuleConfig(in_channels=p["c"], widths=(64, 96, 128, p["r"], p["d"], 32)))
        five = next(b for b in report.branches if b.name == "5x5")
        assert ex.answer == five.naive_conv_weight_params - five.conv_weight_params
    # GoogLeNet 3a, from the paper's widths: 153,600 - 15,872.
    assert module_report(InceptionModuleConfig()).branches[2].naive_conv_weight_params - 15_872 == 137_728


def test_output_size_against_torch():
    for ex in exercises("output_size", range(60)):
        p = ex.params
        layer = (nn.Conv2d(1, 1, p["kernel"], p["stride"], p["padding"]) if p["op"] == "conv"
                 else nn.MaxPool2d(p["kernel"], p["stride"], p["padding"]))
        out = layer.to("meta")(torch.empty(1, 1, p["size"], p["size"], device="meta"))
        assert ex.answer == out.shape[-1], ex.question


def test_receptive_field_by_gradient():
    """The input pixels that reach the centre output of the stack, found by backpropagation."""
    for ex in exercises("receptive_field", range(10)):
        n = ex.params["n"]
        stack = nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=1, bias=False) for _ in range(n)])
        for conv in stack:
            nn.init.constant_(conv.weight, 1.0)
        x = torch.zeros(1, 1, 31, 31, requires_grad=True)
        stack(x)[0, 0, 15, 15].backward()
        rows = (x.grad[0, 0].abs().sum(dim=1) > 0).sum().item()
        assert ex.answer == rows, ex.question


def test_factorised_weights_against_torch():
    for ex in exercises("factorised_weights"):
        n, c = ex.params["n"], ex.params["c"]
        big = nn.Conv2d(c, c, 2 * n + 1, bias=False, device="meta")
        stack = [nn.Conv2d(c, c, 3, bias=False, device="meta") for _ in range(n)]
        assert ex.answer == numel(big) - numel(*stack)


def test_depthwise_separable_against_torch():
    for ex in exercises("depthwise_separable"):
        k, m, n = ex.params["k"], ex.params["m"], ex.params["n"]
        depthwise = nn.Conv2d(m, m, k, groups=m, bias=False, device="meta")
        pointwise = nn.Conv2d(m, n, 1, bias=False, device="meta")
        assert ex.answer == numel(depthwise, pointwise)


def test_resnext_grouped_against_torch():
    for ex in exercises("resnext_grouped"):
        g, d = ex.params["groups"], ex.params["per_group"]
        assert ex.answer == numel(nn.Conv2d(g * d, g * d, 3, groups=g, bias=False, device="meta"))
    # ResNeXt-50 32x4d's first grouped conv, as torchvision builds it.
    from torchvision.models import resnext50_32x4d

    with torch.device("meta"):
        model = resnext50_32x4d()
    assert model.layer1[0].conv2.groups == 32 and model.layer1[0].conv2.weight.numel() == 4_608


def _normalised(x, axes):
    mean = x.mean(dim=axes, keepdim=True)
    var = x.var(dim=axes, keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var + 1e-5)


def test_norm_axes_answers_reproduce_torch():
    """The right choice names the axes whose statistics reproduce torch's normalisation."""
    torch.manual_seed(0)
    x = torch.randn(4, 6, 5, 5)
    torch_result = {"batch": F.batch_norm(x, None, None, training=True), "layer": F.layer_norm(x, x.shape[1:]),
                    "instance": F.instance_norm(x), "group": F.group_norm(x, 2)}
    axes_of = {"N, H, W": lambda t: _normalised(t, (0, 2, 3)), "C, H, W": lambda t: _normalised(t, (1, 2, 3)),
               "H, W": lambda t: _normalised(t, (2, 3)),
               "C/G, H, W": lambda t: _normalised(t.reshape(4, 2, 3, 5, 5), (2, 3, 4)).reshape(4, 6, 5, 5)}
    seen = set()
    for ex in exercises("norm_axes"):
        label = ex.choices[ex.answer]
        assert torch.allclose(axes_of[label](x), torch_result[ex.answer], atol=1e-4), ex.question
        wrong = [key for key in ex.choices if key != ex.answer]
        assert all(not torch.allclose(axes_of[ex.choices[key]](x), torch_result[ex.answer], atol=1e-4)
                   for key in wrong)
        seen.add(ex.answer)
    assert seen == {"batch", "layer", "instance", "group"}


# Torchvision's models, independently of the profile: params from its metadata, MACs measured by
# FlopCounterMode / 2 on torchvision 0.29.1 (docs/REFERENCE.md), top-1 from its metadata.
REFERENCE_MACS = {"densenet121": 2_834_161_664, "densenet169": 3_359_843_328, "densenet201": 4_291_365_888,
                  "densenet161": 7_727_907_072, "googlenet": 1_498_376_192, "inception_v3": 5_713_216_096}


@pytest.mark.slow
def test_model_choice_against_torchvision_numbers():
    meta = {name: get_model_weights(name).DEFAULT.meta for name in REFERENCE_MACS}
    kinds_seen = set()
    for ex in exercises("model_choice", range(40)):
        p = ex.params
        if p["measure"] == "params":
            values = {name: m["num_params"] for name, m in meta.items()}
        elif p["measure"] == "macs":
            values = REFERENCE_MACS
        else:  # training memory: the profile engine (itself tested against saved-tensor measurements)
            values = {name: explorer.profile(name, batch_size=p["batch"]).activation_bytes for name in meta}
        allowed = [name for name, v in values.items() if v <= p["limit"]]
        assert allowed and len(allowed) < len(values)
        # No model within 2 % of the limit: the rounded limit in the question cannot mislead.
        assert all(abs(v - p["limit"]) > 0.02 * p["limit"] for v in values.values())
        best = max(allowed, key=lambda name: meta[name]["_metrics"]["ImageNet-1K"]["acc@1"])
        assert ex.answer == best, ex.question
        kinds_seen.add(p["measure"])
    assert kinds_seen == {"params", "macs", "activation_bytes"}


# --- sets, checking, worksheets ----------------------------------------------------------------

def test_same_seed_same_set_and_all_kinds_in_twelve_plus():
    a, b = make_exercises(14, 42), make_exercises(14, 42)
    assert [x.to_dict() for x in a] == [y.to_dict() for y in b]
    assert {x.kind for x in a} == set(GENERATORS)
    assert [x.params for x in make_exercises(14, 43)] != [x.params for x in a]
    assert {x.kind for x in make_exercises(5, 1, kinds=["receptive_field"])} == {"receptive_field"}


def test_links_open_the_right_page_with_the_drawn_settings():
    for ex in make_exercises(40, 5):
        url = urlparse(ex.link)
        query = parse_qs(url.query)
        assert url.path in {"densenet", "inception", "compare", "learn"}
        if url.path == "inception":
            assert int(query["in_channels"][0]) == ex.params["c"]
            assert len(query["widths"][0].split(",")) == 6
        if ex.kind == "dense_channels":
            assert query["k"] == [str(ex.params["k"])] and query["blocks"] == [str(ex.params["n"])]
            assert query["k0"] == [str(ex.params["k0"])]
        if ex.kind == "transition_channels":
            assert float(query["theta"][0]) == ex.params["theta"]


def test_parse_and_check_answers():
    assert parse_number("163,328") == 163_328
    assert parse_number(" 163 328 ") == 163_328
    assert parse_number("１６３３２８") == 163_328  # full-width digits from a Japanese keyboard
    assert parse_number("1.5M") == 1_500_000 and parse_number("2.83 G") == 2.83e9
    assert parse_number("abc") is None and parse_number("") is None and parse_number("1..2") is None
    ex = make_exercise("inception_params", 7)
    assert check_answer(ex, f"{ex.answer:,}") and not check_answer(ex, str(ex.answer + 1))
    macs = make_exercise("inception_macs", 7)
    assert check_answer(macs, str(round(macs.answer * 1.005))) and not check_answer(macs, str(macs.answer * 2))
    norm = make_exercise("norm_axes", 7)
    assert check_answer(norm, norm.answer) and not check_answer(norm, "nonsense")


def test_bad_requests_are_one_line_errors():
    with pytest.raises(ExerciseError, match="count"):
        make_exercises(0, 1)
    with pytest.raises(ExerciseError, match="seed"):
        make_exercises(3, -1)
    with pytest.raises(ExerciseError, match="unknown exercise kind"):
        make_exercises(3, 1, kinds=["nope"])


def test_cli_worksheet_json_and_markdown(capsys):
    assert main(["exercises", "--count", "14", "--seed", "7", "--lang", "ja", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["seed"] == 7 and data["lang"] == "ja" and len(data["exercises"]) == 14
    assert {e["kind"] for e in data["exercises"]} == set(GENERATORS)
    assert [e["answer"] for e in data["exercises"]] == [e.answer for e in make_exercises(14, 7, "en")]
    assert main(["exercises", "--count", "3", "--seed", "7"]) == 0
    text = capsys.readouterr().out
    assert text == worksheet_markdown(make_exercises(3, 7), 7)
    assert text.startswith("# Exercises (seed 7)") and "## Answer key" in text
    assert main(["exercises", "--count", "2", "--seed", "7", "--lang", "ja"]) == 0
    assert "## 解答" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["exercises", "--count", "0"], ["exercises", "--lang", "fr"],
                                  ["exercises", "--kinds", "nope"], ["exercises", "--seed", "x"]])
def test_cli_bad_arguments_exit_2_with_one_line(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
