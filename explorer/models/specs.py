"""Layer specs: the single description that both builds modules and is counted.

Each spec is a small frozen dataclass. ``build()`` returns the ``nn.Module`` and the
counting methods (``params``, ``macs``, ``output_hw``) are plain arithmetic on the same
fields, so the live model and the analytic profile cannot disagree about a layer.

Conventions (shared with torchvision's "GFLOPS" metadata):
- MACs count multiply-accumulates of convolutions and linear layers only.
- FLOPs = 2 x MACs, which is what ``torch.utils.flop_counter.FlopCounterMode`` reports.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from torch import nn

FLOAT_BYTES = 4  # float32 activations and weights
INDEX_BYTES = 8  # int64 indices saved by max pooling


def conv_output_size(size: int, kernel: int, stride: int, padding: int, ceil_mode: bool = False) -> int:
    """Spatial output size of a convolution or pooling window along one axis."""
    span = size + 2 * padding - kernel
    if ceil_mode:
        out = -(-span // stride) + 1
        # PyTorch drops a last window that would start entirely in the right padding.
        if (out - 1) * stride >= size + padding:
            out -= 1
        return out
    return span // stride + 1


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


class _Elementwise:
    """Defaults for ops without MACs that keep the channel count (BN, ReLU, pooling, dropout)."""

    def params(self) -> int:
        return 0

    def output_hw(self, h: int, w: int) -> tuple[int, int]:
        return h, w

    def output_channels(self, in_channels: int) -> int:
        return in_channels

    def macs(self, out_h: int, out_w: int) -> int:
        return 0


@dataclass(frozen=True)
class Conv:
    in_channels: int
    out_channels: int
    kernel_size: int | tuple[int, int]
    stride: int | tuple[int, int] = 1
    padding: int | tuple[int, int] = 0
    groups: int = 1
    bias: bool = False
    kind = "conv"

    def build(self) -> nn.Conv2d:
        return nn.Conv2d(self.in_channels, self.out_channels, self.kernel_size, self.stride,
                         self.padding, groups=self.groups, bias=self.bias)

    @functools.cached_property  # specs are shared by memoised plans; counted once
    def kernel_weights(self) -> int:
        kh, kw = _pair(self.kernel_size)
        return self.out_channels * (self.in_channels // self.groups) * kh * kw

    def params(self) -> int:
        return self.kernel_weights + (self.out_channels if self.bias else 0)

    def output_hw(self, h: int, w: int) -> tuple[int, int]:
        (kh, kw), (sh, sw), (ph, pw) = _pair(self.kernel_size), _pair(self.stride), _pair(self.padding)
        return conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw)

    def output_channels(self, in_channels: int) -> int:
        return self.out_channels

    def macs(self, out_h: int, out_w: int) -> int:
        return self.kernel_weights * out_h * out_w


@dataclass(frozen=True)
class BatchNorm(_Elementwise):
    num_features: int
    eps: float = 1e-5  # torchvision's Inception models use 0.001
    kind = "bn"

    def build(self) -> nn.BatchNorm2d:
        return nn.BatchNorm2d(self.num_features, eps=self.eps)

    def params(self) -> int:
        return 2 * self.num_features  # weight and bias; running stats are buffers


@dataclass(frozen=True)
class ReLU(_Elementwise):
    inplace: bool = True
    kind = "relu"

    def build(self) -> nn.ReLU:
        return nn.ReLU(inplace=self.inplace)


@dataclass(frozen=True)
class Pool(_Elementwise):
    """Max or average pooling with a fixed window."""

    mode: str  # "max" or "avg"
    kernel_size: int
    stride: int
    padding: int = 0
    ceil_mode: bool = False

    @property
    def kind(self) -> str:
        return f"{self.mode}pool"

    def build(self) -> nn.Module:
        if self.mode == "max":
            return nn.MaxPool2d(self.kernel_size, self.stride, self.padding, ceil_mode=self.ceil_mode)
        return nn.AvgPool2d(self.kernel_size, self.stride, self.padding, ceil_mode=self.ceil_mode)

    def output_hw(self, h: int, w: int) -> tuple[int, int]:
        k, s, p = self.kernel_size, self.stride, self.padding
        return conv_output_size(h, k, s, p, self.ceil_mode), conv_output_size(w, k, s, p, self.ceil_mode)


@dataclass(frozen=True)
class Linear:
    in_features: int
    out_features: int
    bias: bool = True
    kind = "linear"

    def build(self) -> nn.Linear:
        return nn.Linear(self.in_features, self.out_features, bias=self.bias)

    def params(self) -> int:
        return self.in_features * self.out_features + (self.out_features if self.bias else 0)

    def output_hw(self, h: int, w: int) -> tuple[int, int]:
        return 1, 1

    def output_channels(self, in_channels: int) -> int:
        return self.out_features

    def macs(self, out_h: int, out_w: int) -> int:
        return self.in_features * self.out_features


@dataclass(frozen=True)
class AdaptiveAvgPool(_Elementwise):
    """Average pooling to a fixed output size: 1 is the global pool before a classifier; GoogLeNet's
    auxiliary heads pool to 4x4."""

    output_size: int
    kind = "avgpool"

    def build(self) -> nn.AdaptiveAvgPool2d:
        return nn.AdaptiveAvgPool2d((self.output_size, self.output_size))

    def output_hw(self, h: int, w: int) -> tuple[int, int]:
        return self.output_size, self.output_size


@dataclass(frozen=True)
class Dropout(_Elementwise):
    p: float
    kind = "dropout"

    def build(self) -> nn.Dropout:
        return nn.Dropout(p=self.p)
