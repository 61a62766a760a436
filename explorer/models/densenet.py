"""DenseNet (Huang et al., CVPR 2017), configurable, with torchvision's module names.

``densenet_plan(config)`` turns a config into a tree of layer specs. ``DenseNet`` builds its
modules from that plan and ``profile_densenet`` counts the same plan, so the live model and
the analytic numbers come from one description.
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from torch import Tensor, nn

from ..i18n import N_, Message
from ..errors import ConfigError
from .fields import ConfigFields, as_typed, check_bool, check_choice
from .limits import DENSENET as LIMITS
from .specs import AdaptiveAvgPool, BatchNorm, Conv, Linear, Pool, ReLU

STEMS = ("imagenet", "cifar")


@dataclass(frozen=True)
class DenseNetConfig(ConfigFields):
    growth_rate: int = 32  # k: feature maps each layer adds
    block_config: tuple[int, ...] = (6, 12, 24, 16)  # layers per dense block
    num_init_features: int = 64  # channels out of the stem
    bottleneck: bool = True  # 1x1 conv to bn_size*k before each 3x3 (DenseNet-B)
    bn_size: int = 4  # bottleneck width multiplier (4 -> 4k channels)
    compression: float = 0.5  # theta: a transition keeps floor(theta*m) of m channels (DenseNet-C)
    drop_rate: float = 0.0  # dropout after each layer's last conv
    stem: str = "imagenet"  # "imagenet": 7x7/2 conv + 3x3/2 max pool; "cifar": 3x3 conv
    input_size: int = 224  # square input, pixels per side
    num_classes: int = 1000
    memory_efficient: bool = False  # checkpoint concat->BN->ReLU->conv1 (Pleiss et al. 2017)

    def __post_init__(self) -> None:
        try:
            blocks = tuple(int(n) for n in self.block_config)
        except (TypeError, ValueError):
            raise ConfigError("block_config", N_("must be a list of integers, got {value}"),
                              value=repr(self.block_config)) from None
        object.__setattr__(self, "block_config", blocks)
        validate_fields(self.__dict__)
        densenet_plan(self)  # raises if channels or the feature map shrink to nothing

    @property
    def variant(self) -> str:
        """The paper's name for these settings: DenseNet, DenseNet-B, -C or -BC."""
        suffix = ("B" if self.bottleneck else "") + ("C" if self.compression < 1 else "")
        return f"DenseNet-{suffix}" if suffix else "DenseNet"

    @classmethod
    def cifar(cls, depth: int, growth_rate: int, bottleneck: bool = True, **fields) -> DenseNetConfig:
        """The paper's CIFAR shape (Table 2) of depth L: three dense blocks of (L - 4) / 6 layers
        for DenseNet-BC (two convs each, theta 0.5, 2k stem features) or (L - 4) / 3 for DenseNet
        (one conv each, theta 1, 16 stem features), the CIFAR stem at 32 px, 10 classes; ``fields``
        replace any of these (``input_size=16, compression=0.25``)."""
        layers, rest = divmod(depth - 4, 6 if bottleneck else 3)
        if layers < 1 or rest:
            if bottleneck:
                raise ConfigError("depth", N_("DenseNet-BC depth L must be 6n+4 with n >= 1 (10, 16, 22, 28, 34, 40, "
                                              "...), got {depth}"), depth=depth)
            raise ConfigError("depth", N_("DenseNet depth L must be 3n+4 with n >= 1 (7, 10, 13, 16, ...), "
                                          "got {depth}"), depth=depth)
        shape = dict(growth_rate=growth_rate, block_config=(layers,) * 3,
                     num_init_features=2 * growth_rate if bottleneck else 16, bottleneck=bottleneck,
                     compression=0.5 if bottleneck else 1.0, stem="cifar", input_size=32, num_classes=10)
        return cls(**{**shape, **fields})

    @property
    def depth(self) -> int:
        """L as the paper counts it: conv and linear layers with weights."""
        convs_per_layer = 2 if self.bottleneck else 1
        transitions = len(self.block_config) - 1
        return 1 + convs_per_layer * sum(self.block_config) + transitions + 1


