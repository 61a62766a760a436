"""The Train page's model and bounds, defined once (issue #25): ``DenseNetConfig.cifar`` (the depth ->
layers formula of the paper's CIFAR shapes) against the paper's Table 2, the training ranges in
``models.limits`` used by the loop and the CLI, and the texts the page's views show, built in
``explorer`` (in English here; the page passes its ``_``)."""

from __future__ import annotations

import pytest

from explorer.errors import ConfigError
from explorer.models.densenet import PRESETS, DenseNet, DenseNetConfig
from explorer.models.limits import TRAINING, TRAINING_DEPTHS
from explorer.units import format_bytes


def _params(config: DenseNetConfig) -> int:
    return sum(p.numel() for p in DenseNet(config).parameters())


@pytest.mark.parametrize("depth, k, bottleneck, per_block, millions", [
    (100, 12, True, 16, 0.8),  # DenseNet-BC (L=100, k=12): Table 2, 0.8 M
    (40, 12, False, 12, 1.0),  # DenseNet (L=40, k=12): Table 2, 1.0 M
])
def test_cifar_shapes_match_the_paper(depth, k, bottleneck, per_block, millions):
    config = DenseNetConfig.cifar(depth, k, bottleneck)
    assert config.block_config == (per_block,) * 3 and config.depth == depth
    assert (config.stem, config.input_size, config.num_classes) == ("cifar", 32, 10)
    assert round(_params(config) / 1e6, 1) == millions


def test_cifar_fields_and_the_presets_and_default_that_use_it():
    from explorer.training import default_config

    bc = DenseNetConfig.cifar(40, 12, input_size=16, compression=0.25)
    assert (bc.num_init_features, bc.compression, bc.input_size, bc.bottleneck) == (24, 0.25, 16, True)
    plain = DenseNetConfig.cifar(40, 12, bottleneck=False)
    assert (plain.num_init_features, plain.compression) == (16, 1.0)
    assert default_config(10, 16) == DenseNetConfig(growth_rate=12, block_config=(6, 6, 6), num_init_features=24,
                                                    stem="cifar", input_size=16, num_classes=10)
    assert PRESETS["densenet-bc-190-k40"].block_config == (31, 31, 31)
    assert PRESETS["densenet-100-k24"].block_config == (32, 32, 32)
    assert all(DenseNetConfig.cifar(d, 12).depth == d for d in TRAINING_DEPTHS)  # every depth the page offers


@pytest.mark.parametrize("depth, bottleneck, says", [
    (11, True, "DenseNet-BC depth L must be 6n+4 with n >= 1"), (4, True, "got 4"), (1, True, "got 1"),
    (8, False, "DenseNet depth L must be 3n+4 with n >= 1"),
])
def test_cifar_refuses_a_depth_off_the_formula(depth, bottleneck, says):
    with pytest.raises(ConfigError, match="^depth: ") as error:
        DenseNetConfig.cifar(depth, 12, bottleneck)
    assert says in str(error.value)


def test_the_loop_accepts_the_epochs_the_page_offers():
    from explorer.training import default_config, train

    low, high = TRAINING["epochs"]
    assert (low, high) == (1, 100)
    for epochs in (low - 1, high + 1, 2.0, True):
        with pytest.raises(ConfigError, match=r"^epochs: must be an integer from 1 to 100, got "):
            train(default_config(), None, epochs=epochs)  # checked before the data is touched


def test_the_cli_checks_epochs_before_training(capsys, tmp_path, monkeypatch):
    from explorer.cli.main import main

    monkeypatch.chdir(tmp_path)
    assert main(["train", "--epochs", "101", "--out", "m.safetensors"]) == 2
    err = capsys.readouterr().err
    assert "epochs: must be an integer from 1 to 100, got 101" in err and err.count("\n") == 1


def test_memory_texts():
    from explorer.analysis import footprint

    config = DenseNetConfig.cifar(10, 2, input_size=16)
    assert footprint.model_line(config, True) == "For the session model: DenseNet-BC, L=10, k=2, 16 px."
    f = footprint.footprint_of(config, 64, "momentum", "fp32")
    can, text = footprint.step_answer(f, 64, 8.0)
    assert can and text.startswith("**A training step at batch 64 needs ") and text.endswith(
        f"it fits in 8 GB.** Inference at batch 64: {format_bytes(f.inference_bytes)}.")
    assert "does not fit in 1e-06 GB" in footprint.step_answer(f, 64, 1e-6)[1]
    refused = footprint.footprint_of(PRESETS["densenet121"].replace(input_size=32), 1)
    can, text = footprint.step_answer(refused, 1, 8.0)
    assert not can and text.startswith("Cannot train at batch 1: ") and "1x1 map at batch 1" in text
    assert footprint.largest_batch_answer(512, 0.5) == "Largest batch whose training step fits in 0.5 GB: **512**"
    assert footprint.largest_batch_answer(4096, 8.0).endswith("**4,096** (the search stops at 4,096)")
    overhead = {"efficient_s": 1.2, "standard_s": 1.0, "repeats": 5, "batch_size": 16, "overhead": 0.2}
    assert footprint.overhead_answer(overhead) == (
        "Memory-efficient forward + backward: 1.200 s against 1.000 s (median of 5 interleaved runs, batch 16): "
        "**+20.0 %**, beside the published 15-20 %.")


def test_feature_map_titles():
    import numpy as np

    from explorer.analysis.featuremaps import MapStep, step_title

    maps = np.zeros((1, 2, 2), dtype=np.float32)
    assert step_title(MapStep("block input", 24, 24, maps)) == "block input: 24 channels"
    assert step_title(MapStep("denselayer2", 36, 12, maps)) == "denselayer2: +12 new maps → 36 channels"
    assert step_title(MapStep("transition1", 18, 0, maps)) == "transition1: compressed to 18 channels"


def test_model_and_build_lines():
    from explorer.training.plan import build_line, model_summary

    config = DenseNetConfig.cifar(10, 2, input_size=16)
    assert model_summary(config, 10, "mine.safetensors", None) == (
        "DenseNet-BC, L=10, k=2, θ=0.5, 16×16 px, 10 classes. Uploaded: mine.safetensors")
    run = {"dataset_name": "digits", "train_images": 1438, "val_images": 359, "epochs": 1, "seconds": 6.4,
           "device": "cpu", "stopped_by": "time budget"}
    assert model_summary(config, 10, "x", run).endswith(
        "Trained here on digits: 1,438 training and 359 validation images, 1 epoch in 6 s on cpu, time budget reached.")
    assert "2 epochs" in model_summary(config, 10, "x", {**run, "epochs": 2, "dataset_name": "flowers.zip"})
    assert build_line(PRESETS["densenet121"].replace(stem="cifar", input_size=32)) == (
        "DenseNet-BC, L = 121: k = 32, blocks 6 + 12 + 24 + 16, θ = 0.5, with the CIFAR stem at 32 px")
