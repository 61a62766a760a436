"""Feature reuse inside dense blocks: the DenseNet paper's Figure 5, from a model's weights.

For each dense block, ``matrix[t][s]`` is the mean absolute weight that target ``t``'s first
convolution (a layer's ``conv1``, the transition's ``conv``, or the classifier for the last block)
gives to the input channels that come from source ``s`` (the block input, or the k new maps of
an earlier layer): the L1 norm of those weights divided by their number, i.e. "normalized by
number of input feature-maps" as the paper's caption says. Each target's row is then divided
by its largest entry, so 1 marks the source a layer leans on most and rows compare across
layers. ``None`` where no connection exists (a layer only sees the sources before it).

Everything is read from the state dict (shapes included), so it works for the Train page's
models, uploaded files and torchvision's pretrained DenseNets alike.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import torch

from ..i18n import N_
from ..errors import ExplorerError


class ReuseError(ExplorerError):
    """Weights that are not a DenseNet's."""


@dataclass
class ReuseBlock:
    name: str  # denseblock1
    sources: list[str]  # "input", "denselayer1", ...
    targets: list[str]  # "denselayer1", ..., "transition1" or "classifier"
    matrix: list[list[float | None]]  # matrix[target][source]

    def to_dict(self) -> dict:
        return {"name": self.name, "sources": self.sources, "targets": self.targets, "matrix": self.matrix}


_LAYER = re.compile(r"^features\.denseblock(\d+)\.denselayer(\d+)\.norm1\.weight$")


def _block_layout(state: dict[str, torch.Tensor]) -> dict[int, list[int]]:
    """block -> input channel count of each layer, in order (from norm1's weight)."""
    blocks: dict[int, dict[int, int]] = {}
    for key, tensor in state.items():
        match = _LAYER.match(key)
        if match:
            blocks.setdefault(int(match[1]), {})[int(match[2])] = int(tensor.shape[0])
    if not blocks:
        raise ReuseError(N_("no dense layers found (expected keys like features.denseblock1.denselayer1.norm1.weight)"))
    layout = {}
    for b, layers in sorted(blocks.items()):
        if sorted(layers) != list(range(1, len(layers) + 1)):
            raise ReuseError(N_("denseblock{b}: layers are not numbered 1..{n_layers}"), b=b, n_layers=len(layers))
        layout[b] = [layers[j] for j in range(1, len(layers) + 1)]
    return layout


def _weight(state, key: str, in_channels: int) -> torch.Tensor:
    """|W| averaged over everything but the input-channel axis: one value per input channel."""
    if key not in state:
        raise ReuseError(N_("missing {key}"), key=key)
    w = state[key].detach().float()
    if w.ndim < 2 or w.shape[1] != in_channels:
        raise ReuseError(N_("{key} has shape {shape}, expected {in_channels} input channels"),
                         key=key, shape=list(w.shape), in_channels=in_channels)
    dims = [d for d in range(w.ndim) if d != 1]
    return w.abs().mean(dim=dims)


def reuse_matrices(state: dict[str, torch.Tensor]) -> list[ReuseBlock]:
    """One ``ReuseBlock`` per dense block of a DenseNet state dict (torchvision's key names)."""
    layout = _block_layout(state)
    last = max(layout)
    result = []
    for b, in_channels in layout.items():
        c0 = in_channels[0]
        n = len(in_channels)
        # Source boundaries: the block input, then each layer's new maps (k_j may differ per layer
        # only in hand-built models; the widths come from the next layer's input count).
        out_channels = _block_out(state, b, in_channels, b == last)
        bounds = [0, c0] + in_channels[1:] + [out_channels]
        sources = ["input"] + [f"denselayer{j}" for j in range(1, n + 1)]
        targets = [f"denselayer{j}" for j in range(1, n + 1)]
        per_channel = [_weight(state, f"features.denseblock{b}.denselayer{j}.conv1.weight", in_channels[j - 1])
                       for j in range(1, n + 1)]
        if b == last:
            targets.append("classifier")
            per_channel.append(_weight(state, "classifier.weight", out_channels))
        else:
            targets.append(f"transition{b}")
            per_channel.append(_weight(state, f"features.transition{b}.conv.weight", out_channels))
        matrix = []
        for t, values in enumerate(per_channel):
            row: list[float | None] = []
            for s in range(len(sources)):
                lo, hi = bounds[s], bounds[s + 1]
                row.append(float(values[lo:hi].mean()) if hi <= len(values) and hi > lo else None)
            top = max((v for v in row if v is not None), default=0.0)
            matrix.append([None if v is None else (v / top if top > 0 else 0.0) for v in row])
        result.append(ReuseBlock(f"denseblock{b}", sources, targets, matrix))
    return result


def _block_out(state, b: int, in_channels: list[int], is_last: bool) -> int:
    """Channels out of block b: the transition's (or norm5's) input count."""
    key = "features.norm5.weight" if is_last else f"features.transition{b}.norm.weight"
    if key not in state:
        raise ReuseError(N_("missing {key}"), key=key)
    out = int(state[key].shape[0])
    if out <= in_channels[-1]:
        raise ReuseError(N_("{key}: {out} channels, not more than the last layer's input {previous}"),
                         key=key, out=out, previous=in_channels[-1])
    return out


def reuse_json(blocks: list[ReuseBlock]) -> dict:
    return {"blocks": [b.to_dict() for b in blocks]}


def reuse_csv(blocks: list[ReuseBlock]) -> str:
    """One row per (block, target, source) with a connection."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["block", "target", "source", "value"])
    for block in blocks:
        for t, target in enumerate(block.targets):
            for s, source in enumerate(block.sources):
                value = block.matrix[t][s]
                if value is not None:
                    writer.writerow([block.name, target, source, f"{value:.6g}"])
    return buffer.getvalue()


# How to read the heatmaps (the Train page's reuse view), and what the paper read from its own.
HEATMAP_NOTE = N_(
    "Each cell: the mean |weight| that a layer's first convolution (a row) gives to the channels "
    "written by an earlier layer (a column), divided by the row's largest value. The last row is the "
    "transition (or, in the last block, the classifier).")
PAPER_READING = N_(
    "What the paper read from its Figure 5 (DenseNet, L=40, k=12, CIFAR-10+): all layers spread their "
    "weights over many inputs, so features extracted early are used directly by deep layers of the same "
    "block; the transition layers also spread their weights across the whole block; the transition "
    "outputs (the first column of blocks 2 and 3) get little weight, a sign of redundancy that motivated "
    "compression (DenseNet-BC); and the classifier concentrates on the last few layers' maps, which "
    "are the more high-level features.")


def reuse_caveat(info: dict, num_classes: int):
    """Why a trained model's reuse is not worth reading, from its file's metadata (``info``: the
    validation accuracy its training reached), or None: a barely trained model's weights are still
    mostly their random start, and so is what this view shows."""
    from ..i18n import Message
    from ..training.plan import barely_trained, chance

    accuracy = info.get("val_accuracy")
    if not isinstance(accuracy, (int, float)) or not barely_trained(float(accuracy), num_classes):
        return None
    return Message(N_("This model is barely trained ({accuracy} % validation accuracy; guessing gives {chance} %): "
                      "its weights are still mostly their random start, so this view shows too little training to "
                      "read. Train it longer, then look again."),
                   accuracy=f"{100 * accuracy:.1f}", chance=f"{100 * chance(num_classes):.0f}")
