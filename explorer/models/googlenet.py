"""GoogLeNet (Szegedy et al., CVPR 2015), configurable: nine Inception modules (``inception.py``).

``googlenet_plan`` turns a config into the stem, the modules' plans and the heads; the live
``GoogLeNet`` and its analytic profile both read that plan. Module names follow torchvision
(``conv1``, ``inception3a.branch2.1.conv``, ``aux1.fc2``), so torchvision's GoogLeNet state
dict loads with ``strict=True``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.models.googlenet import GoogLeNetOutputs

from ..i18n import N_
from ..errors import ConfigError
from .fields import ConfigFields, as_typed, check_bool, check_choice
from .inception import (BRANCH3_KERNELS, FACTORIZE, WIDTH_LABELS, ConvBN, Inception, InceptionModuleConfig, ModulePlan,
                        check_width, conv_bn, inception_module_plan, record_dropout, record_head, record_module,
                        record_pool, record_stem, record_unit, truncated_normal_init)
from .limits import GOOGLENET as LIMITS
from .specs import AdaptiveAvgPool, Conv, Dropout, Linear, Pool

STEMS = ("imagenet", "cifar")


@dataclass(frozen=True)
class AuxPlan:
    """torchvision's InceptionAux: 4x4 average pool, 1x1 conv to 128, fc 2048->1024, dropout, fc."""

    pool: AdaptiveAvgPool
    conv: ConvBN
    fc1: Linear
    dropout: Dropout
    fc2: Linear


class InceptionAux(nn.Module):
    def __init__(self, plan: AuxPlan) -> None:
        super().__init__()
        self.pool = plan.pool.build()  # a module here (a functional call in torchvision); holds no state
        self.conv = plan.conv.build()
        self.fc1 = plan.fc1.build()
        self.fc2 = plan.fc2.build()
        self.dropout = plan.dropout.build()

    def forward(self, x: Tensor) -> Tensor:
        x = torch.flatten(self.conv(self.pool(x)), 1)
        return self.fc2(self.dropout(F.relu(self.fc1(x), inplace=True)))


# --- GoogLeNet: config --------------------------------------------------------------------------

MODULE_NAMES = ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b")
# GoogLeNet paper, Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
TABLE1 = (
    (64, 96, 128, 16, 32, 32),  # 3a -> 256
    (128, 128, 192, 32, 96, 64),  # 3b -> 480
    (192, 96, 208, 16, 48, 64),  # 4a -> 512
    (160, 112, 224, 24, 64, 64),  # 4b -> 512
    (128, 128, 256, 24, 64, 64),  # 4c -> 512
    (112, 144, 288, 32, 64, 64),  # 4d -> 528
    (256, 160, 320, 32, 128, 128),  # 4e -> 832
    (256, 160, 320, 32, 128, 128),  # 5a -> 832
    (384, 192, 384, 48, 128, 128),  # 5b -> 1024
)
POOL_AFTER = {"3b": ("maxpool3", 3), "4e": ("maxpool4", 2)}  # max pools between stages: (name, kernel)
AUX_AFTER = {"4a": "aux1", "4d": "aux2"}


@dataclass(frozen=True)
class GoogLeNetConfig(ConfigFields):
    widths: tuple[tuple[int, ...], ...] = TABLE1  # per module 3a..5b, Table 1 order
    width_multiplier: float = 1.0  # scales every conv width (stem and modules), rounded, at least 1
    branch3_kernel: int = 3  # the "5x5" branch: torchvision uses 3x3 (pytorch/vision#906), the paper 5x5
    factorize: str = "none"  # "stacked" or "asymmetric" (Inception v2/v3 factorisations)
    aux_logits: bool = False  # the two auxiliary classifiers after 4a and 4d (training only)
    stem: str = "imagenet"  # "imagenet": 7x7/2 conv, pools, 1x1 and 3x3 convs; "cifar": no downsampling
    input_size: int = 224  # square input, pixels per side
    num_classes: int = 1000
    dropout: float = 0.2  # before the classifier
    dropout_aux: float = 0.7  # inside the auxiliary classifiers
    transform_input: bool = False  # torchvision re-normalises inputs only when loading its weights

    def __post_init__(self) -> None:
        try:
            widths = tuple(tuple(row) for row in self.widths)
        except TypeError:
            raise ConfigError("widths", N_("must be 9 rows of 6 integers (Table 1 order)")) from None
        object.__setattr__(self, "widths", widths)
        validate_googlenet(self)

    @property
    def depth(self) -> int:
        """Layers with weights on the longest path, as the paper counts them (22 for GoogLeNet)."""
        plan = googlenet_plan(self)
        stem = sum(isinstance(s, ConvBN) for _, s in plan.stem)
        return stem + sum(m.depth for _, m in plan.modules) + 1


