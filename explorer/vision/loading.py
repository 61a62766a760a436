"""Loading weights into modules: the registry's files and users' uploads, both with
``torch.load(weights_only=True)`` and strict checks that end in one-line ``WeightsError``s."""

from __future__ import annotations

from ..i18n import N_

import io
import re
import warnings
import zipfile
from pathlib import Path
from typing import BinaryIO

import torch
from torch import nn

from .adapt import build_module, check_fits, fit_names
from .download import one_line_reason, how_to_replace, mark_corrupt, missing_file_error, weights_path
from .weights import WeightsError, spec_of

MAX_WEIGHTS_BYTES = 256 * 2**20  # uploaded weights files (= server.maxUploadSize); the largest registry file is 110 MB


def read_state_dict(name: str, path: Path) -> dict[str, torch.Tensor]:
    """``torch.load(weights_only=True)``; a corrupt or foreign file gives a ``WeightsError``."""
    spec = spec_of(name)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise missing_file_error(name, path) from None
    except Exception as error:  # UnpicklingError, RuntimeError (bad zip), EOFError, ...
        raise WeightsError(f"{name}: {path} is corrupt or not a weights file ({one_line_reason(error)}); delete it and "
                           + how_to_replace(spec)) from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{name}: {path} does not hold a state dict; delete it and " + how_to_replace(spec))
    return dict(state)


def prepare(module: nn.Module, device: torch.device) -> nn.Module:
    """Eval mode, on the device, parameters frozen (no gradient is ever needed for them: Grad-CAM
    and the input-gradient methods only differentiate w.r.t. activations and inputs)."""
    module.eval().requires_grad_(False)
    return module.to(device)


def load_weights(name: str, path: Path | None = None, device: str | torch.device | None = None) -> nn.Module:
    """Build ``name`` and load its weights (strict); no caching. A registry file that fails to load
    is marked corrupt (its status says so) until it is replaced."""
    path = path or weights_path(name)
    try:
        return _load_file(name, path, device)
    except WeightsError:
        if path == weights_path(name):
            mark_corrupt(name, path)
        raise


def _load_file(name: str, path: Path, device: str | torch.device | None) -> nn.Module:
    from ..models.registry import best_device

    spec = spec_of(name)
    state = read_state_dict(name, path)
    module, adapt = build_module(spec)
    try:
        module.load_state_dict(adapt(state), strict=True, assign=True)
    except (RuntimeError, WeightsError) as error:
        first = str(error).strip().splitlines()
        raise WeightsError(N_("{name}: {file} does not fit the model ({why}); delete it and fetch it again"),
                           name=name, file=path.name, why=" ".join(first[:2])[:200]) from None
    leftover = [n for n, t in list(module.named_parameters()) + list(module.named_buffers()) if t.is_meta]
    if leftover:
        raise WeightsError(N_("{name}: the weights file lacks {key}"), name=name, key=leftover[0])
    return prepare(module, torch.device(device) if device is not None else best_device())


# --- uploaded weights ---------------------------------------------------------------------

def load_uploaded_weights(name: str, data: bytes | BinaryIO, file_name: str = "weights.pth",
                          device: str | torch.device | None = None) -> nn.Module:
    """A user's own state dict for the registry model ``name``, or a one-line ``WeightsError``.

    Safe on untrusted files: at most ``MAX_WEIGHTS_BYTES`` are read (a zip's declared sizes are
    checked too, so a compressed entry cannot expand past it), ``torch.load(weights_only=True)``
    unpickles tensors and plain containers only (never code), and every key, shape and dtype is
    compared with the model before anything is loaded. DenseNet files may use the old key names
    (``norm.1``), as torchvision's own; GoogLeNet's aux heads are ignored."""
    from ..models.registry import best_device

    spec = spec_of(name)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        data = data.read(MAX_WEIGHTS_BYTES + 1)
    where = f"{name}: {file_name}"
    if len(data) > MAX_WEIGHTS_BYTES:
        raise WeightsError(N_("{where}: the file is over the {limit} MiB limit"),
                           where=where, limit=MAX_WEIGHTS_BYTES // 2**20)
    if len(data) == 0:
        raise WeightsError(N_("{where}: the file is empty"), where=where)
    buffer = io.BytesIO(data)
    try:
        if zipfile.is_zipfile(buffer) and sum(i.file_size for i in zipfile.ZipFile(buffer).infolist()) \
                > MAX_WEIGHTS_BYTES:
            raise WeightsError(N_("{where}: the archive would expand past the {limit} MiB limit"),
                               where=where, limit=MAX_WEIGHTS_BYTES // 2**20)
        buffer.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Detected pickle protocol 4" and the like
            state = torch.load(buffer, map_location="cpu", weights_only=True)
    except WeightsError:
        raise
    except Exception as error:  # UnpicklingError (code, unknown globals), bad zip, EOFError, ...
        raise WeightsError(N_("{where}: {why}"), where=where, why=_load_reason(error)) from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not state or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) and v.layout == torch.strided
            for k, v in state.items()):
        raise WeightsError(N_("{where}: does not hold a state dict (a dict of names to tensors); save "
                              "model.state_dict(), not the model"),
                           where=where)
    module, adapt = build_module(spec)
    expected = module.state_dict()  # meta tensors: names, shapes and dtypes, no memory
    state = fit_names(state, expected, adapt, where)
    check_fits(where, spec, state, expected)
    state = {k: v.to(expected[k].dtype) for k, v in state.items()}  # e.g. half-precision files
    try:  # BatchNorm fills in the num_batches_tracked counters a file may omit
        module.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as error:
        raise WeightsError(N_("{where}: does not fit {title} ({why})"),
                           where=where, title=spec.title, why=one_line_reason(error)) from None
    leftover = [n for n, t in list(module.named_parameters()) + list(module.named_buffers()) if t.is_meta]
    if leftover:
        raise WeightsError(N_("{where}: the file lacks {key}"), where=where, key=leftover[0])
    return prepare(module, torch.device(device) if device is not None else best_device())


def _load_reason(error: BaseException) -> str:
    """torch.load's error in one line (its weights-only message is a page of advice)."""
    text = str(error)
    refused = re.search(r"GLOBAL ([\w.]+)", text)
    if refused:
        return (f"refused: it asks to import {refused.group(1)}; a weights file may hold tensors and plain "
                f"containers only, never code")
    if isinstance(error, KeyError) or "Unsupported operand" in text:  # the legacy loader's magic number
        return "not a PyTorch weights file (not written by torch.save)"
    first = text.strip().split(". ")[0] or type(error).__name__
    return f"not a PyTorch weights file, or an incomplete one ({' '.join(first.split())[:160]})"


