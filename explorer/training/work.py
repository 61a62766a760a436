"""The Train page's heavy work as jobs of the job layer (``explorer.jobs``): training, checking an
uploaded weights file, feature reuse, feature maps, and the depth and overhead measurements; and
the Explain page's explanations with a DenseNet trained here (``explain_trained``).

Each job function is module-level and takes picklable arguments (a model travels as its
``safetensors`` bytes); each ``*_cost`` estimates, before anything is allocated, what it will
need. A data set is named, not sent: ``("digits", size)`` or ``("zip", bytes, name, size)``; the
worker builds it (an uploaded zip is decoded there, never in the server).
"""

from __future__ import annotations

import time
from typing import Any

from ..i18n import N_, Message
from ..jobs.limits import Estimate, MiB
from ..jobs.worker import cached_model, report, stop_requested
from ..models.densenet import DenseNetConfig

TRAIN_BATCH = 64
EVAL_BATCH = 256  # ``loop.evaluate``'s batch
REPORT_EVERY_S = 0.5  # live curves need no more
DIGITS_IMAGES = 1797  # scikit-learn's digits
_BASE_BYTES = 256 * MiB  # torch's per-op buffers, the data set's Python side
_SECONDS_PER_ZIP_IMAGE = 0.02  # decode + resize of one (capped) image
_SETUP_SECONDS = 10.0  # build the data and the model, the last evaluation, save the file
TRAIN_REDUCE = Message(N_("the depth, the growth rate, the image size or the time budget"))


def training_threads() -> int:
    """Torch threads a training job asks for: the cores no other process is running on now (every
    core on an idle machine; the pool's workers run at a lower CPU priority than the server, so
    slider steps still come first), unless the server sets ``EXPLORER_TRAIN_THREADS`` (0: the
    worker's share of the cores). On a busy machine a second thread only waits for its core: with a
    CPU hog on each of 2 cores a step of the default model took 6.5 s on 2 threads, 1.3 s on 1."""
    import os

    from ..environment import train_threads

    configured = train_threads()
    return max(1, (os.cpu_count() or 1) - other_runnable()) if configured is None else configured


def other_runnable() -> int:
    """Processes running or waiting for a core right now, besides the caller (Linux's
    /proc/loadavg; 0 where it cannot be read). Read at once: the load average lags by a minute."""
    try:
        with open("/proc/loadavg") as loadavg:
            running = int(loadavg.read().split()[3].split("/")[0])
    except (OSError, IndexError, ValueError):
        return 0
    return max(0, running - 1)


def dataset_images(data: tuple) -> int:
    """How many images the data set will hold at most (for the estimate, in the server): the
    digits, or the file count a zip's end record declares (``data.zip_directory``: its file list
    is read only in the job, under the job's limits, issue #24; a bad zip is refused there)."""
    if data[0] == "digits":
        return DIGITS_IMAGES
    from .data import MAX_FILES, zip_directory

    try:
        return max(min(zip_directory(data[1])[0], MAX_FILES), 1)
    except ValueError:
        return 1


def max_budget_s(images: int = DIGITS_IMAGES) -> int:
    """The longest time budget a training job of a data set this size may ask for on this server:
    what one bounded job may run (``limits.longest_bounded_seconds``) less the setup ``train_cost``
    adds (the Train page's budget input offers no more)."""
    from ..jobs.limits import longest_bounded_seconds

    setup = _SETUP_SECONDS + (0 if images == DIGITS_IMAGES else images * _SECONDS_PER_ZIP_IMAGE)
    return max(int(longest_bounded_seconds() - setup), 0)


def train_cost(config: DenseNetConfig, images: int, budget_s: float, threads: int = 0, gpu: bool = False,
               batch_size: int = TRAIN_BATCH) -> Estimate:
    """A training step's whole footprint at the batch size (``analysis.footprint``: weights,
    gradients, momentum, activations, backward buffers), or the evaluation's when larger; the data
    set's tensors; the weights' copies (result, file). The job keeps its own time budget
    (``bounded``): its time is the budget plus setup."""
    from ..analysis.footprint import footprint_of
    from ..errors import ConfigError

    step = footprint_of(config, batch_size, "momentum", "fp32")
    if not step.can_train:
        raise ConfigError("batch_size", N_("this model cannot train at batch {batch}: {reason}"), batch=batch_size,
                          reason=step.reason)
    evaluation = footprint_of(config, EVAL_BATCH).inference_bytes
    data_bytes = images * 3 * config.input_size ** 2 * 4
    seconds = budget_s + _SETUP_SECONDS + (0 if images == DIGITS_IMAGES else images * _SECONDS_PER_ZIP_IMAGE)
    return Estimate(bytes=max(step.training_bytes, evaluation) + data_bytes + 4 * step.weights + _BASE_BYTES,
                    seconds=seconds, gpu=gpu, reduce=TRAIN_REDUCE, bounded=True, threads=threads)


