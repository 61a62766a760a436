"""Inception (Szegedy et al., CVPR 2015): a configurable module and a configurable GoogLeNet.

One description feeds everything: ``inception_module_plan`` turns a module config into branches
of layer specs (``specs.py``); the module designer's report, the live ``GoogLeNet`` and its
analytic profile all read that plan, so the numbers shown and the model built cannot disagree.

Module names follow torchvision (``conv1``, ``inception3a.branch2.1.conv``, ``aux1.fc2``), so
torchvision's GoogLeNet state dict loads with ``strict=True``.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, replace
from fractions import Fraction

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.models.googlenet import GoogLeNetOutputs

from ..errors import ConfigError
from .specs import AdaptiveAvgPool, BatchNorm, Conv, Dropout, GlobalAvgPool, Linear, Pool

FACTORIZE = ("none", "stacked", "asymmetric")
STEMS = ("imagenet", "cifar")
BN_EPS = 0.001  # torchvision's BasicConv2d

# The six widths of a module, in the order of the paper's Table 1.
WIDTH_FIELDS = ("ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5", "pool_proj")
WIDTH_LABELS = ("#1x1", "#3x3 reduce", "#3x3", "#5x5 reduce", "#5x5", "pool proj")
BRANCH_NAMES = ("1x1", "3x3", "5x5", "pool")

LIMITS = {
    "in_channels": (1, 4096),
    "width": (1, 1024),
    "module_size": (1, 1024),
    "width_multiplier": (0.0625, 4.0),
    "input_size": (8, 2048),
    "num_classes": (1, 100_000),
}


def _check_int(field_name: str, value, low: int, high: int, label: str | None = None, hint: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(field_name, f"must be an integer from {low} to {high}, got {value!r}{hint}", label)


def _check_bool(field_name: str, value) -> None:
    if not isinstance(value, bool):
        raise ConfigError(field_name, f"must be true or false, got {value!r}")


def _check_choice(field_name: str, value, choices) -> None:
    if value not in choices:
        raise ConfigError(field_name, f"must be one of {', '.join(map(str, choices))}, got {value!r}")


# --- the module: config and plan ------------------------------------------------------------

@dataclass(frozen=True)
class ConvBN:
    """torchvision's BasicConv2d: conv (no bias) -> BN (eps 0.001) -> in-place ReLU."""

    conv: Conv
    bn: BatchNorm

    @property
    def out_channels(self) -> int:
        return self.conv.out_channels

    def build(self) -> "BasicConv2d":
        return BasicConv2d(self)


def conv_bn(in_channels: int, out_channels: int, kernel_size, stride=1, padding=0) -> ConvBN:
    return ConvBN(Conv(in_channels, out_channels, kernel_size, stride, padding), BatchNorm(out_channels, BN_EPS))


@dataclass(frozen=True)
class InceptionModuleConfig:
    in_channels: int = 192  # channels entering the module
    widths: tuple[int, ...] = (64, 96, 128, 16, 32, 32)  # #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj
    input_size: int = 28  # square feature map, pixels per side (every branch keeps it)
    reduction: bool = True  # 1x1 convs before the 3x3 and 5x5 and after the pool
    factorize: str = "none"  # "stacked": 5x5 as two 3x3; "asymmetric": n x n as 1 x n then n x 1
    branch3_kernel: int = 5  # the "5x5" branch's kernel; torchvision's GoogLeNet uses 3

    def __post_init__(self) -> None:
        object.__setattr__(self, "widths", tuple(self.widths))
        validate_module(self)

    def replace(self, **changes) -> "InceptionModuleConfig":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["widths"] = list(self.widths)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "InceptionModuleConfig":
        return _from_dict(cls, data)

    @property
    def out_channels(self) -> int:
        ch1x1, _, ch3x3, _, ch5x5, pool_proj = self.widths
        return ch1x1 + ch3x3 + ch5x5 + (pool_proj if self.reduction else self.in_channels)


