"""``python -m explorer compare densenet121 googlenet resnet50 [--batch-size B] [--measure-latency]
[--format table|json|csv]``: the Compare page's table on the command line."""

from __future__ import annotations

import json
import sys

from ..analysis import advice, compare, latency, reference
from ..units import format_bytes, format_count, format_flops, format_macs


def _table(rows) -> str:
    from .main import render_table

    cells = []
    for r in rows:
        cells.append([r.name, r.source, r.input_size, format_count(r.params), format_macs(r.macs),
                      format_flops(r.flops), format_bytes(r.param_bytes), format_bytes(r.activation_bytes),
                      "" if r.top1 is None else f"{r.top1:.2f}", "" if r.top5 is None else f"{r.top5:.2f}",
                      "" if r.latency_ms is None else f"{r.latency_ms:.1f}"])
    batch = rows[0].batch_size
    headers = ["model", "numbers", "input", "params", "MACs", "FLOPs", "weights", f"activations@{batch}",
               "top-1", "top-5", f"ms@{batch}"]
    return render_table(headers, cells, "llrrrrrrrrr")


def cmd_compare(args) -> int:
    names = args.models or list(reference.TORCHVISION_MODELS)
    for name in names:
        compare.resolve_entry(name)  # refuse unknown names before any slow measurement
    total = len(names)

    def progress(done, _total, name):
        if name and compare.uncached([name], args.input_size):
            print(f"measuring {name} ({done + 1}/{total}) ...", file=sys.stderr)

    rows = compare.comparison_rows(names, batch_size=args.batch_size, input_size=args.input_size,
                                   progress=progress)
    latencies = {}
    if args.measure_latency:
        for row in rows:
            print(f"timing {row.name} at batch {args.batch_size} ...", file=sys.stderr)
            result = latency.measure_latency(compare.resolve_entry(row.name), args.batch_size, args.input_size,
                                             repeats=args.repeats)
            latencies[latency.latency_key(row.name, args.batch_size, row.input_size)] = result
        latency.with_latency(rows, latencies)
    if args.format == "json":
        print(json.dumps({"models": [r.to_json() for r in rows]}, indent=2))
    elif args.format == "csv":
        sys.stdout.write(compare.rows_csv(rows))
    else:
        print(_table(rows))
        if latencies:
            sample = next(iter(latencies.values()))
            print(f"\nlatency: median of {args.repeats} runs after 2 warm-ups on {sample.label}")
        lines = advice.tradeoffs(rows, latencies, args.batch_size)
        if lines:
            print()
            print("\n".join(f"- {line}" for line in lines))
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser("compare", help="compare models: params, MACs, memory, accuracy, latency")
    p.add_argument("models", nargs="*", help=f"default: {' '.join(reference.TORCHVISION_MODELS)}")
    p.add_argument("--batch-size", type=int, default=1, help="batch for activation memory and latency")
    p.add_argument("--input-size", type=int, help="a common input size for every model (default: each native)")
    p.add_argument("--measure-latency", action="store_true", help="time forward passes on the best device")
    p.add_argument("--repeats", type=int, default=7, help="timed runs per model (median reported)")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    p.set_defaults(func=cmd_compare)