@functools.lru_cache(maxsize=64)
def _ratio(multiplier: float) -> tuple[int, int]:
    f = as_typed(multiplier)
    return f.numerator, f.denominator


def scaled(width: int, multiplier: float) -> int:
    """round(width x multiplier), halves up, at least 1 (exact integer arithmetic)."""
    num, den = _ratio(multiplier)
    return max(1, (2 * width * num + den) // (2 * den))


def validate_googlenet(config: GoogLeNetConfig) -> None:
    if len(config.widths) != len(MODULE_NAMES):
        raise ConfigError("widths", N_("needs {n} modules (3a..5b), got {got}"), n=len(MODULE_NAMES),
                          got=len(config.widths))
    for name, row in zip(MODULE_NAMES, config.widths):
        if len(row) != 6:
            raise ConfigError("widths", N_("module {name} needs 6 widths ({labels}), got {got}"), name=name,
                              labels=", ".join(WIDTH_LABELS), got=len(row))
        for i, w in enumerate(row):
            check_width(w, f"inception{name} {WIDTH_LABELS[i]}")
    LIMITS["width_multiplier"].check("width_multiplier", config.width_multiplier)
    check_choice("branch3_kernel", config.branch3_kernel, BRANCH3_KERNELS)
    check_choice("factorize", config.factorize, FACTORIZE)
    check_choice("stem", config.stem, STEMS)
    for name in ("aux_logits", "transform_input"):
        check_bool(name, getattr(config, name))
    for name in ("input_size", "num_classes", "dropout", "dropout_aux"):
        LIMITS[name].check(name, getattr(config, name))
    googlenet_plan(config)  # raises if the feature map shrinks to nothing


# --- GoogLeNet: plan --------------------------------------------------------------------------

@dataclass(frozen=True)
class GoogLeNetPlan:
    config: GoogLeNetConfig
    stem: tuple[tuple[str, object], ...]  # (name, ConvBN or Pool)
    body: tuple[tuple[str, object], ...]  # (name, ModulePlan or Pool) in forward order
    aux: tuple[tuple[str, str, AuxPlan], ...]  # (aux name, module it reads, plan)
    dropout: Dropout
    fc: Linear

    @property
    def modules(self) -> tuple[tuple[str, ModulePlan], ...]:
        return tuple((n, m) for n, m in self.body if isinstance(m, ModulePlan))


def _size_after(steps, size: int) -> int:
    for step in steps:
        spec = step.conv if isinstance(step, ConvBN) else step
        size = spec.output_hw(size, size)[0]
    return size


@functools.lru_cache(maxsize=256)
def googlenet_plan(config: GoogLeNetConfig) -> GoogLeNetPlan:
    """The plan of a (frozen, hashable) config; memoised: validation builds it, the profile and model reuse it."""
    m = config.width_multiplier
    c1, c3 = scaled(64, m), scaled(192, m)
    if config.stem == "imagenet":
        stem = (("conv1", conv_bn(3, c1, 7, stride=2, padding=3)),
                ("maxpool1", Pool("max", 3, 2, ceil_mode=True)),
                ("conv2", conv_bn(c1, c1, 1)),
                ("conv3", conv_bn(c1, c3, 3, padding=1)),
                ("maxpool2", Pool("max", 3, 2, ceil_mode=True)))
    else:
        stem = (("conv1", conv_bn(3, c1, 3, padding=1)), ("conv2", conv_bn(c1, c1, 1)),
                ("conv3", conv_bn(c1, c3, 3, padding=1)))
    size = _size_after([s for _, s in stem], config.input_size)
    if size < 1:
        raise ConfigError("input_size", N_("{size} px is too small for the stem; use at least {minimum} px"),
                          size=config.input_size, minimum=_minimum_input_size(config))
    channels = c3
    body, aux = [], []
    for name, row in zip(MODULE_NAMES, config.widths):
        module_config = InceptionModuleConfig(channels, tuple(scaled(w, m) for w in row), max(size, 1),
                                              factorize=config.factorize, branch3_kernel=config.branch3_kernel)
        plan = inception_module_plan(module_config)
        body.append((f"inception{name}", plan))
        channels = plan.out_channels
        if name in AUX_AFTER:
            aux.append((AUX_AFTER[name], f"inception{name}", AuxPlan(
                AdaptiveAvgPool(4), conv_bn(channels, 128, 1), Linear(2048, 1024), Dropout(config.dropout_aux),
                Linear(1024, config.num_classes))))
        if name in POOL_AFTER:
            pool_name, kernel = POOL_AFTER[name]
            pool = Pool("max", kernel, 2, ceil_mode=True)
            body.append((pool_name, pool))
            size = pool.output_hw(size, size)[0]
            if size < 1:
                raise ConfigError("input_size", N_("{size} px shrinks to nothing at {where}; use at least {minimum} px"),
                                  size=config.input_size, where=pool_name, minimum=_minimum_input_size(config))
    return GoogLeNetPlan(config, stem, tuple(body), tuple(aux) if config.aux_logits else (),
                         Dropout(config.dropout), Linear(channels, config.num_classes))


def _minimum_input_size(config: GoogLeNetConfig) -> int:
    pools = [Pool("max", 3, 2, ceil_mode=True)] * (2 if config.stem == "imagenet" else 0)
    pools += [Pool("max", 3, 2, ceil_mode=True), Pool("max", 2, 2, ceil_mode=True)]
    largest = LIMITS["input_size"].high
    for size in range(1, largest + 1):
        s = Conv(3, 1, 7, 2, 3).output_hw(size, size)[0] if config.stem == "imagenet" else size
        if _size_after(pools, s) >= 1:
            return size
    return largest


# --- GoogLeNet: the live model --------------------------------------------------------------

class GoogLeNet(nn.Module):
    """GoogLeNet built from a config; the ``googlenet`` preset's state dict is torchvision's."""

    def __init__(self, config: GoogLeNetConfig) -> None:
        super().__init__()
        self.config = config
        plan = googlenet_plan(config)
        self.aux_logits = config.aux_logits
        self.transform_input = config.transform_input
        for name, step in plan.stem + plan.body:
            self.add_module(name, Inception(step) if isinstance(step, ModulePlan) else step.build())
        self._order = [name for name, _ in plan.stem + plan.body]
        self._aux_after = {source: name for name, source, _ in plan.aux}
        for name, _source, aux_plan in plan.aux:
            self.add_module(name, InceptionAux(aux_plan))
        self.avgpool = AdaptiveAvgPool(1).build()
        self.dropout = plan.dropout.build()
        self.fc = plan.fc.build()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torchvision's initialisation: truncated normal (std 0.01) weights, unit BN."""
        truncated_normal_init(self, lambda m: 0.01)

    def _transform_input(self, x: Tensor) -> Tensor:
        if not self.transform_input:
            return x
        mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
        return torch.cat([x[:, i:i + 1] * (std[i] / 0.5) + (mean[i] - 0.5) / 0.5 for i in range(3)], 1)

    def forward(self, x: Tensor):
        x = self._transform_input(x)
        aux_outputs = {}
        for name in self._order:
            x = getattr(self, name)(x)
            if name in self._aux_after and self.training:
                aux_outputs[self._aux_after[name]] = getattr(self, self._aux_after[name])(x)
        x = self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))
        if self.training and self.aux_logits:
            return GoogLeNetOutputs(x, aux_outputs.get("aux2"), aux_outputs.get("aux1"))
        return x


