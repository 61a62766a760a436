"""Human-readable numbers: 7.98 M params, 2.83 GMACs, 30.4 MiB."""

from __future__ import annotations


def _scaled(value: float, steps: list[tuple[float, str]], digits: int = 3) -> str:
    for factor, suffix in steps:
        if abs(value) >= factor:
            return f"{value / (factor or 1):.{digits}g} {suffix}".strip()  # factor 0: unscaled, e.g. 0 MACs
    return f"{value:.{digits}g}"


def format_count(value: float) -> str:
    """7978856 -> '7.98 M'."""
    if abs(value) < 1000:
        return f"{int(value)}" if float(value).is_integer() else f"{value:.3g}"
    return _scaled(value, [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")])


def format_macs(value: float) -> str:
    """2834161664 -> '2.83 GMACs'."""
    return _scaled(value, [(1e12, "TMACs"), (1e9, "GMACs"), (1e6, "MMACs"), (1e3, "kMACs"), (0, "MACs")])


def format_flops(value: float) -> str:
    return _scaled(value, [(1e12, "TFLOPs"), (1e9, "GFLOPs"), (1e6, "MFLOPs"), (1e3, "kFLOPs"), (0, "FLOPs")])


def format_bytes(value: float) -> str:
    """Binary units, as memory is allocated: 31915424 -> '30.4 MiB'."""
    return _scaled(value, [(2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"), (0, "B")])


def format_mib_up(value: float) -> str:
    """Bytes in MiB rounded up to 0.1 MiB, for a size over a limit of whole MiB: one byte over
    256 MiB is '256.1', never the limit itself."""
    import math

    return f"{math.ceil(value / 2**20 * 10) / 10:.1f}"