def validate_fields(fields: dict) -> None:
    """Raise ConfigError naming the first field outside its allowed range. ``fields`` holds every
    DenseNetConfig field (``to_dict()`` shape): the config checks itself with this, and the
    sweep's fast path checks each grid point without building a config. The plan's own checks
    (channels or the map shrinking to nothing) run where the plan is counted."""
    for name, allowed in LIMITS.items():
        if name in fields:  # num_blocks and block_layers bound block_config, below
            allowed.check(name, fields[name])
    blocks = fields["block_config"]
    if len(blocks) not in LIMITS["num_blocks"]:
        low, high = LIMITS["num_blocks"]
        raise ConfigError("block_config", N_("must have {low} to {high} dense blocks, got {n}"), low=low, high=high,
                          n=len(blocks))
    for i, n in enumerate(blocks):
        LIMITS["block_layers"].check("block_config", n, label=Message(N_("block_config (block {n})"), n=i + 1))
    check_choice("stem", fields["stem"], STEMS)
    check_bool("bottleneck", fields["bottleneck"])
    check_bool("memory_efficient", fields["memory_efficient"])


def transition_channels(channels: int, compression: float) -> int:
    """floor(theta * m), exactly: theta is read as the decimal the user typed (0.7, not 0.69999...)."""
    return math.floor(as_typed(compression) * channels)


# --- the plan: one description of the architecture -------------------------------------

@dataclass(frozen=True)
class DenseLayerPlan:
    in_channels: int
    norm1: BatchNorm
    conv1: Conv  # 1x1 bottleneck, or the 3x3 conv when there is no bottleneck
    norm2: BatchNorm | None
    conv2: Conv | None  # the 3x3 conv after the bottleneck


@dataclass(frozen=True)
class TransitionPlan:
    norm: BatchNorm
    conv: Conv
    pool: Pool


@dataclass(frozen=True)
class DenseNetPlan:
    config: DenseNetConfig
    stem: tuple[tuple[str, object], ...]  # (module name, spec) inside `features`
    blocks: tuple[tuple[DenseLayerPlan, ...], ...]
    transitions: tuple[TransitionPlan, ...]
    norm5: BatchNorm
    classifier: Linear
    block_out_channels: tuple[int, ...] = field(default=())


@functools.lru_cache(maxsize=256)
def densenet_plan(config: DenseNetConfig) -> DenseNetPlan:
    """The plan of a (frozen, hashable) config; memoised: validation builds it, the profile and
    the module reuse it."""
    k = config.growth_rate
    c0 = config.num_init_features
    if config.stem == "imagenet":
        stem = (
            ("conv0", Conv(3, c0, 7, stride=2, padding=3)),
            ("norm0", BatchNorm(c0)),
            ("relu0", ReLU()),
            ("pool0", Pool("max", 3, 2, 1)),
        )
    else:
        stem = (("conv0", Conv(3, c0, 3, stride=1, padding=1)),)

    size = config.input_size
    for _, spec in stem:
        size = spec.output_hw(size, size)[0]
    if size < 1:
        raise ConfigError("input_size", N_("{size} px is too small for the stem"), size=config.input_size)

    channels = c0
    blocks, transitions, block_out = [], [], []
    for b, num_layers in enumerate(config.block_config):
        layers = []
        for _ in range(num_layers):
            if config.bottleneck:
                width = config.bn_size * k
                layers.append(DenseLayerPlan(channels, BatchNorm(channels), Conv(channels, width, 1),
                                             BatchNorm(width), Conv(width, k, 3, padding=1)))
            else:
                layers.append(DenseLayerPlan(channels, BatchNorm(channels), Conv(channels, k, 3, padding=1),
                                             None, None))
            channels += k
        blocks.append(tuple(layers))
        block_out.append(channels)
        if b < len(config.block_config) - 1:
            out = transition_channels(channels, config.compression)
            if out < 1:
                raise ConfigError("compression", N_("theta={theta} leaves no channels after block {block} "
                                     "({channels} channels); raise theta"),
                                  theta=config.compression, block=b + 1, channels=channels)
            transitions.append(TransitionPlan(BatchNorm(channels), Conv(channels, out, 1), Pool("avg", 2, 2)))
            size = size // 2
            if size < 1:
                minimum = _minimum_input_size(config)
                raise ConfigError("input_size", N_("{size} px shrinks to nothing after transition {n}; use at "
                                    "least {minimum} px or fewer blocks"),
                                  size=config.input_size, n=b + 1, minimum=minimum)
            channels = out
    return DenseNetPlan(config, stem, tuple(blocks), tuple(transitions), BatchNorm(channels),
                        Linear(channels, config.num_classes), tuple(block_out))


