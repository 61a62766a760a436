"""Small data sets the tests write."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from PIL import Image


def colour_zip(path: Path) -> Path:
    """A zip of class folders: red/ and green/, four 8 x 8 PNGs each."""
    with zipfile.ZipFile(path, "w") as z:
        for name, colour in (("red", (255, 0, 0)), ("green", (0, 255, 0))):
            for i in range(4):
                buffer = io.BytesIO()
                Image.new("RGB", (8, 8), colour).save(buffer, "PNG")
                z.writestr(f"{name}/{i}.png", buffer.getvalue())
    return path
