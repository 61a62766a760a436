"""``python -m explorer module ...``: the Inception module designer on the command line.

Also gives the existing ``profile`` command the GoogLeNet options (``--width-multiplier``,
``--branch3-kernel``, ``--aux-logits``); the override table in ``main.py`` maps them to fields.
"""

from __future__ import annotations

import argparse
import json

from ..i18n import ENGLISH, N_
from ..models.inception import BRANCH3_KERNELS, FACTORIZE, WIDTH_LABELS, InceptionModuleConfig, module_report
from ..units import format_count, format_macs


def _widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 6 comma-separated integers, got {text!r}") from None
    if len(widths) != 6:
        raise argparse.ArgumentTypeError(f"expected 6 widths ({', '.join(WIDTH_LABELS)}), got {len(widths)}")
    return widths


def module_table(report, _=ENGLISH) -> str:
    from .main import render_table

    config = report.config
    head = (_("Inception module  in {channels} ch at {size}x{size}  widths {widths}  reduction {reduction}  "
              "factorize {factorize}").format(
                channels=config.in_channels, size=config.input_size, widths=",".join(map(str, config.widths)),
                reduction=_("on") if config.reduction else _("off"), factorize=config.factorize) + "\n"
            + _("out {channels} ch   conv weights {weights}   params {params}   MACs {macs} ({exact_macs})").format(
                channels=report.out_channels, weights=f"{report.conv_weight_params:,}", params=f"{report.params:,}",
                macs=format_macs(report.macs), exact_macs=f"{report.macs:,}") + "\n\n")
    rows = [[b.name, b.out_channels, f"{b.conv_weight_params:,}", f"{b.naive_conv_weight_params:,}",
             format_count(b.params), format_macs(b.macs)] for b in report.branches]
    rows.append([_("total"), report.out_channels, f"{report.conv_weight_params:,}",
                 f"{report.naive_conv_weight_params:,}", format_count(report.params), format_macs(report.macs)])
    headers = [N_("branch"), N_("out ch"), N_("conv weights"), N_("without 1x1 reduction"), N_("params"), N_("MACs")]
    return head + render_table([_(h) for h in headers], rows, "lrrrrr")


def cmd_module(args) -> int:
    config = InceptionModuleConfig(args.in_channels, args.widths, args.size, reduction=not args.no_reduction,
                                   factorize=args.factorize, branch3_kernel=args.branch3_kernel)
    report = module_report(config)
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(module_table(report, args._))
    return 0


def add_commands(subparsers, _=ENGLISH) -> None:
    default = InceptionModuleConfig()  # GoogLeNet's 3a with the paper's 5x5
    p = subparsers.add_parser("module", help=_("conv weights, params and MACs of one Inception module"))
    p.add_argument("--in-channels", type=int, default=default.in_channels)
    p.add_argument("--widths", type=_widths, default=default.widths,
                   help=_("#1x1,#3x3reduce,#3x3,#5x5reduce,#5x5,poolproj (default: GoogLeNet 3a)"))
    p.add_argument("--size", type=int, default=default.input_size, help=_("input height and width"))
    p.add_argument("--no-reduction", action="store_true", help=_("3x3 and 5x5 straight from the input, no pool proj"))
    p.add_argument("--factorize", nargs="?", const="stacked", default=default.factorize, choices=FACTORIZE,
                   help=_("stacked (default when given): 5x5 as two 3x3; asymmetric: n x n as 1 x n then n x 1"))
    p.add_argument("--branch3-kernel", type=int, choices=BRANCH3_KERNELS, default=default.branch3_kernel,
                   help=_("kernel of the '5x5' branch (torchvision's GoogLeNet uses 3)"))
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=cmd_module)

    profile = subparsers.choices.get("profile")
    if profile is not None:
        profile.add_argument("--width-multiplier", type=float, help=_("GoogLeNet: scale every conv width"))
        profile.add_argument("--branch3-kernel", type=int, choices=BRANCH3_KERNELS,
                             help=_("GoogLeNet: kernel of the '5x5' branch (3 in torchvision, 5 in the paper)"))
        profile.add_argument("--aux-logits", action="store_const", const=True,
                             help=_("GoogLeNet: add the two auxiliary classifiers"))
