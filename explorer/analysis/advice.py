"""'Which to choose': trade-offs stated from the numbers, never written by hand.

Accuracy statements use the rows' accuracy, which compares like with like by default (every
model's original-recipe weights) and say which recipe they use. Speed statements are made only
where the measured spreads allow them (``latency.clearly_slower``): two models whose timed rounds
overlap are not ranked.
"""

from __future__ import annotations

import itertools

from ..units import format_bytes, format_count, format_macs
from .compare import ComparisonRow
from .latency import clearly_slower, latency_key

def _ratio(a: float, b: float) -> str:
    r = a / b
    if r < 1:
        return f"about {_fraction_words(r)}" if _fraction_words(r) else f"{r:.2f}x"
    return f"{r:.1f}x"


def _fraction_words(r: float) -> str | None:
    for value, words in ((1 / 4, "a quarter"), (1 / 3, "a third"), (1 / 2, "half"), (2 / 3, "two thirds")):
        if abs(r - value) <= 0.04:
            return words
    return None


def tradeoffs(rows: list[ComparisonRow], latencies: dict | None = None, latency_batch: int = 1,
              limit: int = 8) -> list[str]:
    """Statements the numbers support: the leader in each column, then pairs where a model is much
    smaller than another yet costs more in memory or time (or the reverse)."""
    if not rows:
        return []
    latencies = latencies or {}
    found = {r.name: latencies.get(latency_key(r.name, latency_batch, r.input_size)) for r in rows}
    found = {k: v for k, v in found.items() if v is not None}
    lat = {k: v.median_ms for k, v in found.items()}
    b = rows[0].batch_size
    lines = []

    def leader(column, pick, text):
        known = [r for r in rows if getattr(r, column) is not None]
        if len(known) >= 2:
            best = pick(known, key=lambda r: getattr(r, column))
            lines.append(text(best))

    leader("top1", max, lambda r: f"Most accurate: {r.name} ({r.top1:.1f} % ImageNet top-1, {r.recipe}).")
    leader("params", min, lambda r: f"Fewest parameters: {r.name} ({format_count(r.params)}).")
    leader("macs", min, lambda r: f"Least compute: {r.name} ({format_macs(r.macs)} per image).")
    leader("activation_bytes", min, lambda r: f"Least training activation memory at batch {b}: {r.name} "
                                               f"({format_bytes(r.activation_bytes)}).")
    if len(lat) >= 2:
        fastest = min(lat, key=lat.get)
        close = [n for n in found if n != fastest and not clearly_slower(found[n], found[fastest])]
        if not close:
            lines.append(f"Fastest forward at batch {latency_batch}: {fastest} ({lat[fastest]:.1f} ms, "
                         f"{1000 * latency_batch / lat[fastest]:.0f} images/s).")
        else:
            lines.append(f"Fastest forward at batch {latency_batch}: not decided: the timed rounds of {fastest} "
                         f"and {', '.join(close)} overlap (or are too few); measure again on a quieter machine.")
    scored = [r for r in rows if r.top1 is not None and r.macs > 0]
    if len(scored) >= 2:
        front = [r.name for r in scored if not any(
            o.top1 >= r.top1 and o.macs <= r.macs and (o.top1 > r.top1 or o.macs < r.macs) for o in scored)]
        lines.append(f"Best accuracy for their compute (no other model is both more accurate and cheaper): "
                     f"{', '.join(front)}.")

    pairs = []
    for small, big in itertools.permutations(rows, 2):
        if small.params * 1.5 > big.params:
            continue
        costs = []
        if small.activation_bytes > 1.1 * big.activation_bytes:
            costs.append(f"{_ratio(small.activation_bytes, big.activation_bytes)} its training activation "
                         f"memory ({format_bytes(small.activation_bytes)} vs {format_bytes(big.activation_bytes)} "
                         f"at batch {b})")
        if small.macs > 1.1 * big.macs:
            costs.append(f"{_ratio(small.macs, big.macs)} its MACs")
        if small.name in lat and big.name in lat and clearly_slower(found[small.name], found[big.name]):
            costs.append(f"a {lat[small.name] / lat[big.name]:.1f}x slower forward on "
                         f"{found[small.name].device} "
                         f"({lat[small.name]:.1f} vs {lat[big.name]:.1f} ms at batch {latency_batch})")
        if small.top1 is not None and big.top1 is not None and small.top1 < big.top1 - 0.5:
            recipes = f"both {small.recipe}" if small.recipe == big.recipe else f"{small.recipe} vs {big.recipe}"
            costs.append(f"{big.top1 - small.top1:.1f} points lower top-1 ({recipes})")
        if costs:
            text = (f"{small.name} has {_ratio(small.params, big.params)} of {big.name}'s parameters "
                    f"({format_count(small.params)} vs {format_count(big.params)}) but " + ", ".join(costs) + ".")
            pairs.append((len(costs), big.params / small.params, text))
    pairs.sort(key=lambda p: (-p[0], -p[1]))
    lines += [text for *_, text in pairs[: max(0, limit - len(lines))]]
    return lines
