"""Safe image decoding: whatever a user uploads becomes an RGB ``PIL.Image`` or one clear error.

Pillow does the decoding, but only with the plugins of the accepted formats: some others (ICO,
ICNS) decode their largest picture while merely opening the file, before any cap could look at
it. On top of it this module caps the file size (reading at most one byte
more than the cap, so ``/dev/zero`` or a FIFO cannot fill memory), the pixel count and the aspect
ratio (both checked from the header, and again for the frame that is decoded, before any pixels
are decoded), refuses non-finite float pixels (NaN would silently become black), treats Pillow's
``DecompressionBombWarning`` as an error, applies the EXIF orientation, takes the first frame
of animations and converts every mode to 8-bit RGB the way a viewer would show it: alpha is
composited on white, 16-bit and 32-bit greyscale is scaled (not clipped) to 0-255.

Images above ``WORK_PIXELS`` are then reduced by an integer factor (a box filter, as a viewer
zooming out): the models look at 224-342 px anyway, while the heatmap and overlay of an
explanation cost ~100 bytes per pixel of the image they are drawn on (4 GB at 40 M pixels).
"""

from __future__ import annotations

import io
import math
import os
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import ExplorerError
from ..files import NOT_REGULAR, NotRegularFileError, read_file
from ..i18n import N_, Message

MAX_UPLOAD_BYTES = 10 * 2**20  # as .streamlit/config.toml server.maxUploadSize; refused before decoding
MAX_PIXELS = 40_000_000  # width x height; Pillow's own bomb limit is ~89.5 M
# Longer side / shorter side. Every model resizes the shorter side to 224-342 px first, so a
# 10000x1 strip (114 bytes as a PNG) would become a 2240000x224 image: gigabytes for one request.
MAX_ASPECT = 10
WORK_PIXELS = 2048 * 2048  # decoded images with more pixels are reduced (see the module docstring)
# Pillow format names we accept (MPO is the multi-picture JPEG many phones write).
FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WebP", "BMP": "BMP", "GIF": "GIF", "TIFF": "TIFF"}
UPLOAD_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff"]  # for file pickers
# Formats we refuse, named from their first bytes so that the message says what the file is.
OTHER_FORMATS = {b"\x00\x00\x01\x00": "ICO", b"\x00\x00\x02\x00": "CUR", b"icns": "ICNS", b"8BPS": "PSD",
                 b"DDS ": "DDS", b"qoif": "QOI", b"\x00\x00\x00\x0cjP  ": "JPEG 2000",
                 b"\xff\x4f\xff\x51": "JPEG 2000", b"%PDF": "PDF", b"FORM": "IFF", b"SIMPLE": "FITS",
                 b"#?RADIANCE": "HDR"}

ASSETS = Path(__file__).resolve().parents[2] / "assets"
SAMPLES = {  # name -> file in assets/ (sources and licences in assets/README.md)
    "chelsea": "chelsea.png",
    "coffee": "coffee.png",
    # scikit-learn digits (held out from training) for DenseNets trained on them (assets/digits/)
    **{f"digit{d}": f"digits/digit-{d}.png" for d in range(10)},
}


