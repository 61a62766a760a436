"""'Which to choose': trade-offs stated from the numbers, never written by hand.

Accuracy statements use the rows' accuracy, which compares like with like by default (every
model's original-recipe weights) and say which recipe they use. Speed statements are made only
where the measured spreads allow them (``latency.clearly_slower``): two models whose timed rounds
overlap, or either of whose spreads is too wide to rank by, are not ranked. While a model is
still being measured, no leader is named in a column it lacks.
"""

from __future__ import annotations

import itertools

from ..i18n import ENGLISH, N_
from ..units import format_bytes, format_count, format_macs
from .compare import ComparisonRow
from .latency import clearly_slower, latency_key

def _ratio(a: float, b: float, _=ENGLISH) -> str:
    r = a / b
    if r < 1:
        words = _fraction_words(r, _)
        return _("about {fraction}").format(fraction=words) if words else f"{r:.2f}x"
    return f"{r:.1f}x"


_FRACTIONS = ((1 / 4, N_("a quarter")), (1 / 3, N_("a third")), (1 / 2, N_("half")), (2 / 3, N_("two thirds")))


def _fraction_words(r: float, _=ENGLISH) -> str | None:
    for value, words in _FRACTIONS:
        if abs(r - value) <= 0.04:
            return _(words)
    return None


def recipe_words(recipe: str | None, _=ENGLISH) -> str:
    """A row's recipe ("original recipe", "newer recipe (IMAGENET1K_V2)") in the reader's language."""
    if not recipe:
        return ""
    if recipe == "original recipe":
        return _("original recipe")
    tag = recipe.removeprefix("newer recipe (").removesuffix(")")
    return _("newer recipe ({weights})").format(weights=tag) if tag != recipe else recipe


def tradeoffs(rows: list[ComparisonRow], latencies: dict | None = None, latency_batch: int = 1,
              limit: int = 8, _=ENGLISH) -> list[str]:
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

    def unsettled(column) -> bool:
        """A model still being measured lacks this column: it may yet lead, so no leader is named."""
        return any(r.pending and getattr(r, column) is None for r in rows)

    def leader(column, pick, text):
        if unsettled(column):
            return
        known = [r for r in rows if getattr(r, column) is not None]
        if len(known) >= 2:
            best = pick(known, key=lambda r: getattr(r, column))
            lines.append(text(best))

    leader("top1", max, lambda r: _("Most accurate: {model} ({top1} % ImageNet top-1, {recipe}).").format(
        model=r.name, top1=f"{r.top1:.1f}", recipe=recipe_words(r.recipe, _)))
    leader("params", min, lambda r: _("Fewest parameters: {model} ({params}).").format(
        model=r.name, params=format_count(r.params)))
    leader("macs", min, lambda r: _("Least compute: {model} ({macs} per image).").format(
        model=r.name, macs=format_macs(r.macs)))
    leader("activation_bytes", min, lambda r: _("Least training activation memory at batch {batch}: {model} "
                                                "({memory}).").format(batch=b, model=r.name,
                                                                      memory=format_bytes(r.activation_bytes)))
    if len(lat) >= 2:
        fastest = min(lat, key=lat.get)
        close = [n for n in found if n != fastest and not clearly_slower(found[n], found[fastest])]
        if not close:
            lines.append(_("Fastest forward at batch {batch}: {model} ({ms} ms, {rate} images/s).").format(
                batch=latency_batch, model=fastest, ms=f"{lat[fastest]:.1f}",
                rate=f"{1000 * latency_batch / lat[fastest]:.0f}"))
        else:
            lines.append(_("Fastest forward at batch {batch}: not decided: the timed rounds of {model} and {others} "
                           "overlap, spread widely or are too few; measure again on a quieter machine.").format(
                batch=latency_batch, model=fastest, others=", ".join(close)))
    scored = [r for r in rows if r.top1 is not None and r.macs]
    if len(scored) >= 2 and not unsettled("macs"):
        front = [r.name for r in scored if not any(
            o.top1 >= r.top1 and o.macs <= r.macs and (o.top1 > r.top1 or o.macs < r.macs) for o in scored)]
        lines.append(_("Best accuracy for their compute (no other model is both more accurate and cheaper): "
                       "{models}.").format(models=", ".join(front)))

    pairs = []
    for small, big in itertools.permutations(rows, 2):
        if small.params * 1.5 > big.params:
            continue
        costs = []
        if None not in (small.activation_bytes, big.activation_bytes) and \
                small.activation_bytes > 1.1 * big.activation_bytes:
            costs.append(_("{ratio} its training activation memory ({small} vs {big} at batch {batch})").format(
                ratio=_ratio(small.activation_bytes, big.activation_bytes, _),
                small=format_bytes(small.activation_bytes), big=format_bytes(big.activation_bytes), batch=b))
        if None not in (small.macs, big.macs) and small.macs > 1.1 * big.macs:
            costs.append(_("{ratio} its MACs").format(ratio=_ratio(small.macs, big.macs, _)))
        if small.name in lat and big.name in lat and clearly_slower(found[small.name], found[big.name]):
            costs.append(_("a {ratio}x slower forward on {device} ({slow} vs {fast} ms at batch {batch})").format(
                ratio=f"{lat[small.name] / lat[big.name]:.1f}", device=found[small.name].device,
                slow=f"{lat[small.name]:.1f}", fast=f"{lat[big.name]:.1f}", batch=latency_batch))
        if small.top1 is not None and big.top1 is not None and small.top1 < big.top1 - 0.5:
            recipes = (_("both {recipe}").format(recipe=recipe_words(small.recipe, _)) if small.recipe == big.recipe
                       else _("{one} vs {other}").format(one=recipe_words(small.recipe, _),
                                                        other=recipe_words(big.recipe, _)))
            costs.append(_("{points} points lower top-1 ({recipes})").format(points=f"{big.top1 - small.top1:.1f}",
                                                                            recipes=recipes))
        if costs:
            text = _("{small} has {ratio} of {big}'s parameters ({small_params} vs {big_params}) but {costs}.").format(
                small=small.name, ratio=_ratio(small.params, big.params, _), big=big.name,
                small_params=format_count(small.params), big_params=format_count(big.params),
                costs=("、" if _.lang == "ja" else ", ").join(costs))  # the list separator of the language
            pairs.append((len(costs), big.params / small.params, text))
    pairs.sort(key=lambda p: (-p[0], -p[1]))
    lines += [text for *_rest, text in pairs[: max(0, limit - len(lines))]]
    return lines
