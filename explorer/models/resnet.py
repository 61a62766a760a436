"""ResNet, ResNeXt and wide ResNets, configurable, with torchvision's module names.

He et al. 2016 (residual blocks: H(x) = F(x) + x), Xie et al. 2017 (ResNeXt: the bottleneck's 3x3 split
into C groups, "cardinality") and Zagoruyko & Komodakis 2016 (wide ResNets: a wider bottleneck).
``resnet_plan(config)`` turns a config into the stem, each stage's block plans and the classifier;
``ResNet`` builds its modules from that plan and ``profile_resnet`` counts the same plan, so the live
model and the analytic numbers come from one description. Module names are torchvision's (``conv1``,
``layer3.5.conv2``, ``layer1.0.downsample.0``, ``fc``), so its state dicts load with ``strict=True``.

As in torchvision (ResNet "v1.5"), a bottleneck strides in its 3x3 conv, not in the first 1x1, and a
block's shortcut is a 1x1 conv + BN ("projection", the paper's option B) where the map or the channel
count changes, else the identity.

**The concatenation switch** (``shortcut="concat"``, for teaching, not a published model): every block
merges with ``cat([shortcut, F(x)])`` instead of ``shortcut + F(x)``; nothing else changes (same
layers, same widths, same projections on each stage's first block, ReLU after the merge). Each block
then adds its branch's output width to the channels, like a dense layer with growth rate k = that
width: a stage of n blocks on k0 channels (k0 = the projection's width where there is one) ends with
k0 + n*k channels, and every later conv reads all of them, which is what concatenation costs. The
next stage's projection (1x1 conv, stride 2) plays DenseNet's transition, compressing back to k.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..errors import ConfigError
from ..i18n import N_, Message
from .fields import ConfigFields, check_choice
from .limits import RESNET as LIMITS
from .specs import AdaptiveAvgPool, BatchNorm, Conv, Linear, Pool, ReLU

BLOCKS = ("basic", "bottleneck")
EXPANSION = {"basic": 1, "bottleneck": 4}  # a block's output channels per plane
STEMS = ("imagenet", "cifar")
SHORTCUTS = ("add", "concat")


@dataclass(frozen=True)
class ResNetConfig(ConfigFields):
    block: str = "bottleneck"  # "basic": two 3x3 convs (ResNet-18/34); "bottleneck": 1x1-3x3-1x1, 4x out
    layers: tuple[int, ...] = (3, 4, 6, 3)  # residual blocks per stage
    base_width: int = 64  # stem channels and stage-1 planes; planes double each stage (torchvision: 64)
    cardinality: int = 1  # C: groups of each bottleneck's 3x3 conv (ResNeXt: 32, 64)
    width_per_group: int = 64  # d: channels per group at 64 planes; the 3x3 is floor(planes*d/64)*C wide
    stem: str = "imagenet"  # "imagenet": 7x7/2 conv + 3x3/2 max pool; "cifar": 3x3 conv, no pooling
    input_size: int = 224  # square input, pixels per side
    num_classes: int = 1000
    shortcut: str = "add"  # "add": F(x) + x (ResNet); "concat": [x, F(x)], a dense stage (teaching only)

    def __post_init__(self) -> None:
        try:
            layers = tuple(int(n) for n in self.layers)
        except (TypeError, ValueError):
            raise ConfigError("layers", N_("must be a list of integers, got {value}"),
                              value=repr(self.layers)) from None
        object.__setattr__(self, "layers", layers)
        validate_fields(self.__dict__)

    @property
    def depth(self) -> int:
        """Layers with weights as the papers count them (50 for ResNet-50): the stem conv, every
        conv of the residual branches and the classifier; the shortcuts' projections are not counted."""
        return 1 + (3 if self.block == "bottleneck" else 2) * sum(self.layers) + 1

    @property
    def stage_planes(self) -> tuple[int, ...]:
        return tuple(self.base_width * 2**i for i in range(len(self.layers)))