class ImageError(ExplorerError):
    """An upload that is not a usable image; the message names the file and the reason."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int = MAX_UPLOAD_BYTES  # size of the file
    max_pixels: int = MAX_PIXELS  # declared width x height
    max_aspect: float = MAX_ASPECT  # longer side / shorter side
    work_pixels: int | None = WORK_PIXELS  # reduce decoded images above this; None: keep full size


def decode_image(data: bytes | str | os.PathLike, name: str | None = None, limits: Limits = Limits()) -> Image.Image:
    """Decode bytes or a file into an 8-bit RGB image, or raise ``ImageError`` (one line)."""
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        name = name or path.name
        try:
            size = path.stat().st_size
        except OSError as error:
            raise ImageError(N_("{name}: cannot read the file ({reason})"), name=name, reason=error.strerror) from None
        if size > limits.max_bytes:
            raise ImageError(_too_big(name, size, limits))
        try:  # a regular file only (a FIFO would block forever), and bounded
            data = read_file(path, limits.max_bytes)
        except NotRegularFileError:
            raise ImageError(NOT_REGULAR, name=name) from None
        except OSError as error:
            raise ImageError(N_("{name}: cannot read the file ({reason})"), name=name,
                             reason=error.strerror or str(error)) from None
        if len(data) > limits.max_bytes:
            raise ImageError(N_("{name}: the file is over the {limit} MiB limit"), name=name,
                             limit=f"{limits.max_bytes / 2**20:.0f}")
    name = name or "image"
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ImageError(N_("{name}: expected image bytes or a file path, got {kind}"), name=name,
                         kind=type(data).__name__)
    if len(data) == 0:
        raise ImageError(N_("{name}: the file is empty"), name=name)
    if len(data) > limits.max_bytes:
        raise ImageError(_too_big(name, len(data), limits))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Corrupt EXIF data" and the like: harmless
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = open_checked(data, name, limits)
            image.seek(0)  # first frame of GIF / WebP animations and multi-page TIFFs
            _check_size(image.size, name, limits)  # the frame decoded, if a container says otherwise
            image.load()
            if image.mode == "F" and not np.isfinite(values := np.asarray(image)).all():
                bad = int((~np.isfinite(values)).sum())
                raise ImageError(N_("{name}: {bad} pixel(s) are not finite numbers (NaN or infinity); save the "
                                    "image without them"), name=name, bad=bad)
            image = reduce_to(to_rgb(ImageOps.exif_transpose(image)), limits.work_pixels)
            image.info = {}  # pixels only: an 8 MiB text chunk would ride along into every save
            return image
        except ImageError:
            raise
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise ImageError(N_("{name}: refused as a possible decompression bomb (too many pixels for its file "
                                "size)"), name=name) from None
        except UnidentifiedImageError:
            raise ImageError(N_("{name}: not a decodable image (expected {formats})"), name=name,
                             formats=", ".join(sorted(set(FORMATS.values())))) from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as error:
            reason = str(error).strip().rstrip(".") or type(error).__name__
            if "truncated" in reason.lower():
                raise ImageError(N_("{name}: the file is truncated (incomplete download?)"), name=name) from None
            if "MAX_TEXT_CHUNK" in reason or "text chunks" in reason:  # Pillow's caps on PNG metadata
                raise ImageError(N_("{name}: its metadata (text or ICC profile) is too large"), name=name) from None
            raise ImageError(N_("{name}: cannot decode the image ({reason})"), name=name, reason=reason) from None


def open_checked(data: bytes, name: str, limits: Limits = Limits()) -> Image.Image:
    """Open (read the header of) an accepted format and check its declared size; no pixels are
    decoded. Raises ``ImageError``, or Pillow's errors for ``decode_image`` to translate."""
    Image.init()  # registers every plugin; ``formats`` then tries ours only (MPO opens as JPEG)
    try:
        image = Image.open(io.BytesIO(bytes(data)), formats=[f for f in FORMATS if f in Image.OPEN])
    except UnidentifiedImageError:
        other = next((fmt for magic, fmt in OTHER_FORMATS.items() if bytes(data[:len(magic)]) == magic), None)
        if other is None:
            raise
        raise ImageError(N_("{name}: {other} images are not supported; use {formats}"), name=name, other=other,
                         formats=", ".join(sorted(set(FORMATS.values())))) from None
    _check_size(image.size, name, limits)
    return image


# What decoding costs, for the job that does it (the Explain page runs ``decode_image`` as a job
# with ``decode_cost``): the decoded frame, its RGB conversion and reduction at up to 4 bytes per
# sample and channel, plus the file; a plain 40 M pixel JPEG decodes in about a second of one core
# here (~20 ns per pixel).
DECODE_BYTES_PER_PIXEL = 16
DECODE_SECONDS_PER_PIXEL = 25e-9


