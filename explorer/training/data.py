"""Data sets for training: scikit-learn's bundled digits, or an image-folder zip a user uploads.

Both become an ``ImageDataset``: float32 tensors already resized and normalised, split into
train and validation parts with a fixed seed (stratified: each class keeps its share). Plain
tensors and lists, so a data set pickles into a worker process as it is.
"""

from __future__ import annotations

import io
import stat
import struct
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

import numpy as np
import torch
import torch.nn.functional as F

from ..i18n import N_
from ..errors import ExplorerError
from ..units import format_mib_up
from ..vision.images import ImageError, Limits, decode_image
from .weights import MIN_STD

DIGITS_SIZE = 32  # digits are 8x8; the CIFAR stem and three dense blocks want 32x32 (two halvings)

# Caps for uploaded zips: the archive, what it says it unpacks to, the member count, each image.
MAX_ZIP_BYTES = 50 * 2**20
MAX_UNPACKED_BYTES = 200 * 2**20
MAX_FILES = 5000
MAX_DIRECTORY_BYTES = 5 * 2**20  # the zip's file list: ~1 KiB for each of MAX_FILES entries (~100 bytes in practice)
MAX_RATIO = 100  # uncompressed / compressed per member; images barely compress, bombs compress ~1000x
MAX_CLASSES = 100
MIN_PER_CLASS = 2  # one for training, one for validation
IMAGE_LIMITS = Limits(max_bytes=5 * 2**20, max_pixels=16_000_000, work_pixels=1024 * 1024)


class DatasetError(ExplorerError):
    """A data set that cannot be used; the message names the file and the reason."""


@dataclass
class ImageDataset:
    name: str
    classes: list[str]
    train_x: torch.Tensor  # (N, 3, S, S) float32, normalised
    train_y: torch.Tensor  # (N,) int64
    val_x: torch.Tensor
    val_y: torch.Tensor
    mean: tuple[float, float, float]  # per channel, of the training images in [0, 1]
    std: tuple[float, float, float]

    @property
    def input_size(self) -> int:
        return int(self.train_x.shape[-1])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def describe(self) -> str:
        return (f"{self.name}: {len(self.train_y)} training and {len(self.val_y)} validation images, "
                f"{self.num_classes} classes, {self.input_size}x{self.input_size} px")


