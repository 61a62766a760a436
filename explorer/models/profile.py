"""The analytic profile: per-layer, per-block and total size, compute and memory.

Pure arithmetic over an architecture's plan (see ``specs.py``): no tensors are created, so a
profile of DenseNet-264 takes milliseconds. ``Profile.to_dict()`` is the CLI's JSON.

Training activation memory is modelled as the bytes of the unique storages that autograd
saves for backward (the input image included, parameters excluded). Each layer row carries
the bytes of the storage it creates when something keeps that storage for backward, plus
what the op itself saves (BN's batch statistics, max-pool indices, dropout masks).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .specs import FLOAT_BYTES


@dataclass
class LayerRow:
    name: str  # dotted module name in the live model (pseudo-names end in ".cat", ".add" or "input")
    kind: str  # conv, bn, relu, maxpool, avgpool, linear, dropout, concat, add, input
    in_channels: int
    out_channels: int
    height: int  # output height
    width: int  # output width
    params: int
    macs: int  # per image, as torchvision reports them
    activation_bytes: int  # for the profile's batch size
    block: str = ""  # the block row this layer belongs to

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("block")
        return data


@dataclass
class BlockRow:
    name: str
    kind: str
    in_channels: int
    out_channels: int
    height: int
    width: int
    layers: int  # layers in the block as the paper counts them (dense layers, modules)
    params: int
    macs: int
    activation_bytes: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Profile:
    arch: str
    preset: str | None
    config: dict
    input: tuple[int, int, int]
    batch_size: int
    layers: list[LayerRow]
    blocks: list[BlockRow] = field(default_factory=list)

    @property
    def params(self) -> int:
        return sum(r.params for r in self.layers)

    @property
    def macs(self) -> int:
        return sum(r.macs for r in self.layers)

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def param_bytes(self) -> int:
        return self.params * FLOAT_BYTES

    @property
    def activation_bytes(self) -> int:
        return sum(r.activation_bytes for r in self.layers)

    @property
    def totals(self) -> dict:
        return {"params": self.params, "macs": self.macs, "flops": self.flops,
                "param_bytes": self.param_bytes, "activation_bytes": self.activation_bytes}

    def to_dict(self) -> dict:
        return {
            "arch": self.arch,
            "preset": self.preset,
            "config": self.config,
            "input": list(self.input),
            "batch_size": self.batch_size,
            "totals": self.totals,
            "blocks": [b.to_dict() for b in self.blocks],
            "layers": [r.to_dict() for r in self.layers],
        }

    def layers_csv(self) -> str:
        from ..csvtext import csv_text  # every CSV download goes through it

        columns = ["name", "kind", "in_channels", "out_channels", "height", "width", "params", "macs",
                   "activation_bytes"]
        return csv_text(columns, ([row.get(c, "") for c in columns] for row in (r.to_dict() for r in self.layers)))


class ProfileRecorder:
    """Collects layer rows while an architecture's profile walks its plan.

    With ``keep_rows=False`` it only keeps running totals: design-space sweeps profile
    thousands of configs and need nothing else. While ``training_only`` is set (auxiliary heads),
    ops count params and memory but no MACs: an inference pass skips them.
    """

    def __init__(self, batch_size: int, keep_rows: bool = True) -> None:
        self.batch_size = batch_size
        self.keep_rows = keep_rows
        self.rows: list[LayerRow] = []
        self.block = ""
        self.training_only = False
        self.params = self.macs = self.activation_bytes = 0

    @property
    def totals(self) -> dict:
        """The same dict as ``Profile.totals``."""
        return {"params": self.params, "macs": self.macs, "flops": 2 * self.macs,
                "param_bytes": self.params * FLOAT_BYTES, "activation_bytes": self.activation_bytes}

    def tensor_bytes(self, channels: int, h: int, w: int, itemsize: int = FLOAT_BYTES) -> int:
        return self.batch_size * channels * h * w * itemsize

    def add(self, name: str, spec, in_channels: int, h: int, w: int, *, output_saved: bool,
            extra_bytes: int = 0, keep_stats: bool = True) -> tuple[int, int, int]:
        """Record one op; return its output (channels, height, width)."""
        oh, ow = spec.output_hw(h, w)
        out_channels = spec.output_channels(in_channels)
        saved = self.tensor_bytes(out_channels, oh, ow) if output_saved else 0
        if spec.kind == "bn" and keep_stats:
            saved += 2 * out_channels * FLOAT_BYTES  # batch mean and inverse std
        params = spec.params()
        macs = 0 if self.training_only else spec.macs(oh, ow)
        self.params += params
        self.macs += macs
        self.activation_bytes += saved + extra_bytes
        if self.keep_rows:
            self.rows.append(LayerRow(name, spec.kind, in_channels, out_channels, oh, ow, params, macs,
                                      saved + extra_bytes, self.block))
        return out_channels, oh, ow

    def add_pseudo(self, name: str, kind: str, channels: int, h: int, w: int, *, output_saved: bool,
                   in_channels: int | None = None) -> None:
        """Record a step that is not a module (the input image, a concatenation)."""
        saved = self.tensor_bytes(channels, h, w) if output_saved else 0
        self.activation_bytes += saved
        if self.keep_rows:
            self.rows.append(LayerRow(name, kind, channels if in_channels is None else in_channels, channels,
                                      h, w, 0, 0, saved, self.block))

    def blocks(self, kinds: dict[str, str], layer_counts: dict[str, int]) -> list[BlockRow]:
        """Sum rows per block, in order of first appearance."""
        order: list[str] = []
        grouped: dict[str, list[LayerRow]] = {}
        for row in self.rows:
            if row.block not in grouped:
                order.append(row.block)
                grouped[row.block] = []
            grouped[row.block].append(row)
        result = []
        for name in order:
            rows = grouped[name]
            real = [r for r in rows if r.kind != "input"] or rows
            result.append(BlockRow(name, kinds.get(name, name), real[0].in_channels, real[-1].out_channels,
                                   real[-1].height, real[-1].width, layer_counts.get(name, 0),
                                   sum(r.params for r in rows), sum(r.macs for r in rows),
                                   sum(r.activation_bytes for r in rows)))
        return result
