"""On-demand checks of a live model by third-party counters: fvcore, FlopCounterMode, torchinfo.

These trace or run the model, so the pages call them only when asked and cache the result.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models.registry import build_model, check_budget, materialize, profile, resolve
from ..i18n import N_
from ..errors import BudgetError
from .measure import count_flops, count_params

# fvcore traces a real forward on the CPU; above this the check would take too long to be useful.
MAX_CROSS_CHECK_MACS = 40e9


@dataclass
class CrossCheck:
    profile_params: int
    profile_macs: int
    module_params: int  # sum(p.numel()) of the live module
    flop_counter_flops: int  # FlopCounterMode total: 2 x MACs
    fvcore_total: int  # fvcore: one "flop" per multiply-add, plus BN, pooling, ...
    fvcore_by_operator: dict[str, int]

    @property
    def explanations(self) -> list[str]:
        notes = [
            f"FlopCounterMode reports {self.flop_counter_flops:,} FLOPs = 2 x {self.flop_counter_flops // 2:,} "
            f"MACs: it counts a multiply and an add separately "
            f"({'equal to' if self.flop_counter_flops == 2 * self.profile_macs else 'DIFFERENT from'} "
            f"the profile's MACs x 2).",
        ]
        conv_linear = sum(v for k, v in self.fvcore_by_operator.items() if k in ("conv", "linear", "addmm"))
        others = {k: v for k, v in self.fvcore_by_operator.items() if k not in ("conv", "linear", "addmm")}
        notes.append(
            f"fvcore counts one 'flop' per multiply-add, so its conv + linear part ({conv_linear:,}) "
            f"{'equals' if conv_linear == self.profile_macs else 'differs from'} the profile's MACs.")
        if others:
            extra = ", ".join(f"{k} {v:,}" for k, v in sorted(others.items(), key=lambda kv: -kv[1]))
            share = 100 * (self.fvcore_total - conv_linear) / max(conv_linear, 1)
            notes.append(f"fvcore also adds element-wise terms the MAC convention leaves out ({extra}): "
                         f"{share:.2f} % more in total.")
        return notes


def cross_check(config) -> CrossCheck:
    """Count the live model three ways; refused for configs too large to trace quickly."""
    arch, config, _ = resolve(config)
    result = profile(config)
    check_budget(result)
    if result.macs > MAX_CROSS_CHECK_MACS:
        raise BudgetError(N_("cross-check runs a real forward pass; {gmacs} GMACs is above the {limit} GMACs limit: "
                             "reduce the input size or depth"),
                          gmacs=f"{result.macs / 1e9:.1f}", limit=f"{MAX_CROSS_CHECK_MACS / 1e9:.0f}")
    shape = (1, *result.input)
    meta_model = build_model(config)
    flops = count_flops(meta_model, shape)

    from .measure import fvcore_by_operator

    real = materialize(build_model(config), "cpu")
    by_operator = fvcore_by_operator(real, shape)
    return CrossCheck(result.params, result.macs, count_params(meta_model), flops, sum(by_operator.values()),
                      by_operator)


def torchinfo_summary(config, depth: int = 3) -> str:
    """torchinfo's table for the live model, traced on the meta device (no memory)."""
    import torchinfo

    _, config, _ = resolve(config)
    result = profile(config)
    model = build_model(config)
    stats = torchinfo.summary(model, input_size=(1, *result.input), device="meta", depth=depth, verbose=0,
                              col_names=("input_size", "output_size", "num_params", "mult_adds"))
    return str(stats)
