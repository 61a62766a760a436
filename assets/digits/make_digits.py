"""Writes the digits samples of the Explain page: one real scikit-learn digit per class, taken from
the validation split the Train page and ``python -m explorer train`` hold out (so a model trained
here has not seen them), as the training pipeline feeds them: 8x8 grey upsampled bilinearly to
32x32 (``explorer.training.data.digits_images``), white on black, saved as 8-bit PNG.

    python assets/digits/make_digits.py     # from the repository root; rewrites assets/digits/

``labels.json`` gives each file's true label and its index in ``sklearn.datasets.load_digits()``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from explorer.training.data import DIGITS_SIZE, digits_images, split_indices  # noqa: E402

VAL_FRACTION, SEED = 0.2, 0  # as digits_dataset's defaults


def main() -> None:
    images, labels = digits_images(DIGITS_SIZE)
    _, val = split_indices(labels, VAL_FRACTION, SEED)
    table = {}
    for digit in range(10):
        index = int(next(i for i in sorted(val) if labels[i] == digit))
        grey = np.rint(images[index, 0].numpy() * 255).astype(np.uint8)
        name = f"digit-{digit}.png"
        Image.fromarray(grey, "L").save(HERE / name, optimize=True)
        table[name] = {"label": digit, "sklearn_index": index}
    (HERE / "labels.json").write_text(json.dumps(table, indent=1) + "\n")


if __name__ == "__main__":
    main()