def split_indices(labels: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split: every class gives round(val_fraction * n) images (at least one) to validation."""
    rng = np.random.default_rng(seed)
    train, val = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_val = min(len(idx) - 1, max(1, round(val_fraction * len(idx))))
        val.extend(idx[:n_val])
        train.extend(idx[n_val:])
    return np.sort(np.array(train, dtype=np.int64)), np.sort(np.array(val, dtype=np.int64))


def _build(name: str, classes: list[str], images: torch.Tensor, labels: np.ndarray, val_fraction: float,
           seed: int) -> ImageDataset:
    """images: (N, 3, S, S) in [0, 1]; normalised with the training part's statistics."""
    train_idx, val_idx = split_indices(labels, val_fraction, seed)
    train = images[torch.from_numpy(train_idx)]
    mean = train.mean(dim=(0, 2, 3))
    std = train.std(dim=(0, 2, 3)).clamp_min(MIN_STD)  # a constant channel: no division by zero

    def norm(x):
        return ((x - mean[None, :, None, None]) / std[None, :, None, None]).contiguous()

    y = torch.from_numpy(labels.astype(np.int64))
    return ImageDataset(name, classes, norm(train), y[train_idx], norm(images[torch.from_numpy(val_idx)]),
                        y[val_idx], tuple(float(v) for v in mean), tuple(float(v) for v in std))


def digits_images(size: int = DIGITS_SIZE) -> tuple[torch.Tensor, np.ndarray]:
    """The 1,797 8x8 digits of scikit-learn (values 0-16) as (N, 3, size, size) in [0, 1], grey
    repeated on three channels, upsampled bilinearly; and their labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.from_numpy(digits.images.astype(np.float32) / 16.0)[:, None]
    if size != 8:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return x.expand(-1, 3, -1, -1).contiguous(), digits.target.astype(np.int64)


def digits_dataset(size: int = DIGITS_SIZE, val_fraction: float = 0.2, seed: int = 0) -> ImageDataset:
    images, labels = digits_images(size)
    return _build("digits", [str(d) for d in range(10)], images, labels, val_fraction, seed)


# --- image-folder zips --------------------------------------------------------------------

def _shown(path: str) -> str:
    """A member's path for a message, quoted as it is in the zip (``repr`` would double a Windows
    path's backslashes), its first 80 characters, control characters as '?'."""
    return "'" + "".join(c if c.isprintable() else "?" for c in path[:80]) + "'"


def _member_parts(info: zipfile.ZipInfo, zip_name: str) -> tuple[str, ...] | None:
    """The member's path parts, None for entries to skip (folders, macOS metadata, hidden files);
    refuses absolute paths, '..', drive letters and links."""
    name = info.filename
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise DatasetError(N_("{zip_name}: refused: member {member} has an absolute or Windows path"),
                           zip_name=zip_name, member=_shown(name))
    parts = PurePosixPath(name).parts
    if ".." in parts:
        raise DatasetError(N_("{zip_name}: refused: member {member} points outside the archive (..)"),
                           zip_name=zip_name, member=_shown(name))
    if stat.S_ISLNK(info.external_attr >> 16):
        raise DatasetError(N_("{zip_name}: refused: member {member} is a symbolic link"),
                           zip_name=zip_name, member=_shown(name))
    if info.is_dir() or parts[0] == "__MACOSX" or any(p.startswith(".") for p in parts):
        return None
    return parts


def check_zip_size(size: int, zip_name: str) -> None:
    """Refuse a zip over ``MAX_ZIP_BYTES`` (the first check, before anything reads it)."""
    if size > MAX_ZIP_BYTES:
        raise DatasetError(N_("{zip_name}: the zip is over the {limit} MiB limit"),
                           zip_name=zip_name, limit=f"{MAX_ZIP_BYTES / 2**20:.0f}")


# The zip's end records (APPNOTE 4.3.16, 4.3.15, 4.3.14): what its central directory holds.
_END = struct.Struct("<4s4H2LH")
_END64_LOCATOR = struct.Struct("<4sLQL")
_END64 = struct.Struct("<4sQ2H2L4Q")


def zip_directory(data: bytes) -> tuple[int, int]:
    """(entries, bytes) a zip's central directory declares, from its end record alone (found in
    the last 64 KiB): the same few microseconds for any archive, where listing 1.1 million entries
    took 7.5 s (issue #24). Raises ``ValueError`` when there is no end record."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - _END.size - 0xFFFF))
    if end < 0 or end + _END.size > len(data):
        raise ValueError("no end of central directory")
    _sig, _disk, _start, _here, entries, directory, _offset, _comment = _END.unpack_from(data, end)
    locator = end - _END64_LOCATOR.size
    if (entries == 0xFFFF or directory == 0xFFFFFFFF) and locator >= _END64.size \
            and data[locator:locator + 4] == b"PK\x06\x07" and data[locator - _END64.size:][:4] == b"PK\x06\x06":
        fields = _END64.unpack_from(data, locator - _END64.size)  # zip64: the counts that did not fit
        entries, directory = fields[7], fields[8]
    return entries, directory


def zip_dataset(data: bytes, zip_name: str = "images.zip", size: int = DIGITS_SIZE, val_fraction: float = 0.2,
                seed: int = 0) -> ImageDataset:
    """An image-folder zip (``class/xxx.png``, optionally under one top folder) as a data set.

    Refused with one line: over ``MAX_ZIP_BYTES``, not a zip, more than ``MAX_FILES`` members,
    more than ``MAX_UNPACKED_BYTES`` declared, a member compressed more than ``MAX_RATIO`` times
    (a zip bomb), unsafe paths, a file that is not an image, fewer than 2 classes or fewer than
    ``MIN_PER_CLASS`` images in a class. Each image goes through ``decode_image``.
    """
    check_zip_size(len(data), zip_name)  # a reader may have stopped at the limit: the size is not known
    try:  # the declared counts first: zipfile reads the whole file list into objects
        entries, directory = zip_directory(data)
    except ValueError:
        entries, directory = 0, 0  # zipfile says why below
    if entries > MAX_FILES:
        raise DatasetError(N_("{zip_name}: {n_infos} entries; the limit is {limit}"),
                           zip_name=zip_name, n_infos=entries, limit=MAX_FILES)
    if directory > MAX_DIRECTORY_BYTES:
        raise DatasetError(N_("{zip_name}: its list of files takes {size} MiB; the limit is {limit} MiB"),
                           zip_name=zip_name, size=format_mib_up(directory), limit=f"{MAX_DIRECTORY_BYTES / 2**20:.0f}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise DatasetError(N_("{zip_name}: not a readable zip file ({why})"),
                           zip_name=zip_name, why=str(error).strip() or "bad archive") from None
    if len(infos) > MAX_FILES:
        raise DatasetError(N_("{zip_name}: {n_infos} entries; the limit is {limit}"),
                           zip_name=zip_name, n_infos=len(infos), limit=MAX_FILES)
    declared = sum(i.file_size for i in infos)
    if declared > MAX_UNPACKED_BYTES:
        raise DatasetError(N_("{zip_name}: unpacks to {size} MiB; the limit is {limit} MiB"),
                           zip_name=zip_name, size=format_mib_up(declared), limit=f"{MAX_UNPACKED_BYTES / 2**20:.0f}")

    members = []
    for info in infos:
        parts = _member_parts(info, zip_name)
        if parts is None:
            continue
        if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > 2**20:
            raise DatasetError(N_("{zip_name}: refused: {member} is compressed {ratio}x (a zip bomb?)"),
                               zip_name=zip_name, member=_shown(info.filename),
                               ratio=f"{info.file_size / max(info.compress_size, 1):.0f}")
        members.append((parts, info))
    if not members:
        raise DatasetError(N_("{zip_name}: the zip holds no files; expected class folders of images"),
                           zip_name=zip_name)
    # One common top folder (``flowers/rose/1.png``) is dropped; then each file is class/name.
    tops = {parts[0] for parts, _ in members}
    if len(tops) == 1 and all(len(parts) >= 3 for parts, _ in members):
        members = [(parts[1:], info) for parts, info in members]
    for parts, info in members:
        if len(parts) != 2:
            raise DatasetError(N_("{zip_name}: {member} is not in a class folder; expected CLASS/IMAGE files "
                                  "(one folder per class)"),
                               zip_name=zip_name, member=_shown(info.filename))
    classes = sorted({parts[0] for parts, _ in members})
    if len(classes) < 2:
        raise DatasetError(N_("{zip_name}: found {n_classes} class folder; training needs at least 2"),
                           zip_name=zip_name, n_classes=len(classes))
    if len(classes) > MAX_CLASSES:
        raise DatasetError(N_("{zip_name}: {n_classes} class folders; the limit is {limit}"),
                           zip_name=zip_name, n_classes=len(classes), limit=MAX_CLASSES)

    images, labels = [], []
    index = {c: i for i, c in enumerate(classes)}
    for parts, info in sorted(members, key=lambda m: m[1].filename):
        try:
            raw = archive.read(info)  # sizes checked above; zipfile also checks the CRC
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as error:
            raise DatasetError(N_("{zip_name}: cannot read {member} ({why})"),
                               zip_name=zip_name, member=_shown(info.filename), why=str(error).strip()) from None
        try:
            image = decode_image(raw, name=info.filename[:80], limits=IMAGE_LIMITS)
        except ImageError as error:
            raise DatasetError(N_("{zip_name}: {error}"), zip_name=zip_name, error=error) from None
        image = image.resize((size, size), resample=2)  # bilinear, from PIL.Image.Resampling
        images.append(torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1))
        labels.append(index[parts[0]])
    labels = np.array(labels)
    counts = np.bincount(labels, minlength=len(classes))
    if counts.min() < MIN_PER_CLASS:
        small = classes[int(counts.argmin())]
        raise DatasetError(N_("{zip_name}: class {small} has {count} image(s); each class needs at least "
                              "{minimum} (one to train, one to validate)"),
                           zip_name=zip_name, small=_shown(small), count=counts.min(), minimum=MIN_PER_CLASS)
    return _build(PurePosixPath(zip_name).stem[:60] or "images", classes, torch.stack(images), labels,
                  val_fraction, seed)
