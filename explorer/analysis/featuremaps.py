"""Feature maps inside one dense block for one real image: the block input's maps, then each
layer's k new maps as the concatenation grows, then the transition's compressed output.

Pure and bounded: the image is resized to the model's input size (at most ``MAX_INPUT`` px),
the block is run module by module under ``no_grad`` in eval mode (no hooks: a shared cached
model is read, never changed), and at most ``max_maps`` maps are kept per step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from ..i18n import ENGLISH, N_
from ..errors import ConfigError

MAX_INPUT = 512  # px per side
MAX_MAPS = 64  # maps kept per step (a layer adds k; the block input may have hundreds)


@dataclass
class MapStep:
    label: str  # "block input", "denselayer3", "transition1"
    channels: int  # channels of the concatenation after this step (the transition: its output)
    new_channels: int  # maps this step adds (all of the input; k per layer)
    maps: np.ndarray  # (n <= max_maps, h, w) float32, each map scaled to [0, 1]


def step_title(step: MapStep, _=ENGLISH) -> str:
    """A step's heading in the language of ``_``: what it is and how many channels it leaves."""
    if step.label == "block input":
        return _("block input: {n} channels").format(n=step.channels)
    if step.label.startswith("transition"):
        return _("{name}: compressed to {n} channels").format(name=step.label, n=step.channels)
    return _("{name}: +{new} new maps → {n} channels").format(name=step.label, new=step.new_channels, n=step.channels)


def prepare_image(image: Image.Image, size: int, mean, std) -> torch.Tensor:
    """RGB image -> (1, 3, size, size), normalised as the model was trained."""
    if not 1 <= size <= MAX_INPUT:
        raise ConfigError("input_size", N_("feature maps are shown for inputs up to {limit} px, got {size}"),
                          limit=MAX_INPUT, size=size)
    x = torch.from_numpy(np.asarray(image.convert("RGB").resize((size, size), Image.BILINEAR),
                                    dtype=np.float32) / 255.0)
    x = x.permute(2, 0, 1)
    x = (x - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]
    return x[None]


def _scaled(t: torch.Tensor, max_maps: int) -> np.ndarray:
    maps = t[0, :max_maps].float()
    low = maps.amin(dim=(1, 2), keepdim=True)
    high = maps.amax(dim=(1, 2), keepdim=True)
    return ((maps - low) / (high - low).clamp_min(1e-12)).numpy().astype(np.float32)


@torch.no_grad()
def block_feature_maps(model, x: torch.Tensor, block: int, max_maps: int = MAX_MAPS) -> list[MapStep]:
    """Steps of dense block ``block`` (1-based) of a DenseNet with torchvision's module names."""
    features = model.features
    name = f"denseblock{block}"
    if name not in dict(features.named_children()):
        blocks = sum(1 for n, _ in features.named_children() if n.startswith("denseblock"))
        raise ConfigError("block", N_("the model has {blocks} dense blocks, got {block}"), blocks=blocks, block=block)
    was_training = model.training
    model.eval()
    try:
        out = x
        for child_name, child in features.named_children():
            if child_name == name:
                break
            out = child(out)
        steps = [MapStep("block input", out.shape[1], out.shape[1], _scaled(out, max_maps))]
        maps = [out]
        channels = out.shape[1]
        for layer_name, layer in getattr(features, name).items():
            new = layer(maps)
            maps.append(new)
            channels += new.shape[1]
            steps.append(MapStep(layer_name, channels, new.shape[1], _scaled(new, max_maps)))
        transition = getattr(features, f"transition{block}", None)
        if transition is not None:
            t = transition(torch.cat(maps, 1))
            steps.append(MapStep(f"transition{block}", t.shape[1], t.shape[1], _scaled(t, max_maps)))
        return steps
    finally:
        model.train(was_training)


def mosaic(maps: np.ndarray, columns: int = 16, gap: int = 1) -> np.ndarray:
    """Tile (n, h, w) maps into one 2-D array, ``gap`` px of NaN between them (drawn blank)."""
    n, h, w = maps.shape
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    out = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), np.nan, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, columns)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = maps[i]
    return out