def decode_cost(data: bytes, name: str = "image", limits: Limits = Limits()):
    """The estimated cost of ``decode_image(data)``, from the header alone (``ImageError`` if the
    header is refused already)."""
    from ..jobs import Estimate, MiB

    name = name or "image"
    if len(data) > limits.max_bytes:
        raise ImageError(_too_big(name, len(data), limits))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            width, height = open_checked(data, name, limits).size
    except ImageError:
        raise
    except Exception:  # noqa: BLE001 - the decoding job says what is wrong with it, in one line
        width = height = 1
    pixels = width * height
    return Estimate(bytes=pixels * DECODE_BYTES_PER_PIXEL + 2 * len(data) + 64 * MiB,
                    seconds=0.2 + pixels * DECODE_SECONDS_PER_PIXEL, reduce="the image's size (pixels)")


def _check_size(size: tuple[int, int], name: str, limits: Limits) -> None:
    width, height = size
    if width * height > limits.max_pixels:
        raise ImageError(N_("{name}: {width}x{height} is {pixels} M pixels; the limit is {limit} M pixels"),
                         name=name, width=width, height=height, pixels=f"{width * height / 1e6:.1f}",
                         limit=f"{limits.max_pixels / 1e6:.0f}")
    if width < 1 or height < 1:
        raise ImageError(N_("{name}: the image has no pixels"), name=name)
    aspect = max(width, height) / min(width, height)
    if aspect > limits.max_aspect:
        # no rounded ratio beside the limit: 2001x200 is 10.005:1, which would read "10:1; the limit is 10:1"
        raise ImageError(N_("{name}: {width}x{height} is too elongated (more than {limit}:1)"),
                         name=name, width=width, height=height, limit=f"{limits.max_aspect:g}")


def _too_big(name: str, size: int, limits: Limits) -> Message:
    from ..units import format_mib_up

    return Message(N_("{name}: the file is {size} MiB; the limit is {limit} MiB"), name=name,
                   size=format_mib_up(size), limit=f"{limits.max_bytes / 2**20:.0f}")


def reduce_to(image: Image.Image, max_pixels: int | None) -> Image.Image:
    """Shrink by the smallest integer factor that brings width x height to about ``max_pixels``
    (box filter; ``Image.reduce`` rounds the sides up); smaller images are returned as they are."""
    width, height = image.size
    if max_pixels is None or width * height <= max_pixels:
        return image
    return image.reduce(math.ceil(math.sqrt(width * height / max_pixels)))


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB as a viewer would show it: alpha over white, high bit depths scaled to 0-255."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return Image.fromarray(_scale_to_uint8(np.asarray(image), mode), "L").convert("RGB")
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode == "PA":
        image = image.convert("RGBA")
    elif mode in ("LA", "La"):
        image = image.convert("RGBA")
    elif mode == "RGBa":
        image = image.convert("RGBA")
    elif mode == "1":
        image = image.convert("L")
    if image.mode == "RGBA":
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, image).convert("RGB")
    return image.convert("RGB")  # L, CMYK, YCbCr, LAB, HSV, RGBX


def _scale_to_uint8(values: np.ndarray, mode: str) -> np.ndarray:
    """Greyscale with more than 8 bits -> 0-255 by its nominal range (16-bit: /257)."""
    values = values.astype(np.float64)
    if mode == "F":
        low, high = (0.0, 1.0) if values.size and values.min() >= 0 and values.max() <= 1 else (
            float(values.min()), float(values.max()))
    elif mode == "I" and values.size and (values.min() < 0 or values.max() > 65535):
        low, high = float(values.min()), float(values.max())
    else:  # 16-bit (Pillow opens 16-bit PNG/TIFF greyscale as I;16 or I)
        low, high = 0.0, 65535.0
    scale = 255.0 / (high - low) if high > low else 0.0
    return np.clip(np.rint((values - low) * scale), 0, 255).astype(np.uint8)


def load_sample(name: str) -> Image.Image:
    """One of the bundled sample images (see ``SAMPLES``), decoded like an upload."""
    if name not in SAMPLES:
        raise ImageError(N_("sample: unknown sample {name}; choose one of {choices}"), name=repr(name),
                         choices=", ".join(SAMPLES))
    return decode_image(ASSETS / SAMPLES[name])


def load_image(source: str | os.PathLike, limits: Limits = Limits()) -> Image.Image:
    """A sample name (``chelsea``) or a path to an image file."""
    if isinstance(source, str) and source in SAMPLES and not Path(source).exists():
        return load_sample(source)
    return decode_image(source, limits=limits)