PRESETS: dict[str, GoogLeNetConfig] = {
    "googlenet": GoogLeNetConfig(),  # torchvision as shipped: 6,624,904 params, 1.50 GMACs
    "googlenet-paper": GoogLeNetConfig(branch3_kernel=5),  # true 5x5 convs: 7,005,832 params, 1.58 GMACs
}

PRESET_DESCRIPTIONS = {
    "googlenet": N_("ImageNet, torchvision's GoogLeNet (BN, 3x3 conv in the '5x5' branch, aux heads removed)"),
    "googlenet-paper": N_("ImageNet, GoogLeNet with the paper's 5x5 convs (Table 1 widths, BN, no aux heads)"),
}


def profile_googlenet(config: GoogLeNetConfig, batch_size: int = 1, preset: str | None = None,
                      totals_only: bool = False):
    """Count the plan that ``GoogLeNet`` is built from; see ``profile.py`` for the conventions.

    MACs are inference MACs: the auxiliary classifiers run only in training, so their rows carry
    their params and training activations but no MACs (as FlopCounterMode sees an eval pass).
    Training activations (measured with saved_tensors_hooks, see the tests): each BasicConv2d
    keeps its conv output (for BN) and its BN output (for the in-place ReLU); a module's
    concatenation is kept by whatever reads it next; max pools keep int64 indices; on the CPU
    dropout keeps a float32 noise tensor and the classifier keeps dropout's output.
    """
    from .profile import Profile, ProfileRecorder

    plan = googlenet_plan(config)
    rec = ProfileRecorder(batch_size, keep_rows=not totals_only)
    size = config.input_size
    c, h, w = record_stem(rec, plan.stem, size)

    kinds, counts = {"stem": "stem", "head": "head"}, {"stem": sum(isinstance(s, ConvBN) for _, s in plan.stem),
                                                       "head": 1}
    aux_after = {source: (name, aux) for name, source, aux in plan.aux}
    for name, step in plan.body:
        rec.block = name
        if isinstance(step, ModulePlan):
            kinds[name], counts[name] = "inception", step.depth
            # The global average pool runs as a mean over 1x1 output, which keeps no input.
            c, h, w = record_module(rec, name, step, h, w, output_saved=name != plan.body[-1][0])
        else:
            kinds[name], counts[name] = "maxpool", 0
            c, h, w = record_pool(rec, name, step, c, h, w, output_saved=True)
        if name in aux_after:
            aux_name, aux = aux_after[name]
            rec.block = aux_name
            kinds[aux_name], counts[aux_name] = "aux", 0
            rec.training_only = True  # not part of an inference pass: no MACs
            ac, ah, aw = rec.add(f"{aux_name}.pool", aux.pool, c, h, w, output_saved=True)
            ac, ah, aw = record_unit(rec, f"{aux_name}.conv", aux.conv, ac, ah, aw)
            rec.add(f"{aux_name}.fc1", aux.fc1, ac * ah * aw, 1, 1, output_saved=True)  # the in-place ReLU
            record_dropout(rec, f"{aux_name}.dropout", aux.dropout, aux.fc1.out_features)
            rec.add(f"{aux_name}.fc2", aux.fc2, aux.fc1.out_features, 1, 1, output_saved=False)
            rec.training_only = False
    record_head(rec, plan.dropout, plan.fc, c, h, w)
    if totals_only:
        return rec.totals
    return Profile("googlenet", preset, config.to_dict(), (3, size, size), batch_size, rec.rows,
                   rec.blocks(kinds, counts))