def _minimum_input_size(config: DenseNetConfig) -> int:
    """Smallest input that still leaves a 1x1 map after the last transition."""
    size = 1
    while True:
        s = size
        if config.stem == "imagenet":
            s = conv_out = (s + 6 - 7) // 2 + 1
            s = (conv_out + 2 - 3) // 2 + 1
        if s >= 2 ** (len(config.block_config) - 1):
            return size
        size += 1


# --- the module -------------------------------------------------------------------------

class _DenseLayer(nn.Module):
    def __init__(self, plan: DenseLayerPlan, drop_rate: float, memory_efficient: bool) -> None:
        super().__init__()
        self.norm1 = plan.norm1.build()
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = plan.conv1.build()
        if plan.conv2 is not None:
            self.norm2 = plan.norm2.build()
            self.relu2 = nn.ReLU(inplace=True)
            self.conv2 = plan.conv2.build()
        self.bottleneck = plan.conv2 is not None
        self.drop_rate = float(drop_rate)
        self.memory_efficient = memory_efficient

    def bn_function(self, inputs: list[Tensor]) -> Tensor:
        # The concatenation and the first BN-ReLU-conv are what grows quadratically with depth.
        return self.conv1(self.relu1(self.norm1(torch.cat(inputs, 1))))

    def forward(self, inputs: list[Tensor]) -> Tensor:
        if self.memory_efficient and any(t.requires_grad for t in inputs):
            # Recompute the concatenation in backward instead of storing it (torchvision's choice).
            out = cp.checkpoint(lambda *xs: self.bn_function(list(xs)), *inputs, use_reentrant=False)
        else:
            out = self.bn_function(inputs)
        if self.bottleneck:
            out = self.conv2(self.relu2(self.norm2(out)))
        if self.drop_rate > 0:
            out = F.dropout(out, p=self.drop_rate, training=self.training)
        return out


class _DenseBlock(nn.ModuleDict):
    def __init__(self, layers: tuple[DenseLayerPlan, ...], drop_rate: float, memory_efficient: bool) -> None:
        super().__init__()
        for j, layer in enumerate(layers):
            self.add_module(f"denselayer{j + 1}", _DenseLayer(layer, drop_rate, memory_efficient))

    def forward(self, init_features: Tensor) -> Tensor:
        features = [init_features]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


class _Transition(nn.Sequential):
    def __init__(self, plan: TransitionPlan) -> None:
        super().__init__()
        self.norm = plan.norm.build()
        self.relu = nn.ReLU(inplace=True)
        self.conv = plan.conv.build()
        self.pool = plan.pool.build()


