"""The live DenseNet: torchvision compatibility, names, validation, meta building."""

import pytest
import torch
import torchvision

import explorer
from explorer.models.densenet import PRESETS, DenseNetConfig, densenet_plan, transition_channels
from explorer.errors import ConfigError


@pytest.mark.slow
@pytest.mark.parametrize("name", ["densenet121", "densenet169", "densenet201", "densenet161"])
def test_torchvision_state_dict_loads_strict_and_logits_match(name):
    torch.manual_seed(0)
    reference = getattr(torchvision.models, name)().eval()
    model = explorer.build_model(name, "cpu").eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(model(x), reference(x), atol=1e-5)


def test_module_names_follow_torchvision():
    model = explorer.build_model("densenet121")
    names = dict(model.named_modules())
    for name in ["features.conv0", "features.norm0", "features.relu0", "features.pool0",
                 "features.denseblock1.denselayer1.norm1", "features.denseblock1.denselayer6.conv2",
                 "features.denseblock4.denselayer16.relu2", "features.transition3.pool", "features.norm5",
                 "classifier"]:
        assert name in names, name
    assert "features.transition4" not in names


def test_final_relu_is_a_module_and_not_in_place():
    model = explorer.build_model("densenet121")
    relu = dict(model.named_modules())["features.relu5"]
    assert isinstance(relu, torch.nn.ReLU) and relu.inplace is False


def test_final_relu_supports_backward_hooks():
    model = explorer.build_model(DenseNetConfig(8, (2, 2), 16, input_size=32, num_classes=5), "cpu")
    grads = []
    model.features.relu5.register_full_backward_hook(lambda m, gi, go: grads.append(go[0]))
    model(torch.randn(1, 3, 32, 32)).sum().backward()
    # 16 + 2*8 = 32 -> transition 16 -> 16 + 2*8 = 32 channels; 32 px -> stem 8 -> transition 4
    assert grads and grads[0].shape == (1, 32, 4, 4)


def test_densenet121_channels_match_the_paper():
    plan = densenet_plan(PRESETS["densenet121"])
    assert plan.block_out_channels == (256, 512, 1024, 1024)
    assert [t.conv.out_channels for t in plan.transitions] == [128, 256, 512]
    assert plan.classifier.in_features == 1024


def test_transition_floor_is_exact():
    assert transition_channels(30, 0.7) == 21
    # Binary floating point gets some products wrong: 100 * 0.29 is 28.999999999999996.
    assert int(100 * 0.29) == 28 and transition_channels(100, 0.29) == 29
    assert transition_channels(10, 0.3) == 3 and int(10 * 0.3) == 3
    config = DenseNetConfig(growth_rate=5, block_config=(2, 2), num_init_features=20, compression=0.7,
                            input_size=64)
    assert densenet_plan(config).transitions[0].conv.out_channels == 21
    assert dict(explorer.build_model(config).named_modules())["features.transition1.conv"].out_channels == 21


def test_no_bottleneck_layer_is_bn_relu_3x3():
    model = explorer.build_model(PRESETS["densenet-40-k12"])
    layer = model.features.denseblock1.denselayer1
    assert layer.conv1.kernel_size == (3, 3) and not hasattr(layer, "conv2")
    assert [n for n, _ in layer.named_children()] == ["norm1", "relu1", "conv1"]


def test_cifar_stem_has_no_bn_or_pool():
    model = explorer.build_model("densenet-bc-100-k12")
    stem = [n for n, _ in model.features.named_children()][:2]
    assert stem == ["conv0", "denseblock1"]
    assert model.features.conv0.kernel_size == (3, 3) and model.features.conv0.out_channels == 24


def test_building_on_meta_allocates_nothing():
    model = explorer.build_model("densenet264")  # benchmarks/profile_speed.py times this
    assert all(t.device.type == "meta" for t in list(model.parameters()) + list(model.buffers()))


def test_materialize_gives_real_initialised_weights():
    config = DenseNetConfig(8, (2, 2), 16, input_size=32, num_classes=5)
    model = explorer.materialize(explorer.build_model(config), "cpu")
    assert model.features.conv0.weight.device.type == "cpu"
    assert torch.isfinite(model(torch.randn(1, 3, 32, 32))).all()
    assert float(model.features.norm0.weight.mean()) == 1.0
    assert float(model.classifier.bias.abs().sum()) == 0.0