def validate_fields(fields: dict) -> None:
    """Raise ConfigError naming the first field outside its allowed range. ``fields`` holds every
    ResNetConfig field (``to_dict()`` shape, ``layers`` already a tuple of integers)."""
    check_choice("block", fields["block"], BLOCKS)
    layers = fields["layers"]
    if len(layers) not in LIMITS["num_stages"]:
        low, high = LIMITS["num_stages"]
        raise ConfigError("layers", N_("must have {low} to {high} stages, got {n}"), low=low, high=high,
                          n=len(layers))
    for i, n in enumerate(layers):
        LIMITS["stage_blocks"].check("layers", n, label=Message(N_("layers (stage {n})"), n=i + 1))
    for name in ("base_width", "cardinality", "width_per_group", "input_size", "num_classes"):
        LIMITS[name].check(name, fields[name])
    check_choice("stem", fields["stem"], STEMS)
    check_choice("shortcut", fields["shortcut"], SHORTCUTS)
    if fields["block"] == "basic":  # torchvision's BasicBlock refuses groups and widths too
        if fields["cardinality"] != 1:
            raise ConfigError("cardinality", N_("must be 1 with basic blocks (two dense 3x3 convs), got {value}; "
                                                "choose bottleneck blocks to split the 3x3 into groups"),
                              value=fields["cardinality"])
        if fields["width_per_group"] != 64:
            raise ConfigError("width_per_group", N_("must be 64 with basic blocks, got {value}; choose bottleneck "
                                                    "blocks to change the 3x3's width"),
                              value=fields["width_per_group"])
    elif fields["base_width"] * fields["width_per_group"] < 64:
        minimum = -(-64 // fields["base_width"])
        raise ConfigError("width_per_group", N_("{value} leaves stage 1's groups with no channels at base width "
                                                "{base}; use at least {minimum}"),
                          value=fields["width_per_group"], base=fields["base_width"], minimum=minimum)


# --- the plan: one description of the architecture -------------------------------------------

@dataclass(frozen=True)
class BlockPlan:
    in_channels: int
    stride: int
    branch: tuple[tuple[str, object], ...]  # (torchvision name, spec) in forward order; "relu" is one module
    downsample: tuple[Conv, BatchNorm] | None  # the shortcut's projection, or None for the identity
    merge: str  # "add" or "concat"

    @property
    def branch_channels(self) -> int:
        return self.branch[-1][1].num_features  # the last BN

    @property
    def shortcut_channels(self) -> int:
        return self.downsample[0].out_channels if self.downsample else self.in_channels

    @property
    def out_channels(self) -> int:
        if self.merge == "concat":
            return self.shortcut_channels + self.branch_channels
        return self.branch_channels


def block_plan(block: str, in_channels: int, planes: int, stride: int = 1, cardinality: int = 1,
               width_per_group: int = 64, merge: str = "add", project: bool | None = None) -> BlockPlan:
    """One residual block as torchvision builds it. ``project``: give the shortcut a 1x1 conv + BN
    (default: where addition needs one, i.e. the stride or the channel count changes)."""
    out = planes * EXPANSION[block]
    if block == "bottleneck":
        width = planes * width_per_group // 64 * cardinality  # torchvision: int(planes * (d / 64.0)) * C
        branch = (("conv1", Conv(in_channels, width, 1)), ("bn1", BatchNorm(width)), ("relu", ReLU()),
                  ("conv2", Conv(width, width, 3, stride, 1, groups=cardinality)), ("bn2", BatchNorm(width)),
                  ("relu", ReLU()),
                  ("conv3", Conv(width, out, 1)), ("bn3", BatchNorm(out)))
    else:
        branch = (("conv1", Conv(in_channels, planes, 3, stride, 1)), ("bn1", BatchNorm(planes)), ("relu", ReLU()),
                  ("conv2", Conv(planes, planes, 3, 1, 1)), ("bn2", BatchNorm(planes)))
    if project is None:
        project = stride != 1 or in_channels != out
    downsample = (Conv(in_channels, out, 1, stride), BatchNorm(out)) if project else None
    return BlockPlan(in_channels, stride, branch, downsample, merge)


@dataclass(frozen=True)
class ResNetPlan:
    config: ResNetConfig
    stem: tuple[tuple[str, object], ...]  # (name, spec): conv1, bn1, relu[, maxpool]
    stages: tuple[tuple[BlockPlan, ...], ...]  # layer1, layer2, ...
    fc: Linear

    @property
    def stage_out_channels(self) -> tuple[int, ...]:
        return tuple(blocks[-1].out_channels for blocks in self.stages)


@functools.lru_cache(maxsize=256)
def resnet_plan(config: ResNetConfig) -> ResNetPlan:
    """The plan of a (frozen, hashable) config; memoised: the profile and the module reuse it."""
    c = config.base_width
    if config.stem == "imagenet":
        stem = (("conv1", Conv(3, c, 7, 2, 3)), ("bn1", BatchNorm(c)), ("relu", ReLU()),
                ("maxpool", Pool("max", 3, 2, 1)))
    else:
        stem = (("conv1", Conv(3, c, 3, 1, 1)), ("bn1", BatchNorm(c)), ("relu", ReLU()))
    stages = []
    for i, (planes, n) in enumerate(zip(config.stage_planes, config.layers)):
        blocks = []
        for j in range(n):
            stride = 2 if i > 0 and j == 0 else 1
            out = planes * EXPANSION[config.block]
            project = j == 0 and (stride != 1 or c != out)  # later blocks: identity (as addition has it)
            plan = block_plan(config.block, c, planes, stride, config.cardinality, config.width_per_group,
                              config.shortcut, project)
            blocks.append(plan)
            c = plan.out_channels
        stages.append(tuple(blocks))
    return ResNetPlan(config, stem, tuple(stages), Linear(c, config.num_classes))


# --- the module ---------------------------------------------------------------------------------

class _ResidualBlock(nn.Module):
    """torchvision's BasicBlock / Bottleneck, built from a block plan (same names, same forward)."""

    def __init__(self, plan: BlockPlan) -> None:
        super().__init__()
        for name, spec in plan.branch:
            if name not in self._modules:  # one ReLU module, called after each BN, as in torchvision
                self.add_module(name, spec.build())
        self.downsample = (nn.Sequential(plan.downsample[0].build(), plan.downsample[1].build())
                           if plan.downsample else None)
        self.stride = plan.stride
        self._steps = [name for name, _ in plan.branch]
        self._concat = plan.merge == "concat"

    def forward(self, x: Tensor) -> Tensor:
        out = x
        for name in self._steps:
            out = self._modules[name](out)
        identity = x if self.downsample is None else self.downsample(x)
        if self._concat:
            out = torch.cat([identity, out], 1)
        else:
            out += identity  # in place, as torchvision: the sum keeps no extra storage
        return self.relu(out)


class BasicBlock(_ResidualBlock):
    expansion = EXPANSION["basic"]


class Bottleneck(_ResidualBlock):
    expansion = EXPANSION["bottleneck"]


class ResNet(nn.Module):
    """ResNet / ResNeXt / wide ResNet built from a config; state dicts are interchangeable with torchvision's."""

    def __init__(self, config: ResNetConfig) -> None:
        super().__init__()
        self.config = config
        plan = resnet_plan(config)
        for name, spec in plan.stem:
            self.add_module(name, spec.build())
        self._stem = [name for name, _ in plan.stem]
        block_class = Bottleneck if config.block == "bottleneck" else BasicBlock
        self._stages = []
        for i, blocks in enumerate(plan.stages):
            self.add_module(f"layer{i + 1}", nn.Sequential(*(block_class(b) for b in blocks)))
            self._stages.append(f"layer{i + 1}")
        self.avgpool = AdaptiveAvgPool(1).build()
        self.fc = plan.fc.build()
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """torchvision's initialisation: Kaiming-normal convs (fan out), unit BN, PyTorch's default Linear."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                m.reset_running_stats()
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                m.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        for name in self._stem + self._stages:
            x = self._modules[name](x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


# --- presets (torchvision's builders, with the papers' numbers) -----------------------------------

PRESETS: dict[str, ResNetConfig] = {
    "resnet18": ResNetConfig("basic", (2, 2, 2, 2)),  # 11.7M params, 1.81 GMACs
    "resnet34": ResNetConfig("basic", (3, 4, 6, 3)),  # 21.8M, 3.66 GMACs
    "resnet50": ResNetConfig("bottleneck", (3, 4, 6, 3)),  # 25.6M, 4.09 GMACs
    "resnet101": ResNetConfig("bottleneck", (3, 4, 23, 3)),  # 44.5M, 7.80 GMACs
    "resnet152": ResNetConfig("bottleneck", (3, 8, 36, 3)),  # 60.2M, 11.5 GMACs
    "resnext50_32x4d": ResNetConfig("bottleneck", (3, 4, 6, 3), cardinality=32, width_per_group=4),  # 25.0M, 4.23
    "resnext101_32x8d": ResNetConfig("bottleneck", (3, 4, 23, 3), cardinality=32, width_per_group=8),  # 88.8M, 16.4
    "resnext101_64x4d": ResNetConfig("bottleneck", (3, 4, 23, 3), cardinality=64, width_per_group=4),  # 83.5M, 15.5
    "wide_resnet50_2": ResNetConfig("bottleneck", (3, 4, 6, 3), width_per_group=128),  # 68.9M, 11.4 GMACs
    "wide_resnet101_2": ResNetConfig("bottleneck", (3, 4, 23, 3), width_per_group=128),  # 126.9M, 22.8 GMACs
}

PRESET_DESCRIPTIONS = {
    "resnet18": N_("ImageNet, ResNet-18: basic blocks 2-2-2-2 (He et al. 2016, Table 1)"),
    "resnet34": N_("ImageNet, ResNet-34: basic blocks 3-4-6-3 (He et al. 2016, Table 1)"),
    "resnet50": N_("ImageNet, ResNet-50: bottleneck blocks 3-4-6-3 (He et al. 2016, Table 1; torchvision's v1.5)"),
    "resnet101": N_("ImageNet, ResNet-101: bottleneck blocks 3-4-23-3 (He et al. 2016, Table 1)"),
    "resnet152": N_("ImageNet, ResNet-152: bottleneck blocks 3-8-36-3 (He et al. 2016, Table 1)"),
    "resnext50_32x4d": N_("ImageNet, ResNeXt-50: cardinality 32, 4 channels per group, blocks 3-4-6-3 "
                          "(Xie et al. 2017)"),
    "resnext101_32x8d": N_("ImageNet, ResNeXt-101: cardinality 32, 8 channels per group, blocks 3-4-23-3 "
                           "(Xie et al. 2017)"),
    "resnext101_64x4d": N_("ImageNet, ResNeXt-101: cardinality 64, 4 channels per group, blocks 3-4-23-3 "
                           "(Xie et al. 2017)"),
    "wide_resnet50_2": N_("ImageNet, wide ResNet-50-2: each bottleneck's 3x3 twice as wide, blocks 3-4-6-3 "
                          "(Zagoruyko & Komodakis 2016)"),
    "wide_resnet101_2": N_("ImageNet, wide ResNet-101-2: each bottleneck's 3x3 twice as wide, blocks 3-4-23-3 "
                           "(Zagoruyko & Komodakis 2016)"),
}


# --- the analytic profile of the same plan ------------------------------------------------------

def profile_resnet(config: ResNetConfig, batch_size: int = 1, preset: str | None = None,
                   totals_only: bool = False):
    """Count the plan that ``ResNet`` is built from; see ``profile.py`` for the conventions.

    What autograd keeps (measured with saved_tensors_hooks, see the tests): each conv's output (its
    BN reads it) and each BN's output (the in-place ReLU keeps its result, the next conv reads it),
    except the last BN of a branch and the projection's BN when a concatenation consumes them; the
    in-place sum keeps nothing and the ReLU after it keeps the block output; a concatenation's
    output is kept (by that ReLU); max pooling keeps int64 indices; the classifier keeps its input.
    """
    from .profile import Profile, ProfileRecorder  # local: profile.py imports no architecture

    plan = resnet_plan(config)
    rec = ProfileRecorder(batch_size, keep_rows=not totals_only)
    size = config.input_size
    rec.block = "stem"
    rec.add_pseudo("input", "input", 3, size, size, output_saved=True)  # conv1 keeps the image
    c, h, w = 3, size, size
    for name, spec in plan.stem:
        extra = 0
        if spec.kind == "maxpool":
            oh, ow = spec.output_hw(h, w)
            extra = rec.tensor_bytes(c, oh, ow, itemsize=8)  # int64 indices
        c, h, w = rec.add(name, spec, c, h, w, output_saved=spec.kind != "relu", extra_bytes=extra)

    concat = config.shortcut == "concat"
    kinds, counts = {"stem": "stem", "head": "head"}, {"stem": 1, "head": 1}
    for s, blocks in enumerate(plan.stages):
        stage = f"layer{s + 1}"
        rec.block = stage
        kinds[stage], counts[stage] = ("dense" if concat else "residual"), len(blocks)
        for j, block in enumerate(blocks):
            prefix = f"{stage}.{j}"
            bc, bh, bw = c, h, w
            for i, (name, spec) in enumerate(block.branch):
                consumed_by_cat = concat and i == len(block.branch) - 1
                bc, bh, bw = rec.add(f"{prefix}.{name}", spec, bc, bh, bw,
                                     output_saved=spec.kind != "relu" and not consumed_by_cat)
            if block.downsample:
                conv, bn = block.downsample
                sc, sh, sw = rec.add(f"{prefix}.downsample.0", conv, c, h, w, output_saved=True)
                rec.add(f"{prefix}.downsample.1", bn, sc, sh, sw, output_saved=False)  # the merge reads it
            merged = block.out_channels
            if concat:
                rec.add_pseudo(f"{prefix}.cat", "concat", merged, bh, bw, output_saved=True, in_channels=c)
            else:
                rec.add_pseudo(f"{prefix}.add", "add", merged, bh, bw, output_saved=False, in_channels=bc)
            c, h, w = rec.add(f"{prefix}.relu", ReLU(), merged, bh, bw, output_saved=False)

    rec.block = "head"
    rec.add("avgpool", AdaptiveAvgPool(1), c, h, w, output_saved=True)  # the classifier keeps its input
    rec.add("fc", plan.fc, c, 1, 1, output_saved=False)
    if totals_only:
        return rec.totals
    return Profile("resnet", preset, config.to_dict(), (3, size, size), batch_size, rec.rows,
                   rec.blocks(kinds, counts))


# --- the cardinality view: one bottleneck block at equal compute (ResNeXt paper, Table 2) ----------

# (cardinality C, bottleneck width d) of the ResNeXt paper's Table 2: about the same params and MACs
# as the ResNet-50 bottleneck (1 x 64d) for each, in the conv2 stage (256 channels in and out, 56x56).
RESNEXT_TABLE2 = ((1, 64), (2, 40), (4, 24), (8, 14), (32, 4))


@dataclass(frozen=True)
class CardinalityRow:
    cardinality: int  # C: parallel paths (groups of the 3x3)
    width_per_group: int  # d: channels of each path
    group_width: int  # C*d: the width of the grouped 3x3
    conv_weights: int  # the block's three convs
    params: int  # convs and BNs
    macs: int  # per image, at the block's map size
    grouped_3x3_weights: int  # the grouped 3x3: (C*d) * d * 9
    dense_3x3_weights: int  # a dense 3x3 of the same width: (C*d)^2 * 9, C times more

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def cardinality_family(family=RESNEXT_TABLE2, in_channels: int = 256, planes: int = 64,
                       size: int = 56) -> list[CardinalityRow]:
    """One bottleneck block (stride 1, identity shortcut) at each (C, d) of ``family``: the same
    ``block_plan`` the ResNet is built from, counted. The defaults are the paper's conv2 stage."""
    rows = []
    for groups, d in family:
        plan = block_plan("bottleneck", in_channels, planes, 1, groups, d, project=False)
        convs = [spec for _, spec in plan.branch if spec.kind == "conv"]
        conv2 = dict(plan.branch)["conv2"]
        dense = Conv(conv2.in_channels, conv2.out_channels, conv2.kernel_size)
        rows.append(CardinalityRow(
            groups, d, conv2.out_channels, sum(c.kernel_weights for c in convs),
            sum(spec.params() for _, spec in plan.branch), sum(c.macs(size, size) for c in convs),
            conv2.kernel_weights, dense.kernel_weights))
    return rows