class DenseNet(nn.Module):
    """DenseNet built from a config; state dicts are interchangeable with torchvision's."""

    def __init__(self, config: DenseNetConfig) -> None:
        super().__init__()
        self.config = config
        plan = densenet_plan(config)
        self.features = nn.Sequential(OrderedDict((name, spec.build()) for name, spec in plan.stem))
        for i, layers in enumerate(plan.blocks):
            self.features.add_module(f"denseblock{i + 1}",
                                     _DenseBlock(layers, config.drop_rate, config.memory_efficient))
            if i < len(plan.transitions):
                self.features.add_module(f"transition{i + 1}", _Transition(plan.transitions[i]))
        self.features.add_module("norm5", plan.norm5.build())
        # Not in place: Grad-CAM reads this module's output through a backward hook.
        self.features.add_module("relu5", nn.ReLU(inplace=False))
        self.avgpool = AdaptiveAvgPool(1).build()
        self.classifier = plan.classifier.build()
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """torchvision's initialisation (Kaiming-normal convs, unit BN, zero biases)."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                m.reset_running_stats()
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5))
                nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        out = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(out, 1))


# --- presets (paper Table 1 for ImageNet, Table 2 for CIFAR) -----------------------------

PRESETS: dict[str, DenseNetConfig] = {
    "densenet121": DenseNetConfig(32, (6, 12, 24, 16), 64),  # 7.98M params, 2.83 GMACs
    "densenet169": DenseNetConfig(32, (6, 12, 32, 32), 64),  # 14.1M, 3.36 GMACs
    "densenet201": DenseNetConfig(32, (6, 12, 48, 32), 64),  # 20.0M, 4.29 GMACs
    "densenet161": DenseNetConfig(48, (6, 12, 36, 24), 96),  # 28.7M, 7.73 GMACs
    "densenet264": DenseNetConfig(32, (6, 12, 64, 48), 64),  # 33.3M, 5.75 GMACs
    "densenet-40-k12": DenseNetConfig.cifar(40, 12, bottleneck=False),  # 1.0M
    "densenet-100-k12": DenseNetConfig.cifar(100, 12, bottleneck=False),  # 7.0M
    "densenet-100-k24": DenseNetConfig.cifar(100, 24, bottleneck=False),  # 27.2M
    "densenet-bc-100-k12": DenseNetConfig.cifar(100, 12),  # 0.8M
    "densenet-bc-250-k24": DenseNetConfig.cifar(250, 24),  # 15.3M
    "densenet-bc-190-k40": DenseNetConfig.cifar(190, 40),  # 25.6M
}

PRESET_DESCRIPTIONS = {
    "densenet121": N_("ImageNet, k=32, blocks 6-12-24-16 (paper Table 1)"),
    "densenet169": N_("ImageNet, k=32, blocks 6-12-32-32 (paper Table 1)"),
    "densenet201": N_("ImageNet, k=32, blocks 6-12-48-32 (paper Table 1)"),
    "densenet161": N_("ImageNet, k=48, 96 stem features, blocks 6-12-36-24 (paper Table 1)"),
    "densenet264": N_("ImageNet, k=32, blocks 6-12-64-48 (paper Table 1)"),
    "densenet-40-k12": N_("CIFAR, L=40, k=12, no bottleneck, theta=1 (paper Table 2)"),
    "densenet-100-k12": N_("CIFAR, L=100, k=12, no bottleneck, theta=1 (paper Table 2)"),
    "densenet-100-k24": N_("CIFAR, L=100, k=24, no bottleneck, theta=1 (paper Table 2)"),
    "densenet-bc-100-k12": N_("CIFAR, DenseNet-BC L=100, k=12 (paper Table 2)"),
    "densenet-bc-250-k24": N_("CIFAR, DenseNet-BC L=250, k=24 (paper Table 2)"),
    "densenet-bc-190-k40": N_("CIFAR, DenseNet-BC L=190, k=40 (paper Table 2)"),
}


# --- the analytic profile of the same plan ------------------------------------------------

def profile_densenet(config: DenseNetConfig, batch_size: int = 1, preset: str | None = None):
    """Count the plan that ``DenseNet`` is built from; see ``profile.py`` for the conventions.

    What autograd keeps, op by op (measured with saved_tensors_hooks, see the tests):
    - each layer's concatenation is saved by norm1 and norm1's output by conv1, unless the
      layer is memory-efficient, in which case both are recomputed in backward and instead
      the checkpoint keeps its inputs: the block input and every earlier layer's new maps;
    - bottleneck output and norm2 output are kept in both modes;
    - a layer's new k maps are otherwise only read by later concatenations (copies), so they
      are not kept;
    - the block's final concatenation is kept by the next transition's BN (or norm5).
    """
    from .profile import Profile, ProfileRecorder  # local: profile.py imports no architecture

    plan = densenet_plan(config)
    efficient = config.memory_efficient
    rec = ProfileRecorder(batch_size)
    size = config.input_size
    rec.block = "stem"
    rec.add_pseudo("input", "input", 3, size, size, output_saved=True)  # conv0 keeps the image

    c, h, w = 3, size, size
    for name, spec in plan.stem:
        last_of_stem = name == plan.stem[-1][0]
        if spec.kind == "conv":
            keep = not last_of_stem or efficient  # BN keeps it; as block input only a checkpoint does
        elif spec.kind == "bn":
            keep = True  # read by the in-place ReLU and the max pool
        else:
            keep = last_of_stem and efficient and spec.kind != "relu"
        extra = 0
        if spec.kind == "maxpool":
            oh, ow = spec.output_hw(h, w)
            extra = rec.tensor_bytes(c, oh, ow, itemsize=8)  # int64 indices
        c, h, w = rec.add(f"features.{name}", spec, c, h, w, output_saved=keep and spec.kind != "relu",
                          extra_bytes=extra)

    k = config.growth_rate
    for b, layers in enumerate(plan.blocks):
        block = f"features.denseblock{b + 1}"
        rec.block = f"denseblock{b + 1}"
        for j, layer in enumerate(layers):
            prefix = f"{block}.denselayer{j + 1}"
            is_last = j == len(layers) - 1
            new_maps_kept = efficient and not is_last  # a later layer's checkpoint keeps them
            rec.add_pseudo(f"{prefix}.cat", "concat", layer.in_channels, h, w, output_saved=not efficient)
            rec.add(f"{prefix}.norm1", layer.norm1, layer.in_channels, h, w, output_saved=not efficient,
                    keep_stats=not efficient)  # inside the checkpoint nothing of norm1 is kept
            rec.add(f"{prefix}.relu1", ReLU(), layer.in_channels, h, w, output_saved=False)
            dropout = config.drop_rate > 0
            if layer.conv2 is None:
                rec.add(f"{prefix}.conv1", layer.conv1, layer.in_channels, h, w,
                        output_saved=new_maps_kept and not dropout)
            else:
                width = layer.conv1.out_channels
                rec.add(f"{prefix}.conv1", layer.conv1, layer.in_channels, h, w, output_saved=True)
                rec.add(f"{prefix}.norm2", layer.norm2, width, h, w, output_saved=True)
                rec.add(f"{prefix}.relu2", ReLU(), width, h, w, output_saved=False)
                rec.add(f"{prefix}.conv2", layer.conv2, width, h, w, output_saved=new_maps_kept and not dropout)
            if dropout:
                # On the CPU dropout multiplies by a float32 noise tensor and keeps it (CUDA keeps a
                # 1-byte mask instead); the profile follows the CPU, where the tests measure.
                rec.add_pseudo(f"{prefix}.dropout", "dropout", k, h, w, output_saved=new_maps_kept)
                rec.rows[-1].activation_bytes += rec.tensor_bytes(k, h, w)  # the noise tensor
                rec.activation_bytes += rec.tensor_bytes(k, h, w)
        rec.add_pseudo(f"{block}.cat", "concat", plan.block_out_channels[b], h, w, output_saved=True,
                       in_channels=layers[0].in_channels)
        c = plan.block_out_channels[b]
        if b < len(plan.transitions):
            t = plan.transitions[b]
            prefix = f"features.transition{b + 1}"
            rec.block = f"transition{b + 1}"
            rec.add(f"{prefix}.norm", t.norm, c, h, w, output_saved=True)
            rec.add(f"{prefix}.relu", ReLU(), c, h, w, output_saved=False)
            c, h, w = rec.add(f"{prefix}.conv", t.conv, c, h, w, output_saved=True)  # avg pool keeps it
            c, h, w = rec.add(f"{prefix}.pool", t.pool, c, h, w, output_saved=efficient)

    rec.block = "head"
    rec.add("features.norm5", plan.norm5, c, h, w, output_saved=False)  # relu5 is not in place
    rec.add("features.relu5", ReLU(inplace=False), c, h, w, output_saved=True)
    rec.add("avgpool", AdaptiveAvgPool(1), c, h, w, output_saved=True)  # the classifier keeps its input
    rec.add("classifier", plan.classifier, c, 1, 1, output_saved=False)

    kinds = {"stem": "stem", "head": "head"}
    counts = {"stem": 1, "head": 1}
    for b, layers in enumerate(plan.blocks):
        kinds[f"denseblock{b + 1}"] = "denseblock"
        counts[f"denseblock{b + 1}"] = len(layers)
        kinds[f"transition{b + 1}"] = "transition"
        counts[f"transition{b + 1}"] = 1
    return Profile("densenet", preset, config.to_dict(), (3, size, size), batch_size, rec.rows,
                   rec.blocks(kinds, counts))