def _dataset(data: tuple):
    from .data import digits_dataset, zip_dataset

    if data[0] == "digits":
        return digits_dataset(size=data[1])
    _, blob, name, size = data
    return zip_dataset(blob, name, size=size)


def progress_payload(p, step_losses: list) -> dict:
    """What a training job reports besides its fraction: the numbers of the progress line and
    the curves so far (the page draws and translates them)."""
    return {"epoch": p.epoch, "epochs": p.epochs, "step": p.step, "total_steps": p.total_steps, "loss": p.loss,
            "elapsed_s": p.elapsed_s, "eta_s": p.eta_s, "history": p.history, "step_losses": list(step_losses),
            "plan": p.plan.to_dict() if p.plan is not None else None}


def train_model(config: DenseNetConfig, data: tuple, epochs: int, budget_s: float | None,
                batch_size: int = TRAIN_BATCH, seed: int = 0, live: bool = True, gpu: bool = False) -> dict:
    """Train (``loop.train``) and return the weights file's bytes with the curves and summary.

    On the GPU only when ``gpu`` (as its estimate declared: a CPU job runs under an address-space
    limit that CUDA cannot start under). Reports ``progress_payload`` at most every
    ``REPORT_EVERY_S`` (``live=False``: fractions only, for measuring what the payload costs);
    ``Job.stop`` ends it early with the model so far."""
    from .loop import train
    from .weights import save_model

    import math

    dataset = _dataset(data)
    per_epoch = math.ceil(len(dataset.train_y) / batch_size)
    steps: list[tuple[float, float]] = []  # (epochs done, the step's loss), as TrainResult.step_losses
    last, spent, counted = [0.0], [0.0], [0]

    def progress(p) -> None:
        start = time.perf_counter()
        if p.step > counted[0]:  # the loop's last call repeats its last step
            counted[0] = p.step
            steps.append((p.step / per_epoch, p.loss))
        if start - last[0] >= REPORT_EVERY_S or p.eta_s == 0.0:
            last[0] = start
            report(p.step / max(p.total_steps, 1), "", progress_payload(p, steps) if live else None)
        spent[0] += time.perf_counter() - start

    from ..models.registry import best_device

    result = train(config, dataset, epochs=epochs, batch_size=batch_size, time_budget_s=budget_s, seed=seed,
                   device=best_device() if gpu else "cpu", progress=progress, should_stop=stop_requested)
    blob = save_model(result.state_dict, result.config, result.classes, result.mean, result.std,
                      val_accuracy=result.val_accuracy, epochs=result.epochs, dataset=result.dataset,
                      stopped_by=result.stopped_by)
    c = result.config
    return {"file": blob, "name": f"densenet-{result.dataset}-L{c.depth}-k{c.growth_rate}.safetensors",
            "history": result.history, "step_losses": result.step_losses, "val_accuracy": result.val_accuracy,
            "epochs": result.epochs, "seconds": result.seconds, "device": result.device,
            "stopped_by": result.stopped_by, "dataset": dataset.describe(), "dataset_name": dataset.name,
            "train_images": len(dataset.train_y), "val_images": len(dataset.val_y), "report_seconds": spent[0],
            "plan": result.plan.to_dict() if result.plan is not None else None, "steps": len(result.step_losses),
            "steps_per_epoch": per_epoch, "num_classes": len(result.classes)}


# --- a kept model: checked, its reuse, its feature maps ----------------------------------------

def model_cost(data: bytes, extra_bytes: int = 0, seconds: float = 2.0) -> Estimate:
    """Reading a weights file: its bytes a few times over (the file, the tensors, the model)."""
    return Estimate(bytes=4 * len(data) + extra_bytes + _BASE_BYTES, seconds=seconds + len(data) / 50e6,
                    reduce=N_("the model's size"))


