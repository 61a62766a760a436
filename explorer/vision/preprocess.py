"""Preprocessing of pretrained classifiers: PIL image -> normalised tensor, and where the model's
input lies in the original image (so maps can be drawn on the original pixel grid)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torchvision.transforms.functional as TF
from PIL import Image
from torchvision.transforms import InterpolationMode

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HALF = (0.5, 0.5, 0.5)  # TF-style [-1, 1] inputs (Inception, GoogLeNet, EfficientNet-Lite)


# --- preprocessing ------------------------------------------------------------------------

@dataclass(frozen=True)
class Preprocess:
    """PIL image -> normalised (3, H, W) tensor, as torchvision's ``ImageClassification``:
    resize the shorter side to ``resize`` (bilinear, antialiased), centre-crop ``crop``
    (``None``: keep the whole resized image), scale to [0, 1], normalise.

    ``region`` says where the model's input lies in the original image, so that maps computed on
    the input can be drawn on the original pixel grid."""

    resize: int
    crop: int | None
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    interpolation: InterpolationMode = InterpolationMode.BILINEAR

    def __call__(self, image: Image.Image) -> torch.Tensor:
        image = TF.resize(image, [self.resize], interpolation=self.interpolation, antialias=True)
        if self.crop is not None:
            image = TF.center_crop(image, [self.crop, self.crop])
        tensor = TF.pil_to_tensor(image).float().div_(255)
        return TF.normalize(tensor, list(self.mean), list(self.std))

    def resized_size(self, width: int, height: int) -> tuple[int, int]:
        """torchvision's rule: the shorter side becomes ``resize``, the longer is floored."""
        if width <= height:
            return self.resize, int(self.resize * height / width)
        return int(self.resize * width / height), self.resize

    def region(self, width: int, height: int) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) of the model's input in original-image pixels (floats)."""
        rw, rh = self.resized_size(width, height)
        if self.crop is None:
            return 0.0, 0.0, float(width), float(height)
        # torchvision center_crop: offsets rounded, padding if the crop exceeds the image
        left = int(round((rw - self.crop) / 2.0))
        top = int(round((rh - self.crop) / 2.0))
        sx, sy = width / rw, height / rh
        return left * sx, top * sy, (left + self.crop) * sx, (top + self.crop) * sy


