"""``python -m explorer compare densenet121 googlenet resnet50 [--batch-size B] [--measure-latency]
[--budget S] [--accuracy original|newest] [--format table|json|csv]``: the Compare page's table on
the command line."""

from __future__ import annotations

import json
import sys

from ..analysis import advice, compare, latency, reference
from ..i18n import ENGLISH, render
from ..units import format_bytes, format_count, format_flops, format_macs


def _number(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _table(rows, recipe: str, _=ENGLISH) -> str:
    from .main import render_table

    cells = []
    for r in rows:
        spread = ("" if r.latency_q1_ms is None else f"{r.latency_q1_ms:.1f}-{r.latency_q3_ms:.1f}")
        cells.append([r.name, r.source, r.input_size, format_count(r.params), format_macs(r.macs),
                      format_flops(r.flops), format_bytes(r.param_bytes), format_bytes(r.activation_bytes),
                      _number(r.top1, 2), _number(r.top5, 2), _number(r.newer_top1, 2),
                      _number(r.latency_ms, 1), spread])
    batch = rows[0].batch_size
    which = _("original") if recipe == "original" else _("newest")
    headers = [_("model"), _("numbers"), _("input"), _("params"), _("MACs"), _("FLOPs"), _("weights"),
               _("activations@{batch}").format(batch=batch), _("top-1 ({which})").format(which=which),
               _("top-5 ({which})").format(which=which), _("top-1 (newer)"), f"ms@{batch}", _("ms IQR")]
    return render_table(headers, cells, "llrrrrrrrrrrr")


def _notes(rows, recipe: str, _=ENGLISH) -> list[str]:
    notes = []
    if recipe == "original":
        notes.append(_("accuracy: every model's original-recipe weights (torchvision IMAGENET1K_V1), like with "
                       "like; 'top-1 (newer)' is torchvision's newer recipe where one exists (--accuracy newest "
                       "uses it)"))
    else:
        notes.append(_("accuracy: each model's newest torchvision weights: recipes differ between models"))
    for r in rows:
        if r.paper_top1 is not None:
            notes.append(_("{name}: the paper reports {top1} % top-1 / {top5} % top-5 ({source})").format(
                name=r.name, top1=f"{r.paper_top1:.1f}", top5=f"{r.paper_top5:.1f}", source=r.paper_source))
    return notes


def cmd_compare(args) -> int:
    _ = args._
    names = args.models or list(reference.TORCHVISION_MODELS)
    entries = [compare.resolve_entry(name) for name in names]  # refuse unknown names before any slow work
    unique = {e.name: e for e in entries}.values()
    requests = [(e, args.batch_size, args.input_size) for e in unique]
    if args.measure_latency:  # refuse what cannot fit in memory or time before measuring anything
        latency.check_latency_request(requests, latency.best_device(), rounds=args.repeats, budget_s=args.budget)
    total = len(names)

    def progress(done, _total, name):
        if name and compare.uncached([name], args.input_size):
            print(_("measuring {name} ({done}/{total}) ...").format(name=name, done=done + 1, total=total),
                  file=sys.stderr)

    rows = compare.comparison_rows(names, batch_size=args.batch_size, input_size=args.input_size,
                                   recipe=args.accuracy, progress=progress)
    latencies, run = {}, None
    if args.measure_latency:
        def timing(done, total_steps, text):
            print(_("timing {done}/{total}: {what}").format(done=done + 1, total=total_steps, what=render(text, _)),
                  file=sys.stderr)

        run = latency.measure_latencies(requests, rounds=args.repeats, budget_s=args.budget, progress=timing)
        for result in run.results:
            latencies[latency.latency_key(result.name, result.batch_size, result.input_size)] = result
        latency.with_latency(rows, latencies)
    if args.format == "json":
        print(json.dumps({"models": [r.to_json() for r in rows]}, indent=2))
    elif args.format == "csv":
        sys.stdout.write(compare.rows_csv(rows))
    else:
        print(_table(rows, args.accuracy, _))
        print()
        print("\n".join(_notes(rows, args.accuracy, _)))
        if run is not None:
            print(_("latency: {summary}").format(summary=render(run.summary, _)))
            if run.noisy:
                print(_("warning: wide spread (interquartile range over {spread} of the median, or under {rounds} "
                        "rounds): {models}; no speed advice from these").format(
                    spread=f"{latency.WIDE_SPREAD:.0%}", rounds=latency.MIN_ROUNDS, models=", ".join(run.noisy)))
        lines = advice.tradeoffs(rows, latencies, args.batch_size)
        if lines:
            print()
            print("\n".join(f"- {render(line, _)}" for line in lines))
    if run is not None and run.stopped == "budget":
        print(_("note: {summary}").format(summary=render(run.summary, _)), file=sys.stderr)
    return 0


def add_commands(subparsers, _=ENGLISH) -> None:
    p = subparsers.add_parser("compare", help=_("compare models: params, MACs, memory, accuracy, latency"))
    p.add_argument("models", nargs="*", help=_("default: {models}").format(models=" ".join(reference.TORCHVISION_MODELS)))
    p.add_argument("--batch-size", type=int, default=1, help=_("batch for activation memory and latency"))
    p.add_argument("--input-size", type=int, help=_("a common input size for every model (default: each native)"))
    p.add_argument("--accuracy", choices=list(reference.RECIPES), default="original",
                   help=_("original: every model's original-recipe weights (like with like, default); "
                        "newest: each model's newest torchvision weights"))
    p.add_argument("--measure-latency", action="store_true",
                   help=_("time forward passes on the best device, in interleaved rounds"))
    p.add_argument("--repeats", type=int, default=7, help=_("timed rounds per model (median and spread reported)"))
    p.add_argument("--budget", type=float, default=latency.DEFAULT_BUDGET_S,
                   help=_("seconds the latency measurement may take; rounds that would end later are not started"))
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    p.set_defaults(func=cmd_compare)