def check_model(data: bytes, name: str) -> dict:
    """Load a weights file strictly (shapes, dtypes, finite values) and say what it holds."""
    from .weights import load_model

    loaded = load_model(data, name)
    return {"config": loaded.config, "classes": loaded.classes, "info": loaded.info}


def feature_reuse(data: bytes, name: str) -> list:
    """The DenseNet paper's Figure 5 for a weights file (``analysis.reuse``)."""
    from ..analysis.reuse import reuse_matrices
    from .weights import load_model

    return reuse_matrices(load_model(data, name).model.state_dict())


PRETRAINED_DENSENETS = ("densenet121", "densenet169", "densenet201", "densenet161")


def pretrained_reuse_cost(path: str) -> Estimate:
    """A torchvision checkpoint: the file, its state dict and the model, a few times its size."""
    import os

    return Estimate(bytes=4 * os.path.getsize(path) + _BASE_BYTES, seconds=3.0 + os.path.getsize(path) / 50e6,
                    reduce=N_("the model's size"))


def pretrained_reuse(name: str, path: str) -> list:
    """Figure 5 for a published DenseNet whose weights file is on disk (``path``, as the server
    found it: workers need not share its environment)."""
    from pathlib import Path

    from ..analysis.reuse import reuse_matrices
    from ..vision.loading import load_weights

    return reuse_matrices(load_weights(name, Path(path), "cpu").state_dict())


def feature_maps_cost(data: bytes, config: DenseNetConfig) -> Estimate:
    from ..analysis.footprint import footprint_of

    return model_cost(data, footprint_of(config, 1).inference_bytes, seconds=3.0)


def feature_maps(data: bytes, name: str, block: int, image=None, digit: int | None = None) -> dict:
    """The maps of dense block ``block`` (``analysis.featuremaps``) for an image, or for digit
    image number ``digit`` of scikit-learn's set; with that digit's label."""
    from ..analysis import featuremaps
    from .weights import load_model

    loaded = load_model(data, name)
    label = None
    if digit is not None:
        import numpy as np
        from PIL import Image

        from .data import digits_images

        images, labels = digits_images(8)
        if not 0 <= digit < len(labels):
            from ..errors import ConfigError

            raise ConfigError("digit", N_("must be from 0 to {last}, got {digit}"),
                              last=len(labels) - 1, digit=digit)
        image = Image.fromarray((images[digit, 0].numpy() * 255).astype(np.uint8), "L").convert("RGB")
        label = int(labels[digit])
    x = featuremaps.prepare_image(image, loaded.config.input_size, loaded.mean, loaded.std)
    return {"steps": featuremaps.block_feature_maps(loaded.model, x, block), "label": label}


def explain_trained(image, data: bytes, file_name: str, method: str, layer: str | None, target: int | None):
    """``explain`` with a DenseNet trained in the app or uploaded as .safetensors (``save_model``),
    loaded in the worker, kept under the hash of its bytes; its cost is ``vision.work.explain_cost``
    with ``on_cpu=True``."""
    import hashlib

    from ..vision.explain import explain
    from .classifier import trained_classifier

    model = cached_model(("trained", hashlib.sha256(data).hexdigest()), lambda: trained_classifier(data, file_name))
    return explain(model, image, target=target, layer=layer, method=method)


# --- measurements ----------------------------------------------------------------------------

def measurements_cost() -> Estimate:
    """Ten small forward passes under the profiler and 2 x 8 timed forward + backward passes of
    the default model at 16 px, batch 16: measured at about 15 s on one core."""
    return Estimate(bytes=768 * MiB, seconds=20.0, reduce=N_("nothing (a fixed measurement)"))


def depth_and_overhead() -> dict[str, Any]:
    """Activation memory against depth for both implementations, and the time overhead of
    memory-efficient mode (``analysis.footprint``)."""
    from ..analysis.footprint import depth_scaling, efficient_overhead
    from .loop import default_config

    report(0.0, "depth")
    scaling = depth_scaling(default_config().replace(input_size=16))
    report(0.5, "overhead")
    return {"scaling": scaling, "overhead": efficient_overhead(default_config(), 16, 5)}
