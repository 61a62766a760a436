"""On a CUDA machine the same explanations and latency numbers come out on the GPU (skipped without one)."""

import numpy as np
import pytest
import torch

import explorer
from explorer.vision.images import load_sample

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: GPU tests skipped")


def test_best_device_is_cuda():
    assert explorer.best_device().type == "cuda"


def test_gradcam_on_gpu_matches_cpu():
    image = load_sample("chelsea")
    gpu = explorer.load_pretrained("efficientnet_lite0", device="cuda")
    cpu = explorer.load_pretrained("efficientnet_lite0", device="cpu")
    assert next(gpu.module.parameters()).device.type == "cuda"
    on_gpu, on_cpu = explorer.explain(gpu, image), explorer.explain(cpu, image)
    assert on_gpu.target_label == on_cpu.target_label == "Egyptian cat"
    assert on_gpu.heatmap.shape == on_cpu.heatmap.shape
    assert np.abs(on_gpu.heatmap - on_cpu.heatmap).max() < 0.05


def test_live_densenet_trains_on_gpu():
    config = explorer.DenseNetConfig(12, (4, 4, 4), 24, stem="cifar", input_size=32, num_classes=10,
                                     memory_efficient=True)
    model = explorer.materialize(explorer.build_model(config), "cuda")
    loss = model(torch.randn(8, 3, 32, 32, device="cuda")).logsumexp(1).mean()
    loss.backward()
    assert model.features.conv0.weight.grad.device.type == "cuda"