def test_memory_efficient_gives_same_output_and_gradients():
    torch.manual_seed(0)
    config = DenseNetConfig(6, (3, 2), 8, stem="cifar", input_size=16, num_classes=4)
    plain = explorer.build_model(config, "cpu")
    efficient = explorer.build_model(config.replace(memory_efficient=True), "cpu")
    efficient.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 16, 16)
    plain(x).sum().backward()
    efficient(x).sum().backward()
    assert torch.allclose(plain.features.conv0.weight.grad, efficient.features.conv0.weight.grad, atol=1e-5)


@pytest.mark.parametrize("changes, field, text", [
    ({"growth_rate": 0}, "growth_rate", "1 to 128"),
    ({"growth_rate": 129}, "growth_rate", "1 to 128"),
    ({"block_config": ()}, "block_config", "1 to 6"),
    ({"block_config": (1,) * 7}, "block_config", "1 to 6"),
    ({"block_config": (6, 0)}, "block_config", "1 to 128"),
    ({"block_config": (6, 129)}, "block_config", "1 to 128"),
    ({"compression": 0}, "compression", "(0, 1]"),
    ({"compression": 1.5}, "compression", "(0, 1]"),
    ({"drop_rate": 1.0}, "drop_rate", "[0, 1)"),
    ({"stem": "resnet"}, "stem", "imagenet, cifar"),
    ({"bn_size": 0}, "bn_size", "1 to 16"),
    ({"input_size": 4}, "input_size", "8 to 2048"),
    ({"input_size": 20}, "input_size", "use at least"),
    ({"num_classes": 0}, "num_classes", "1 to 100000"),
    ({"growth_rate": 2.5}, "growth_rate", "integer"),
])
def test_invalid_values_name_the_field_and_range(changes, field, text):
    with pytest.raises(ConfigError) as error:
        PRESETS["densenet121"].replace(**changes)
    assert error.value.field == field
    assert field.split("_")[0] in str(error.value) and text in str(error.value)


def test_compression_that_leaves_no_channels_is_refused():
    with pytest.raises(ConfigError, match="raise theta"):
        DenseNetConfig(growth_rate=1, block_config=(1, 1), num_init_features=1, compression=0.3, input_size=64)


def test_variant_names():
    assert PRESETS["densenet121"].variant == "DenseNet-BC"
    assert PRESETS["densenet-40-k12"].variant == "DenseNet"
    assert PRESETS["densenet-40-k12"].replace(bottleneck=True).variant == "DenseNet-B"
    assert PRESETS["densenet-40-k12"].replace(compression=0.5).variant == "DenseNet-C"


def test_preset_depths_match_their_names():
    for name, config in PRESETS.items():
        depth = int(name.split("-")[-2] if "-k" in name else name.removeprefix("densenet"))
        if name == "densenet264":
            depth = 265  # Table 1's blocks (6, 12, 64, 48) count 265 weighted layers; the name is the paper's
        assert config.depth == depth, name


def test_config_round_trips_through_dict():
    config = PRESETS["densenet-bc-190-k40"]
    assert DenseNetConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError, match="unknown field"):
        DenseNetConfig.from_dict({**config.to_dict(), "colour": "red"})


def test_budget_refuses_before_allocating():
    huge = DenseNetConfig(growth_rate=128, block_config=(128,) * 6, num_init_features=1024, input_size=224)
    with pytest.raises(explorer.BudgetError, match="weights"):
        explorer.build_model(huge, "cpu")
    big_batch = explorer.profile("densenet121", batch_size=512)
    with pytest.raises(explorer.BudgetError, match="batch size"):
        explorer.check_budget(big_batch)
    explorer.check_budget(explorer.profile("densenet121", batch_size=32))  # about 3.9 GiB: accepted


def test_best_device_falls_back_to_cpu():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available() and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        expected = "mps"
    assert explorer.best_device().type == expected


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_runs_on_cuda():
    model = explorer.materialize(explorer.build_model("densenet121"), "cuda").eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 224, 224, device="cuda")).shape == (1, 1000)
