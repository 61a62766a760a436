"""The Inception module (Szegedy et al., CVPR 2015), configurable, and what its networks share.

One description feeds everything: ``inception_module_plan`` turns a module config into branches
of layer specs (``specs.py``); the module designer's report, the live ``Inception`` module and
the profiles of GoogLeNet (``googlenet.py``) and Inception v3 all read that plan, so the numbers
shown and the model built cannot disagree. Also here: torchvision's Inception initialisation and
the profile recorders both networks use.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..i18n import N_, Message
from ..errors import ConfigError
from .fields import ConfigFields, check_bool, check_choice
from .limits import INCEPTION_MODULE as LIMITS
from .specs import AdaptiveAvgPool, BatchNorm, Conv, Dropout, Linear, Pool

FACTORIZE = ("none", "stacked", "asymmetric")
BRANCH3_KERNELS = (3, 5)  # the "5x5" branch: 5 in the paper, 3 in torchvision's GoogLeNet
BN_EPS = 0.001  # torchvision's BasicConv2d

# The six widths of a module, in the order of the paper's Table 1.
WIDTH_LABELS = ("#1x1", "#3x3 reduce", "#3x3", "#5x5 reduce", "#5x5", "pool proj")
# The same as a page shows them: the paper's terms, those with words translated, and what the
# three 1×1 convs of the reductions and projection do (the paper's term named there).
WIDTH_TITLES = ("#1×1", N_("#3×3 reduce"), "#3×3", N_("#5×5 reduce"), "#5×5", N_("pool proj"))
WIDTH_HELP = (None, N_("1×1 filters that cut the channels before the 3×3 conv (the GoogLeNet paper's Table 1: "
                       "“#3×3 reduce”)"),
              None, N_("1×1 filters that cut the channels before the 5×5 conv (the GoogLeNet paper's Table 1: "
                       "“#5×5 reduce”)"),
              None, N_("1×1 filters after the 3×3 max pooling: the pool branch's output channels (the GoogLeNet "
                       "paper's Table 1: “pool proj”)"))


def check_width(value, label: str) -> None:
    """One conv width of a module (GoogLeNet checks its nine modules' with this too)."""
    LIMITS["width"].check("widths", value, label=label,
                          hint=Message(N_("a zero-width branch leaves no output")) if value == 0 else "")


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
class InceptionModuleConfig(ConfigFields):
    in_channels: int = 192  # channels entering the module
    widths: tuple[int, ...] = (64, 96, 128, 16, 32, 32)  # #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj
    input_size: int = 28  # square feature map, pixels per side (every branch keeps it)
    reduction: bool = True  # 1x1 convs before the 3x3 and 5x5 and after the pool
    factorize: str = "none"  # "stacked": 5x5 as two 3x3; "asymmetric": n x n as 1 x n then n x 1
    branch3_kernel: int = 5  # the "5x5" branch's kernel; torchvision's GoogLeNet uses 3

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "widths", tuple(self.widths))
        except TypeError:
            raise ConfigError("widths", N_("must be 6 integers ({labels})"), labels=", ".join(WIDTH_LABELS)) from None
        validate_module(self)

    @property
    def out_channels(self) -> int:
        ch1x1, _, ch3x3, _, ch5x5, pool_proj = self.widths
        return ch1x1 + ch3x3 + ch5x5 + (pool_proj if self.reduction else self.in_channels)


def validate_module(config: InceptionModuleConfig) -> None:
    LIMITS["in_channels"].check("in_channels", config.in_channels)
    if len(config.widths) != 6:
        raise ConfigError("widths", N_("needs 6 widths ({labels}), got {got}"), labels=", ".join(WIDTH_LABELS),
                          got=len(config.widths))
    used = range(6) if config.reduction else (0, 2, 4)  # the reductions and pool proj are unused without 1x1s
    for i in used:
        check_width(config.widths[i], WIDTH_LABELS[i])
    LIMITS["module_size"].check("input_size", config.input_size, label=Message(N_("size")))
    check_bool("reduction", config.reduction)
    check_choice("factorize", config.factorize, FACTORIZE)
    check_choice("branch3_kernel", config.branch3_kernel, BRANCH3_KERNELS)


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


class Inception(nn.Module):
    """Four branches concatenated; ``branch1`` is one BasicConv2d, the others are Sequentials."""

    def __init__(self, plan: ModulePlan) -> None:
        super().__init__()
        first, *rest = plan.branches
        self.branch1 = first.steps[0].build()
        for i, branch in enumerate(rest, start=2):
            self.add_module(f"branch{i}", nn.Sequential(*(s.build() for s in branch.steps)))

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


@torch.no_grad()
def truncated_normal_init(model: nn.Module, std_of) -> None:
    """torchvision's Inception initialisation: default BN, conv and linear weights from a normal
    truncated to [-2, 2] with the standard deviation ``std_of(module)``."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear, nn.BatchNorm2d)):
            m.reset_parameters()
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.trunc_normal_(m.weight, mean=0.0, std=std_of(m), a=-2, b=2)


# --- the analytic profile of the same plan --------------------------------------------------------

def record_unit(rec, prefix: str, unit: ConvBN, c: int, h: int, w: int) -> tuple[int, int, int]:
    """conv -> BN -> in-place ReLU: BN keeps the conv output; the ReLU keeps its result (BN's output)."""
    c, h, w = rec.add(f"{prefix}.conv", unit.conv, c, h, w, output_saved=True)
    return rec.add(f"{prefix}.bn", unit.bn, c, h, w, output_saved=True)


def record_pool(rec, name: str, pool: Pool, c: int, h: int, w: int, output_saved: bool):
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
            c, h, w = record_unit(rec, name, step, c, h, w)
        else:
            c, h, w = record_pool(rec, name, step, c, h, w, output_saved=True)
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
                c, bh, bw = record_unit(rec, name, step, c, bh, bw)
            else:  # the pool's output is kept by the projection after it, if there is one
                c, bh, bw = record_pool(rec, name, step, c, bh, bw, output_saved=j < len(branch.steps) - 1)
    rec.add_pseudo(f"{prefix}.cat", "concat", plan.out_channels, h, w, output_saved=output_saved,
                   in_channels=c_in)
    return plan.out_channels, h, w


def record_dropout(rec, name: str, dropout: Dropout, features: int) -> tuple[int, int, int]:
    """Dropout on a vector: on the CPU it keeps a float32 noise tensor, and the next layer keeps its output."""
    noise = rec.tensor_bytes(features, 1, 1) if dropout.p > 0 else 0
    return rec.add(name, dropout, features, 1, 1, output_saved=dropout.p > 0, extra_bytes=noise)


def record_head(rec, dropout: Dropout, fc: Linear, c: int, h: int, w: int) -> None:
    """Global average pool, dropout and the classifier (GoogLeNet's and Inception v3's)."""
    rec.block = "head"
    rec.add("avgpool", AdaptiveAvgPool(1), c, h, w, output_saved=dropout.p == 0)  # else the classifier keeps it
    record_dropout(rec, "dropout", dropout, c)
    rec.add("fc", fc, c, 1, 1, output_saved=False)
