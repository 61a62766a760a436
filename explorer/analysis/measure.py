"""Independent measurements of a live model, used to cross-check the analytic profile.

These run the model (or trace it), so they are slow compared with the profile: the UI calls
them only on demand, and the tests use them as ground truth.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_flops(model: nn.Module, input_shape: tuple[int, ...], device: str | torch.device = "meta") -> int:
    """Total FLOPs reported by ``FlopCounterMode`` (2 x MACs) for one forward pass.

    On the ``meta`` device nothing is allocated, so even large configs are cheap to trace.
    """
    x = torch.empty(input_shape, device=device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(x)
    finally:
        model.train(was_training)
    return counter.get_total_flops()


def fvcore_by_operator(model: nn.Module, input_shape: tuple[int, ...]) -> dict[str, int]:
    """fvcore's count per operator: one "flop" per multiply-add, plus BN, pooling and other terms."""
    import logging

    from fvcore.nn import FlopCountAnalysis

    logging.getLogger("fvcore").setLevel(logging.ERROR)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            analysis = FlopCountAnalysis(model, torch.zeros(input_shape))
            analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            return {op: int(v) for op, v in analysis.by_operator().items()}
    finally:
        model.train(was_training)


def saved_activation_bytes(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Bytes of the unique storages autograd saves for backward in one training forward.

    Parameters and buffers are excluded (they are weights, not activations); everything else a
    backward pass would need, the input image included, is counted once per storage.
    """
    weight_storages = {t.untyped_storage().data_ptr() for t in list(model.parameters()) + list(model.buffers())}
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor):
        storage = t.untyped_storage()
        ptr = storage.data_ptr()
        if ptr not in weight_storages:
            seen[ptr] = storage.nbytes()
        return t

    x = torch.randn(input_shape)
    was_training = model.training
    model.train()
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            out = model(x)
        del out
    finally:
        model.train(was_training)
    return sum(seen.values())
