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


# --- the job layer on a CUDA machine: jobs that declare the GPU run there --------------------------

@pytest.fixture(scope="module")
def pool():
    import time

    from explorer.jobs.pool import LocalPool

    pool = LocalPool(workers=1, threads=2, spares=0)
    end = time.monotonic() + 120
    while not all(w.ready for w in pool._workers) and time.monotonic() < end:
        time.sleep(0.05)
    yield pool
    pool.shutdown()


def test_explanation_job_runs_on_the_gpu(pool):
    """The Explain page's job: it declares the GPU (CUDA cannot start under the address-space limit
    of a CPU job) and gives the CPU's answer."""
    from explorer.vision import work

    image = load_sample("chelsea")
    cost = work.explain_cost(image.size, "gradcam")
    assert cost.gpu and not work.explain_cost(image.size, "gradcam", on_cpu=True).gpu
    on_gpu = pool.submit(work.explain_pretrained, (image, "efficientnet_lite0", "gradcam", None, None), {},
                         cost, None).result(300)
    on_cpu = explorer.explain(explorer.load_pretrained("efficientnet_lite0", device="cpu"), image)
    assert on_gpu.target_label == on_cpu.target_label == "Egyptian cat"
    assert np.abs(on_gpu.heatmap - on_cpu.heatmap).max() < 0.05
    print(f"Grad-CAM job on the GPU: {on_gpu.seconds:.3f} s")


def test_latency_job_times_on_the_gpu(pool):
    """Compare's latency job: timed on CUDA, and the run says so."""
    from explorer.analysis import compare, work

    entry = compare.resolve_entry("densenet121")
    requests = [(entry, 8, 224)]
    cost = work.latency_cost(requests, 5, 60)
    assert cost.gpu
    run = pool.submit(work.measure_latencies, (requests, 5, 60), {}, cost, None).result(300)
    assert run.device.startswith("cuda") and run.rounds == 5 and run.stopped is None
    print(f"DenseNet-121 at batch 8 on {run.device}: median {run.results[0].median_ms:.2f} ms")
