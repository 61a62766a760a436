"""One registry of every architecture the explorer can build and profile.

Each architecture contributes a config dataclass, named presets, a profile function and a
builder; ``profile`` and ``build_model`` dispatch on the config's type, so the CLI, the pages
and the comparison treat every architecture the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from . import densenet, googlenet, inception_v3
from ..i18n import N_
from ..errors import BudgetError, ConfigError
from .limits import BATCH_SIZE
from .profile import Profile
from ..units import format_bytes

GiB = 2**30


@dataclass(frozen=True)
class Architecture:
    name: str
    config_type: type
    presets: dict
    descriptions: dict
    profile: Callable  # (config, batch_size, preset) -> Profile
    build: Callable  # (config) -> nn.Module, called under a torch.device context


ARCHITECTURES: dict[str, Architecture] = {}


def register(arch: Architecture) -> None:
    ARCHITECTURES[arch.name] = arch


register(Architecture("densenet", densenet.DenseNetConfig, densenet.PRESETS, densenet.PRESET_DESCRIPTIONS,
                      densenet.profile_densenet, densenet.DenseNet))
register(Architecture("googlenet", googlenet.GoogLeNetConfig, googlenet.PRESETS, googlenet.PRESET_DESCRIPTIONS,
                      googlenet.profile_googlenet, googlenet.GoogLeNet))
register(Architecture("inception_v3", inception_v3.InceptionV3Config, inception_v3.PRESETS,
                      inception_v3.PRESET_DESCRIPTIONS, inception_v3.profile_inception_v3, inception_v3.InceptionV3))


def all_presets() -> dict[str, tuple[Architecture, object]]:
    return {name: (arch, config) for arch in ARCHITECTURES.values() for name, config in arch.presets.items()}


def architecture_of(config) -> Architecture:
    for arch in ARCHITECTURES.values():
        if isinstance(config, arch.config_type):
            return arch
    raise ConfigError("config", N_("unsupported config type {kind}"), kind=type(config).__name__)


def resolve(preset_or_config, input_size: int | None = None) -> tuple[Architecture, object, str | None]:
    """(architecture, config, preset name or None) for a preset name or a config object."""
    if isinstance(preset_or_config, str):
        presets = all_presets()
        if preset_or_config not in presets:
            raise ConfigError("preset", N_("unknown preset {name}; run `python -m explorer presets` to list them"),
                              name=repr(preset_or_config))
        arch, config = presets[preset_or_config]
        preset = preset_or_config
    else:
        config, preset = preset_or_config, None
        arch = architecture_of(config)
    if input_size is not None and input_size != config.input_size:
        config = config.replace(input_size=input_size)
    return arch, config, preset


def profile(preset_or_config, input_size: int | None = None, batch_size: int = 1) -> Profile:
    """Analytic profile of a preset (by name) or a config; pure arithmetic, no tensors."""
    BATCH_SIZE.check("batch_size", batch_size)
    arch, config, preset = resolve(preset_or_config, input_size)
    return arch.profile(config, batch_size=batch_size, preset=preset)


@dataclass(frozen=True)
class Budget:
    max_param_bytes: int = 2 * GiB
    max_activation_bytes: int = 8 * GiB


def check_budget(result: Profile, budget: Budget = Budget()) -> None:
    """Refuse, before anything is allocated, a config that would need too much memory.

    Only work that allocates calls this (the live model on a real device, the cross-check's
    forward pass); the analytic profile allocates nothing and shows any config the limits allow,
    at any batch (issue #23)."""
    if result.param_bytes > budget.max_param_bytes:
        raise BudgetError(N_("this config needs {size} of weights (limit {limit}); reduce the growth rate, "
                             "block depths, widths or stem features"),
                          size=format_bytes(result.param_bytes), limit=format_bytes(budget.max_param_bytes))
    if result.activation_bytes > budget.max_activation_bytes:
        raise BudgetError(N_("this config needs {size} of training activations at batch {batch} (limit {limit}); "
                             "reduce the batch size, input size, growth rate or block depths, or turn on "
                             "memory-efficient mode"),
                          size=format_bytes(result.activation_bytes), batch=result.batch_size,
                          limit=format_bytes(budget.max_activation_bytes))


def build_model(preset_or_config, device: str | torch.device = "meta", budget: Budget = Budget()) -> nn.Module:
    """Build the live model. ``meta`` (the default) allocates nothing; any real device first
    checks the weights against the budget, then materialises and initialises them."""
    arch, config, _ = resolve(preset_or_config)
    if torch.device(device).type != "meta":
        check_budget(arch.profile(config, batch_size=1), Budget(budget.max_param_bytes, 2**62))
    with torch.device(device):
        return arch.build(config)


def materialize(model: nn.Module, device: str | torch.device = "cpu") -> nn.Module:
    """Give a meta-built model real, freshly initialised weights on ``device``."""
    model.to_empty(device=device)
    model.reset_parameters()
    return model


def best_device() -> torch.device:
    """CUDA when present, then Apple's MPS, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
