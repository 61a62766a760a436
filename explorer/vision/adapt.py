"""State-dict adaptation: the module each registry model loads into, and how a file's names are
mapped onto it (old DenseNet keys, GoogLeNet's aux heads, EfficientNet-Lite0 by order)."""

from __future__ import annotations

import re
from typing import Callable

import torch
from torch import nn

from ..i18n import N_
from ..errors import ConfigError
from .weights import PretrainedSpec, WeightsError

# torchvision/models/densenet.py `_load_state_dict`: files keep pre-0.4 names (`norm.1`, `conv.2`).
_DENSENET_OLD_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$")


def remap_densenet_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in state.items():
        match = _DENSENET_OLD_KEY.match(key)
        out[match.group(1) + match.group(2) if match else key] = value
    return out


# --- building the modules -----------------------------------------------------------------

def _project_model(name: str) -> nn.Module:
    """The project's live-built preset on the meta device (every DenseNet, GoogLeNet and Inception
    v3 of the registry is one)."""
    from ..models.registry import build_model

    return build_model(name, "meta")


def build_module(spec: PretrainedSpec) -> tuple[nn.Module, Callable[[dict], dict]]:
    """(module on the meta device, state-dict adapter)."""
    if spec.family == "densenet":
        return _project_model(spec.name), remap_densenet_keys
    if spec.family == "googlenet":
        model = _project_model("googlenet")  # the Build pages' model, without aux heads
        model.transform_input = False  # done by the mean = std = 0.5 normalisation instead
        return model, _drop_prefixes("aux1.", "aux2.")
    if spec.family == "inception":
        model = _project_model("inception_v3")  # the Build pages' model (aux head kept; eval skips it)
        model.transform_input = False  # done by the mean = std = 0.5 normalisation instead
        return model, dict
    if spec.family == "resnet":
        import torchvision.models as tvm

        with torch.device("meta"):
            return getattr(tvm, spec.name)(weights=None), dict
    if spec.family == "efficientnet":
        import timm

        # The package holds lukemelas-style weights ported from TensorFlow: its 296 tensors are, in
        # order, timm's efficientnet_lite0 tensors. timm's `tf_` variant is the same network with
        # TensorFlow's "same" padding and BN eps 1e-3, which these weights were trained with
        # (the symmetric-padding variant scores e.g. chelsea as "tiger cat").
        with torch.device("meta"):
            model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
        return model, _by_order(model)
    raise ConfigError("model", N_("no builder for family {family}"), family=repr(spec.family))


def _drop_prefixes(*prefixes: str) -> Callable[[dict], dict]:
    return lambda state: {k: v for k, v in state.items() if not k.startswith(prefixes)}


def _by_order(model: nn.Module) -> Callable[[dict], dict]:
    def adapt(state: dict) -> dict:
        names = list(model.state_dict())
        if len(names) != len(state):
            raise WeightsError(N_("expected {n_names} tensors, the file has {n_state}"),
                               n_names=len(names), n_state=len(state))
        return dict(zip(names, state.values()))

    return adapt


def fit_names(state: dict, expected: dict, adapt: Callable[[dict], dict], where: str = "") -> dict:
    """The file's names if they are the model's, else the registry's adapter (old DenseNet keys,
    EfficientNet-Lite0 by order); an adapter that cannot apply leaves the names for the check,
    unless no name is the model's: then its reason is the file's problem (one tensor too few for
    the by-order names, not "0 of 247 match, 295 unexpected")."""
    if set(state) <= set(expected):
        return state
    try:
        return adapt(state)
    except WeightsError as error:
        if set(state) & set(expected):
            return state
        raise WeightsError(N_("{where}: {why}"), where=where, why=error) from None


def check_fits(where: str, spec: PretrainedSpec, state: dict, expected: dict) -> None:
    """Strict loading's checks, as one line that names what is wrong."""
    optional = {k for k in expected if k.endswith("num_batches_tracked")}
    missing = [k for k in expected if k not in state and k not in optional]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        found, needed = len(set(state) & set(expected) - optional), len(expected) - len(optional)
        common = dict(where=where, title=spec.title, found=found, needed=needed)
        if missing and unexpected:
            raise WeightsError(N_("{where}: not a state dict for {title}: {found} of {needed} tensors match; "
                                  "{n_missing} missing ({missing}), {n_unexpected} unexpected ({unexpected})"),
                               n_missing=len(missing), missing=_some(missing), n_unexpected=len(unexpected),
                               unexpected=_some(unexpected), **common)
        if missing:
            raise WeightsError(N_("{where}: not a state dict for {title}: {found} of {needed} tensors match; "
                                  "{n_missing} missing ({missing})"),
                               n_missing=len(missing), missing=_some(missing), **common)
        raise WeightsError(N_("{where}: not a state dict for {title}: {found} of {needed} tensors match; "
                              "{n_unexpected} unexpected ({unexpected})"),
                           n_unexpected=len(unexpected), unexpected=_some(unexpected), **common)
    wrong = [k for k in state if state[k].shape != expected[k].shape]
    if wrong:
        key = wrong[0]
        raise WeightsError(N_("{where}: {n_wrong} tensors have other shapes than {title}'s, e.g. {key}: {shape} in "
                              "the file, {needed} in the model"),
                           where=where, n_wrong=len(wrong), title=spec.title, key=key, shape=tuple(state[key].shape),
                           needed=tuple(expected[key].shape))
    for key, value in state.items():
        if expected[key].is_floating_point() and not (value.is_floating_point() and torch.isfinite(value).all()):
            raise WeightsError(f"{where}: {key} " + ("holds NaN or infinite values" if value.is_floating_point()
                                                      else f"is {value.dtype}, not floating point"))


def _some(keys: list[str], n: int = 3) -> str:
    return ", ".join(keys[:n]) + (", ..." if len(keys) > n else "")


