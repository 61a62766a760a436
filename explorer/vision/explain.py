"""Why did the model say that? ``explain(model, image)`` classifies the image and computes one
attribution map (the methods are records in ``attribution.METHODS``), then aligns the map to the
original image's pixel grid (``align_to_image``: the region the model saw after resize/crop, zero
outside it). It returns maps and predictions; drawing them is ``overlay``'s job.

All methods register hooks on the shared module, so each call holds the model's lock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image

from ..i18n import N_
from ..errors import ConfigError
from .attribution import MEMORY_BUDGET, Layer, method_of, top_predictions
from .classifier import Pretrained, load_pretrained
from .images import decode_image, to_rgb


@dataclass(eq=False)
class Explanation:
    heatmap: np.ndarray  # float32, H x W of the original image, in [0, 1]
    target_index: int
    target_label: str
    predictions: list[tuple[int, str, float]]  # top 5: (index, label, probability)
    method: str
    layer: str | None
    model: str
    region: tuple[float, float, float, float]  # what the model saw, in original pixels
    raw: np.ndarray = field(repr=False)  # the map before alignment (layer or input grid)
    seconds: float = 0.0


# --- targets and layers -------------------------------------------------------------------

def search_categories(categories: list[str], query: str, limit: int = 20) -> list[tuple[int, str]]:
    """(index, label) whose label contains ``query`` (case-insensitive); exact matches first."""
    q = query.strip().lower()
    if not q:
        return []
    hits = [(i, c) for i, c in enumerate(categories) if q in c.lower()]
    hits.sort(key=lambda hit: (hit[1].lower() != q, q not in hit[1].lower().replace("-", " ").split(),
                               not hit[1].lower().startswith(q), hit[0]))
    return hits[:limit]


def resolve_target(categories: list[str], target: int | str | None) -> int | None:
    """A class index, an index as text, or a label (exact, else one unambiguous substring)."""
    if target is None:
        return None
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if not 0 <= int(target) < len(categories):
            raise ConfigError("target", N_("class index must be from 0 to {last}, got {target}"),
                              last=len(categories) - 1, target=target)
        return int(target)
    text = str(target).strip()
    if text.lstrip("-").isdigit():
        return resolve_target(categories, int(text))
    hits = search_categories(categories, text, limit=len(categories))
    exact = [i for i, c in hits if c.lower() == text.lower()]
    if exact:
        return exact[0]
    if len(hits) == 1:
        return hits[0][0]
    if not hits:
        raise ConfigError("target", N_("no class matches {text}; give a label such as 'Egyptian cat' or an index "
                                       "from 0 to {last}"), text=repr(text), last=len(categories) - 1)
    names = ", ".join(f"{c} ({i})" for i, c in hits[:5])
    raise ConfigError("target", N_("{text} matches {n_hits} classes: {names}; be more specific or give the index"),
                      text=repr(text), n_hits=len(hits), names=names + (", ..." if len(hits) > 5 else ""))


def resolve_layer(model: Pretrained, layer: str | None) -> Layer:
    name = layer or model.default_cam_layer
    try:
        return Layer(name, model.module.get_submodule(name))
    except AttributeError:
        raise ConfigError("layer", N_("{model} has no layer {name}; choose one of {layers}"),
                          model=model.name, name=repr(name), layers=", ".join(model.cam_layers)) from None


# --- alignment ----------------------------------------------------------------------------

def _interp_matrix(n_out: int, n_in: int, start: float, end: float) -> np.ndarray:
    """(n_out, n_in) bilinear weights (align_corners=False) that stretch n_in samples over the
    pixel span [start, end) of an n_out-pixel axis; rows of pixels outside the span are zero."""
    centres = np.arange(n_out, dtype=np.float64) + 0.5
    inside = (centres >= start) & (centres < end)
    u = (centres - start) / max(end - start, 1e-9) * n_in - 0.5
    u = np.clip(u, 0, n_in - 1)
    i0 = np.floor(u).astype(int)
    i1 = np.minimum(i0 + 1, n_in - 1)
    frac = u - i0
    weights = np.zeros((n_out, n_in), dtype=np.float64)
    rows = np.arange(n_out)
    np.add.at(weights, (rows, i0), 1 - frac)
    np.add.at(weights, (rows, i1), frac)
    weights[~inside] = 0
    return weights


def align_to_image(values: np.ndarray, image_size: tuple[int, int],
                   region: tuple[float, float, float, float]) -> np.ndarray:
    """Upsample a (h, w) map over ``region`` (left, top, right, bottom in original pixels) of an
    image of ``image_size`` (width, height), bilinearly; zero outside the region. float32."""
    width, height = image_size
    left, top, right, bottom = region
    rows = torch.from_numpy(_interp_matrix(height, values.shape[0], top, bottom))
    cols = torch.from_numpy(_interp_matrix(width, values.shape[1], left, right))
    # torch's matmul, not numpy's: right after a forward pass numpy's BLAS threads wait for the cores
    # torch's threads still spin on (14 ms against 0.5 ms for a 300 x 451 map, issue #31)
    return (rows @ torch.from_numpy(values.astype(np.float64)) @ cols.T).numpy().astype(np.float32)


def normalise(values: np.ndarray, percentile: float | None = None) -> np.ndarray:
    """To [0, 1] by the maximum (or a high percentile, clipping outliers); all-zero stays zero."""
    values = np.maximum(np.nan_to_num(values.astype(np.float64)), 0)
    top = float(np.percentile(values, percentile)) if percentile else float(values.max(initial=0.0))
    if top <= 0:
        top = float(values.max(initial=0.0))
    if top <= 0:
        return np.zeros(values.shape, np.float32)
    return np.clip(values / top, 0, 1).astype(np.float32)


def _as_image(image) -> Image.Image:
    if isinstance(image, Image.Image):
        return to_rgb(image)
    return decode_image(image)


def explain(model: Pretrained | str, image, target: int | str | None = None, layer: str | None = None,
            method: str = "gradcam", memory_budget: int = MEMORY_BUDGET, **options) -> Explanation:
    """Classify ``image`` (PIL image, bytes or path) and explain ``target`` (default: the top
    class) with ``method``; ``layer`` (methods that take one) defaults to the model's
    ``default_cam_layer``. Options: ``ig_steps`` (Integrated Gradients), ``window`` (Occlusion);
    ``memory_budget``: bytes their batched steps may use."""
    record = method_of(method)
    model = load_pretrained(model) if isinstance(model, str) else model
    image = _as_image(image)
    index = resolve_target(model.categories, target)
    chosen = resolve_layer(model, layer) if record.takes_layer else None
    x = model.transforms(image).unsqueeze(0).to(model.device)
    start = time.perf_counter()
    with model.lock:  # captum's hooks live on the shared module for the duration of the call
        raw, logits, index = record.run(model, x, index, chosen, memory_budget, **options)
    region = model.transforms.region(*image.size)
    heatmap = normalise(align_to_image(normalise(raw, record.percentile), image.size, region))
    seconds = time.perf_counter() - start
    return Explanation(heatmap=heatmap, target_index=index, target_label=model.categories[index],
                       predictions=top_predictions(logits, model.categories), method=method,
                       layer=chosen.name if chosen else None, model=model.name, region=region,
                       raw=raw.astype(np.float32), seconds=seconds)