def _from_dict(cls, data: dict):
    known = set(cls.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(unknown[0], f"unknown field; expected one of {', '.join(sorted(known))}")
    return cls(**data)


def validate_module(config: InceptionModuleConfig, where: str = "") -> None:
    _check_int("in_channels", config.in_channels, *LIMITS["in_channels"], label=f"{where}in_channels")
    if len(config.widths) != 6:
        raise ConfigError("widths", f"needs 6 widths ({', '.join(WIDTH_LABELS)}), got {len(config.widths)}")
    used = range(6) if config.reduction else (0, 2, 4)  # the reductions and pool proj are unused without 1x1s
    for i in used:
        _check_int("widths", config.widths[i], *LIMITS["width"], label=f"{where}{WIDTH_LABELS[i]}",
                   hint="; a zero-width branch leaves no output" if config.widths[i] == 0 else "")
    _check_int("input_size", config.input_size, *LIMITS["module_size"], label=f"{where}size")
    _check_bool("reduction", config.reduction)
    _check_choice("factorize", config.factorize, FACTORIZE)
    _check_choice("branch3_kernel", config.branch3_kernel, (3, 5))


@dataclass(frozen=True)
class BranchPlan:
    name: str  # "1x1", "3x3", "5x5", "pool"
    steps: tuple  # ConvBN or Pool, applied in order
    naive_conv_weights: int  # the same branch without its 1x1 reduction

    @property
    def conv_weights(self) -> int:
        return sum(s.conv.kernel_weights for s in self.steps if isinstance(s, ConvBN))

    @property
    def params(self) -> int:
        return sum(s.conv.params() + s.bn.params() for s in self.steps if isinstance(s, ConvBN))

    def out_channels(self, in_channels: int) -> int:
        last = self.steps[-1]
        return last.out_channels if isinstance(last, ConvBN) else in_channels


@dataclass(frozen=True)
class ModulePlan:
    config: InceptionModuleConfig
    branches: tuple[BranchPlan, ...]

    @property
    def in_channels(self) -> int:
        return self.config.in_channels

    @property
    def out_channels(self) -> int:
        return sum(b.out_channels(self.in_channels) for b in self.branches)

    @property
    def depth(self) -> int:
        """Conv layers on the longest branch (the paper counts a module as 2 layers deep)."""
        return max(sum(isinstance(s, ConvBN) for s in b.steps) for b in self.branches)


def _spatial_convs(c_in: int, c_out: int, n: int, factorize: str) -> tuple[ConvBN, ...]:
    """An n x n conv, or its factorisation; the intermediate width is the output width."""
    if factorize == "stacked" and n == 5:
        return conv_bn(c_in, c_out, 3, padding=1), conv_bn(c_out, c_out, 3, padding=1)
    if factorize == "asymmetric" and n > 1:
        return (conv_bn(c_in, c_out, (1, n), padding=(0, n // 2)),
                conv_bn(c_out, c_out, (n, 1), padding=(n // 2, 0)))
    return (conv_bn(c_in, c_out, n, padding=n // 2),)


def _weights(steps) -> int:
    return sum(s.conv.kernel_weights for s in steps if isinstance(s, ConvBN))


def inception_module_plan(config: InceptionModuleConfig) -> ModulePlan:
    return ModulePlan(config, _branch_plans(config.in_channels, tuple(config.widths), config.reduction,
                                            config.factorize, config.branch3_kernel))


@functools.lru_cache(maxsize=4096)
def _branch_plans(c: int, widths: tuple[int, ...], reduction: bool, factorize: str,
                  branch3_kernel: int) -> tuple[BranchPlan, ...]:
    """The four branches; memoised because they do not depend on the spatial size (sweeps over
    input size reuse them)."""
    ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj = widths
    f = factorize
    naive3 = _spatial_convs(c, ch3x3, 3, f)
    naive5 = _spatial_convs(c, ch5x5, branch3_kernel, f)
    pool = Pool("max", 3, 1, 1, ceil_mode=True)
    if reduction:
        b2 = (conv_bn(c, ch3x3red, 1),) + _spatial_convs(ch3x3red, ch3x3, 3, f)
        b3 = (conv_bn(c, ch5x5red, 1),) + _spatial_convs(ch5x5red, ch5x5, branch3_kernel, f)
        b4 = (pool, conv_bn(c, pool_proj, 1))
    else:
        b2, b3, b4 = naive3, naive5, (pool,)
    b1 = (conv_bn(c, ch1x1, 1),)
    return (
        BranchPlan("1x1", b1, _weights(b1)),
        BranchPlan("3x3", b2, _weights(naive3)),
        BranchPlan("5x5", b3, _weights(naive5)),
        BranchPlan("pool", b4, 0),
    )


# --- the module designer's report -------------------------------------------------------------

@dataclass
class BranchReport:
    name: str
    out_channels: int
    conv_weight_params: int  # conv kernels only: no bias, no BN
    naive_conv_weight_params: int  # the same without the 1x1 reduction
    params: int  # conv kernels + BN scale and shift
    macs: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ModuleReport:
    config: InceptionModuleConfig
    branches: list[BranchReport]

    @property
    def in_channels(self) -> int:
        return self.config.in_channels

    @property
    def size(self) -> int:
        return self.config.input_size

    @property
    def out_channels(self) -> int:
        return sum(b.out_channels for b in self.branches)

    @property
    def conv_weight_params(self) -> int:
        return sum(b.conv_weight_params for b in self.branches)

    @property
    def naive_conv_weight_params(self) -> int:
        return sum(b.naive_conv_weight_params for b in self.branches)

    @property
    def params(self) -> int:
        return sum(b.params for b in self.branches)

    @property
    def macs(self) -> int:
        return sum(b.macs for b in self.branches)

    def to_dict(self) -> dict:
        return {"in_channels": self.in_channels, "size": self.size, "out_channels": self.out_channels,
                "conv_weight_params": self.conv_weight_params, "params": self.params, "macs": self.macs,
                "branches": [b.to_dict() for b in self.branches]}


def module_report(config: InceptionModuleConfig) -> ModuleReport:
    """Per-branch output channels, conv weights, params and MACs; every branch keeps the size."""
    plan = inception_module_plan(config)
    size = config.input_size
    reports = []
    for branch in plan.branches:
        macs = sum(s.conv.macs(size, size) for s in branch.steps if isinstance(s, ConvBN))
        reports.append(BranchReport(branch.name, branch.out_channels(config.in_channels), branch.conv_weights,
                                    branch.naive_conv_weights, branch.params, macs))
    return ModuleReport(config, reports)


# --- live modules ---------------------------------------------------------------------------

class BasicConv2d(nn.Module):
    def __init__(self, unit: ConvBN) -> None:
        super().__init__()
        self.conv = unit.conv.build()
        self.bn = unit.bn.build()

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)), inplace=True)


def _build_step(step) -> nn.Module:
    return step.build()


class Inception(nn.Module):
    """Four branches concatenated; ``branch1`` is one BasicConv2d, the others are Sequentials."""

    def __init__(self, plan: ModulePlan) -> None:
        super().__init__()
        first, *rest = plan.branches
        self.branch1 = first.steps[0].build()
        for i, branch in enumerate(rest, start=2):
            self.add_module(f"branch{i}", nn.Sequential(*(_build_step(s) for s in branch.steps)))

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


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
class GoogLeNetConfig:
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
            raise ConfigError("widths", "must be 9 rows of 6 integers (Table 1 order)") from None
        object.__setattr__(self, "widths", widths)
        validate_googlenet(self)

    def replace(self, **changes) -> "GoogLeNetConfig":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["widths"] = [list(row) for row in self.widths]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "GoogLeNetConfig":
        return _from_dict(cls, data)

    @property
    def depth(self) -> int:
        """Layers with weights on the longest path, as the paper counts them (22 for GoogLeNet)."""
        plan = googlenet_plan(self)
        stem = sum(isinstance(s, ConvBN) for _, s in plan.stem)
        return stem + sum(m.depth for _, m in plan.modules) + 1


@functools.lru_cache(maxsize=64)
def _ratio(multiplier: float) -> tuple[int, int]:
    f = Fraction(repr(float(multiplier)))  # read as typed: 0.7, not 0.6999999999999999556
    return f.numerator, f.denominator


def scaled(width: int, multiplier: float) -> int:
    """round(width x multiplier), halves up, at least 1 (exact integer arithmetic)."""
    num, den = _ratio(multiplier)
    return max(1, (2 * width * num + den) // (2 * den))


def validate_googlenet(config: GoogLeNetConfig) -> None:
    if len(config.widths) != len(MODULE_NAMES):
        raise ConfigError("widths", f"needs {len(MODULE_NAMES)} modules (3a..5b), got {len(config.widths)}")
    for name, row in zip(MODULE_NAMES, config.widths):
        if len(row) != 6:
            raise ConfigError("widths", f"module {name} needs 6 widths ({', '.join(WIDTH_LABELS)}), got {len(row)}")
        for i, w in enumerate(row):
            _check_int("widths", w, *LIMITS["width"], label=f"inception{name} {WIDTH_LABELS[i]}",
                       hint="; a zero-width branch leaves no output" if w == 0 else "")
    m = config.width_multiplier
    low, high = LIMITS["width_multiplier"]
    if isinstance(m, bool) or not isinstance(m, (int, float)) or not low <= m <= high:
        raise ConfigError("width_multiplier", f"must be a number from {low} to {high}, got {m!r}")
    _check_choice("branch3_kernel", config.branch3_kernel, (3, 5))
    _check_choice("factorize", config.factorize, FACTORIZE)
    _check_choice("stem", config.stem, STEMS)
    for name in ("aux_logits", "transform_input"):
        _check_bool(name, getattr(config, name))
    _check_int("input_size", config.input_size, *LIMITS["input_size"])
    _check_int("num_classes", config.num_classes, *LIMITS["num_classes"])
    for name in ("dropout", "dropout_aux"):
        p = getattr(config, name)
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
            raise ConfigError(name, f"must be in [0, 1), got {p!r}")
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
        raise ConfigError("input_size", f"{config.input_size} px is too small for the stem; use at least "
                          f"{_minimum_input_size(config)} px")
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
                raise ConfigError("input_size", f"{config.input_size} px shrinks to nothing at {pool_name}; "
                                  f"use at least {_minimum_input_size(config)} px")
    return GoogLeNetPlan(config, stem, tuple(body), tuple(aux) if config.aux_logits else (),
                         Dropout(config.dropout), Linear(channels, config.num_classes))


def _minimum_input_size(config: GoogLeNetConfig) -> int:
    pools = [Pool("max", 3, 2, ceil_mode=True)] * (2 if config.stem == "imagenet" else 0)
    pools += [Pool("max", 3, 2, ceil_mode=True), Pool("max", 2, 2, ceil_mode=True)]
    for size in range(1, 4096):
        s = Conv(3, 1, 7, 2, 3).output_hw(size, size)[0] if config.stem == "imagenet" else size
        if _size_after(pools, s) >= 1:
            return size
    return 4096


@torch.no_grad()
def truncated_normal_init(model: nn.Module, std_of) -> None:
    """torchvision's Inception initialisation: default BN, conv and linear weights from a normal
    truncated to [-2, 2] with the standard deviation ``std_of(module)``."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear, nn.BatchNorm2d)):
            m.reset_parameters()
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.trunc_normal_(m.weight, mean=0.0, std=std_of(m), a=-2, b=2)


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
        self.avgpool = GlobalAvgPool().build()
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
    "googlenet": "ImageNet, torchvision's GoogLeNet (BN, 3x3 conv in the '5x5' branch, aux heads removed)",
    "googlenet-paper": "ImageNet, GoogLeNet with the paper's 5x5 convs (Table 1 widths, BN, no aux heads)",
}


def build_googlenet(config: GoogLeNetConfig | str, device: str | torch.device = "meta") -> GoogLeNet:
    """Build the model. On the default ``meta`` device this allocates no memory at all."""
    if isinstance(config, str):
        config = PRESETS[config]
    with torch.device(device):
        return GoogLeNet(config)


# --- the analytic profile of the same plan --------------------------------------------------------

def _record_unit(rec, prefix: str, unit: ConvBN, c: int, h: int, w: int) -> tuple[int, int, int]:
    """conv -> BN -> in-place ReLU: BN keeps the conv output; the ReLU keeps its result (BN's output)."""
    c, h, w = rec.add(f"{prefix}.conv", unit.conv, c, h, w, output_saved=True)
    return rec.add(f"{prefix}.bn", unit.bn, c, h, w, output_saved=True)


def _record_pool(rec, name: str, pool: Pool, c: int, h: int, w: int, output_saved: bool):
    extra = 0
    if pool.mode == "max":
        oh, ow = pool.output_hw(h, w)
        extra = rec.tensor_bytes(c, oh, ow, itemsize=8)  # int64 indices
    return rec.add(name, pool, c, h, w, output_saved=output_saved, extra_bytes=extra)


def record_stem(rec, stem, size: int) -> tuple[int, int, int]:
    """The input image (kept by the first conv) and the stem's conv units and pools."""
    rec.block = "stem"
    rec.add_pseudo("input", "input", 3, size, size, output_saved=True)
    c, h, w = 3, size, size
    for name, step in stem:
        if isinstance(step, ConvBN):
            c, h, w = _record_unit(rec, name, step, c, h, w)
        else:
            c, h, w = _record_pool(rec, name, step, c, h, w, output_saved=True)
    return c, h, w


def record_module(rec, prefix: str, plan: ModulePlan, h: int, w: int,
                  output_saved: bool = True) -> tuple[int, int, int]:
    """Rows of one Inception module; its input is kept by whoever produced it."""
    c_in = plan.in_channels
    for i, branch in enumerate(plan.branches, start=1):
        c, bh, bw = c_in, h, w
        for j, step in enumerate(branch.steps):
            name = f"{prefix}.branch1" if i == 1 else f"{prefix}.branch{i}.{j}"
            if isinstance(step, ConvBN):
                c, bh, bw = _record_unit(rec, name, step, c, bh, bw)
            else:  # the pool's output is kept by the projection after it, if there is one
                c, bh, bw = _record_pool(rec, name, step, c, bh, bw, output_saved=j < len(branch.steps) - 1)
    rec.add_pseudo(f"{prefix}.cat", "concat", plan.out_channels, h, w, output_saved=output_saved,
                   in_channels=c_in)
    return plan.out_channels, h, w


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
            c, h, w = _record_pool(rec, name, step, c, h, w, output_saved=True)
        if name in aux_after:
            aux_name, aux = aux_after[name]
            rec.block = aux_name
            kinds[aux_name], counts[aux_name] = "aux", 0
            rec.training_only = True  # not part of an inference pass: no MACs
            ac, ah, aw = rec.add(f"{aux_name}.pool", aux.pool, c, h, w, output_saved=True)
            ac, ah, aw = _record_unit(rec, f"{aux_name}.conv", aux.conv, ac, ah, aw)
            rec.add(f"{aux_name}.fc1", aux.fc1, ac * ah * aw, 1, 1, output_saved=True)  # the in-place ReLU
            rec.add(f"{aux_name}.dropout", aux.dropout, aux.fc1.out_features, 1, 1, output_saved=aux.dropout.p > 0,
                    extra_bytes=_dropout_noise(rec, aux.dropout, aux.fc1.out_features))
            rec.add(f"{aux_name}.fc2", aux.fc2, aux.fc1.out_features, 1, 1, output_saved=False)
            rec.training_only = False
    rec.block = "head"
    dropping = plan.dropout.p > 0
    rec.add("avgpool", GlobalAvgPool(), c, h, w, output_saved=not dropping)  # else fc keeps it
    rec.add("dropout", plan.dropout, c, 1, 1, output_saved=dropping,
            extra_bytes=_dropout_noise(rec, plan.dropout, c))
    rec.add("fc", plan.fc, c, 1, 1, output_saved=False)
    if totals_only:
        return rec.totals
    return Profile("googlenet", preset, config.to_dict(), (3, size, size), batch_size, rec.rows,
                   rec.blocks(kinds, counts))


def _dropout_noise(rec, dropout: Dropout, features: int) -> int:
    return rec.tensor_bytes(features, 1, 1) if dropout.p > 0 else 0
