"""The Explain page's heavy work as jobs of the job layer (``explorer.jobs``): explanations with a
published model or a user's own weights for one, with their cost estimates.

Each function runs in a worker process (so it is module-level and takes picklable arguments);
each ``*_cost`` estimates, before anything is allocated, what the job will need. Explaining a
DenseNet trained in the app is ``training.work.explain_trained``.
"""

from __future__ import annotations

import hashlib

from ..i18n import N_
from ..jobs.limits import Estimate, MiB
from ..jobs.worker import cached_model

# Explanations: the model's forward/backward at its input size, plus the heatmap and overlay at
# the image's size (~100 bytes per pixel of the image they are drawn on); the batched methods
# add at most their memory budget (``vision.attribution.MEMORY_BUDGET``).
_EXPLAIN_PASSES = {"gradcam": 1, "guided_gradcam": 2, "integrated_gradients": 32, "occlusion": 64}
_BATCHED = ("integrated_gradients", "occlusion")
_EXPLAIN_BASE_BYTES = 768 * MiB
_EXPLAIN_BYTES_PER_PIXEL = 100
_SECONDS_PER_PASS = 0.3  # one forward+backward of the largest model at 224-342 px, one core


_WEIGHTS_COPIES = 3  # a weights file's bytes, the state dict unpacked from them, the module built from it
_SECONDS_PER_WEIGHTS_BYTE = 1 / 200e6  # unpickling and checking a state dict


def explain_cost(image_size: tuple[int, int], method: str, weights_bytes: int = 0, on_cpu: bool = False) -> Estimate:
    """An explanation's cost; ``weights_bytes``: the size of a user's weights file the job loads
    first (estimated before loading: the file, its state dict and the module). Published and
    uploaded models load on ``best_device()``, so on a CUDA machine the job declares the GPU (its
    worker then runs without an address-space limit, under which CUDA cannot start); ``on_cpu``:
    the model stays on the CPU (a DenseNet trained in the app)."""
    from ..models.registry import best_device
    from .attribution import MEMORY_BUDGET

    width, height = image_size
    passes = _EXPLAIN_PASSES.get(method, 8)
    return Estimate(bytes=_EXPLAIN_BASE_BYTES + _EXPLAIN_BYTES_PER_PIXEL * width * height
                    + (MEMORY_BUDGET if method in _BATCHED else 0) + _WEIGHTS_COPIES * weights_bytes,
                    seconds=1.0 + passes * _SECONDS_PER_PASS + weights_bytes * _SECONDS_PER_WEIGHTS_BYTE,
                    gpu=not on_cpu and best_device().type == "cuda",
                    reduce=N_("the image's size or choose a cheaper method"))


def explain_pretrained(image, model_name: str, method: str, layer: str | None, target: int | None):
    """``explain`` with a published model, loaded once per worker."""
    from .classifier import load_pretrained
    from .explain import explain

    model = cached_model(("pretrained", model_name), lambda: load_pretrained(model_name, download=False))
    return explain(model, image, target=target, layer=layer, method=method)


def explain_uploaded(image, model_name: str, data: bytes, file_name: str, method: str, layer: str | None,
                     target: int | None):
    """``explain`` with a user's own state dict (.pth) for a published architecture, loaded here in
    the worker (never in the server) and kept for the next jobs under the hash of its bytes."""
    from .classifier import pretrained_from_upload
    from .explain import explain

    model = cached_model(("upload", model_name, hashlib.sha256(data).hexdigest()),
                         lambda: pretrained_from_upload(model_name, data, file_name))
    return explain(model, image, target=target, layer=layer, method=method)
