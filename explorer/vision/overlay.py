"""Drawing attribution maps (colour maps, the overlay on the image) and the bytes users download.
Computing the maps is ``explain``'s job; nothing here runs a model."""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
from PIL import Image

from ..i18n import N_
from ..errors import ConfigError
from .images import to_rgb

_ANCHORS = {  # colour maps as (position, RGB) anchors, linearly interpolated
    "jet": [(0, (0, 0, 128)), (0.125, (0, 0, 255)), (0.375, (0, 255, 255)), (0.625, (255, 255, 0)),
            (0.875, (255, 0, 0)), (1, (128, 0, 0))],
    "inferno": [(0, (0, 0, 4)), (0.25, (87, 16, 110)), (0.5, (188, 55, 84)), (0.75, (249, 142, 9)),
                (1, (252, 255, 164))],
    "viridis": [(0, (68, 1, 84)), (0.25, (59, 82, 139)), (0.5, (33, 145, 140)), (0.75, (94, 201, 98)),
                (1, (253, 231, 37))],
    "gray": [(0, (0, 0, 0)), (1, (255, 255, 255))],
}
COLORMAPS = tuple(_ANCHORS)


@lru_cache(maxsize=None)
def _lut(colormap: str) -> np.ndarray:
    """256 x 3 uint8 table of the colour map."""
    positions = np.array([p for p, _ in _ANCHORS[colormap]])
    colours = np.array([c for _, c in _ANCHORS[colormap]], dtype=np.float64)
    x = np.linspace(0, 1, 256)
    return np.rint(np.stack([np.interp(x, positions, colours[:, i]) for i in range(3)], -1)).astype(np.uint8)


def colorize(heatmap: np.ndarray, colormap: str = "jet") -> np.ndarray:
    """H x W in [0, 1] -> H x W x 3 uint8 (256 levels)."""
    if colormap not in _ANCHORS:
        raise ConfigError("colormap", N_("unknown colour map {colormap}; choose one of {colormaps}"),
                          colormap=repr(colormap), colormaps=", ".join(COLORMAPS))
    levels = np.rint(np.clip(np.nan_to_num(heatmap), 0, 1) * 255).astype(np.uint8)
    return _lut(colormap)[levels]


def region_mask(image_size: tuple[int, int], region: tuple[float, float, float, float]) -> np.ndarray:
    width, height = image_size
    left, top, right, bottom = region
    xs, ys = np.arange(width) + 0.5, np.arange(height) + 0.5
    return ((ys >= top) & (ys < bottom))[:, None] & ((xs >= left) & (xs < right))[None, :]


def overlay(image: Image.Image, heatmap: np.ndarray, alpha: float = 0.5, colormap: str = "jet",
            region: tuple[float, float, float, float] | None = None) -> Image.Image:
    """Blend the coloured heatmap over the image with opacity ``alpha``; outside ``region`` (what
    the model did not see) the image is left as it is."""
    if not 0 <= alpha <= 1:
        raise ConfigError("alpha", N_("opacity must be from 0 to 1, got {alpha}"), alpha=alpha)
    base = np.asarray(to_rgb(image), dtype=np.float32)
    if heatmap.shape != base.shape[:2]:
        raise ConfigError("heatmap", N_("shape {shape} does not match the image {image}"),
                          shape=heatmap.shape, image=base.shape[:2])
    colour = colorize(heatmap, colormap).astype(np.float32)
    if region is None:
        out = base + (colour - base) * np.float32(alpha)
    else:
        out = base.copy()
        mask = region_mask(image.size, region)
        out[mask] += (colour[mask] - base[mask]) * np.float32(alpha)
    return Image.fromarray(np.rint(out).astype(np.uint8), "RGB")


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes(image: Image.Image, quality: int = 85) -> bytes:
    """A compact copy for the screen (the downloads stay lossless PNG): an overlay is sent again
    on every step of a slider, and as PNG a photo-sized one is ~10x larger."""
    buffer = io.BytesIO()
    to_rgb(image).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def npy_bytes(values: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, values, allow_pickle=False)
    return buffer.getvalue()


def predictions_csv(predictions: list[tuple[int, str, float]]) -> str:
    """The top predictions as CSV; class names (a trained model's come from its file) as inert text."""
    from ..csvtext import csv_text

    return csv_text(["rank", "index", "label", "probability"],
                    ([rank, index, label, f"{prob:.6f}"] for rank, (index, label, prob) in enumerate(predictions, 1)))

