"""``classify``, ``cam`` and ``fetch-weights`` sub-commands (added through ``add_commands``).

Every failure, the environment's included (an unwritable ``--out``, a full disk, ``TORCH_HOME``
under a file), ends in one line and exit status 2; output files are written by ``explorer.files``
(atomically where they are regular files).
"""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path

from ..files import OutputError, check_output, write_output
from ..i18n import ENGLISH, N_
from ..vision.images import SAMPLES, load_image

IMAGE_HELP = N_("an image file, or a bundled sample: {samples}")


def _one_line(command):
    """Environment failures (OSError: no space, name too long, not a directory...) as one line;
    ``--verbose`` sends the details (e.g. why a download failed) to stderr."""

    @functools.wraps(command)
    def run(args) -> int:
        if getattr(args, "verbose", False):
            logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
        elif not logging.getLogger("explorer").handlers:  # details go nowhere, not to logging's last resort
            logging.getLogger("explorer").addHandler(logging.NullHandler())
        try:
            return command(args)
        except OSError as error:
            logging.getLogger(__name__).debug("%s failed", command.__name__, exc_info=True)
            where = f": {error.filename}" if error.filename else ""
            raise OutputError(f"{error.strerror or type(error).__name__}{where}") from None

    return run


def _model_name(args) -> str:
    from ..vision.download import default_model
    from ..vision.weights import spec_of

    return spec_of(args.model).name if args.model else default_model()


def _predictions_json(predictions) -> list[dict]:
    return [{"index": i, "label": label, "probability": round(p, 6)} for i, label, p in predictions]


def _predictions_table(predictions, _=ENGLISH) -> str:
    from .main import render_table

    rows = [[rank, i, label, f"{p:.4f}"] for rank, (i, label, p) in enumerate(predictions, 1)]
    return render_table([_("rank"), _("index"), _("label"), _("probability")], rows, "rrlr")


@_one_line
def cmd_classify(args) -> int:
    from ..errors import ConfigError
    from ..vision.classifier import load_pretrained

    if not 1 <= args.topk <= 1000:
        raise ConfigError("--topk", N_("must be from 1 to 1000, got {value}"), value=args.topk)
    image = load_image(args.image)
    model = load_pretrained(_model_name(args))
    predictions = model.predict(image, topk=args.topk)
    if args.format == "json":
        print(json.dumps({"model": model.name, "device": str(model.device),
                          "predictions": _predictions_json(predictions)}, indent=2))
    else:
        print(args._("{model} on {device}").format(model=model.name, device=model.device))
        print(_predictions_table(predictions, args._))
    return 0


@_one_line
def cmd_cam(args) -> int:
    from ..errors import ConfigError
    from ..vision.classifier import load_pretrained
    from ..vision.explain import explain
    from ..vision.overlay import npy_bytes, overlay, png_bytes

    if not 0 <= args.alpha <= 1:
        raise ConfigError("--alpha", N_("opacity must be from 0 to 1, got {value}"), value=args.alpha)
    for out in (args.out, args.heatmap_out):  # before the slow part
        if out:
            check_output(out)
    image = load_image(args.image)
    model = load_pretrained(_model_name(args))
    result = explain(model, image, target=args.target, layer=args.layer, method=args.method)
    write_output(args.out, png_bytes(overlay(image, result.heatmap, args.alpha, args.colormap, result.region)))
    if args.heatmap_out:
        write_output(args.heatmap_out, npy_bytes(result.heatmap))
    probability = dict((i, p) for i, _label, p in result.predictions)
    if args.format == "json":
        print(json.dumps({
            "model": model.name, "device": str(model.device), "method": result.method, "layer": result.layer,
            "target": {"index": result.target_index, "label": result.target_label},
            "predictions": _predictions_json(result.predictions),
            "out": str(args.out), "heatmap_out": str(args.heatmap_out) if args.heatmap_out else None,
            "seconds": round(result.seconds, 4),
        }, indent=2))
    else:
        _ = args._
        shown = f"  p={probability[result.target_index]:.4f}" if result.target_index in probability else ""
        values = dict(model=model.name, device=model.device, method=result.method, layer=result.layer,
                      label=result.target_label, index=result.target_index, p=shown, seconds=f"{result.seconds:.2f}")
        print((_("{model} on {device}: {method} at {layer} for {label} ({index}){p} in {seconds} s") if result.layer
               else _("{model} on {device}: {method} for {label} ({index}){p} in {seconds} s")).format(**values))
        print(_predictions_table(result.predictions, _))
        print(_("overlay: {path}").format(path=args.out)
              + (_("   heatmap: {path}").format(path=args.heatmap_out) if args.heatmap_out else ""))
    return 0


@_one_line
def cmd_fetch_weights(args) -> int:
    from .main import UsageError, render_table
    from ..vision.download import all_status, fetch_weights
    from ..vision.weights import REGISTRY, spec_of

    if args.list or (not args.names and not args.all):
        rows = [[s.name, s.state, f"{s.size_bytes / 1e6:.1f} MB", str(s.path)] for s in all_status()]
        _ = args._
        print(render_table([_("model"), _("state"), _("size"), _("file")], rows, "llrl"))
        return 0
    if args.all and args.names:
        raise UsageError(N_("give model names or --all, not both"))
    names = list(REGISTRY) if args.all else [spec_of(name).name for name in args.names]
    for name in names:
        path = fetch_weights(name, progress=not args.quiet)
        print(f"{name}: {path}")
    return 0


def _add_verbose(parser, _=ENGLISH) -> None:
    parser.add_argument("--verbose", action="store_true", help=_("details of failures (e.g. a download's) on stderr"))


def add_commands(sub, _=ENGLISH) -> None:
    from ..vision.attribution import METHODS
    from ..vision.overlay import COLORMAPS

    p = sub.add_parser("classify", help=_("top-k ImageNet predictions of a pretrained model"))
    p.add_argument("image", help=_(IMAGE_HELP).format(samples=", ".join(SAMPLES)))
    p.add_argument("--model", help=_("a pretrained model (see `fetch-weights --list`); default: the best ready one"))
    p.add_argument("--topk", type=int, default=5)
    p.add_argument("--format", choices=["table", "json"], default="table")
    _add_verbose(p, _)
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("cam", help=_("Grad-CAM (or another attribution) overlay of a pretrained model"),
                       description="; ".join(f"{name}: {m.note}" for name, m in METHODS.items()))
    p.add_argument("image", help=_(IMAGE_HELP).format(samples=", ".join(SAMPLES)))
    p.add_argument("--model", help=_("a pretrained model; default: the best ready one"))
    p.add_argument("--target", help=_("class index or label (default: the top prediction)"))
    p.add_argument("--layer", help=_("dotted module name (default: the model's usual Grad-CAM layer)"))
    p.add_argument("--method", choices=list(METHODS), default="gradcam")
    p.add_argument("--out", required=True, type=Path, help=_("overlay PNG to write"))
    p.add_argument("--heatmap-out", type=Path, help=_("also write the heatmap (float32 H x W in [0, 1]) as .npy"))
    p.add_argument("--alpha", type=float, default=0.5, help=_("overlay opacity, 0 to 1"))
    p.add_argument("--colormap", choices=list(COLORMAPS), default="jet")
    p.add_argument("--format", choices=["table", "json"], default="table")
    _add_verbose(p, _)
    p.set_defaults(func=cmd_cam)

    p = sub.add_parser("fetch-weights", help=_("download pretrained weights into $TORCH_HOME/hub/checkpoints, "
                                             "or list what is ready"))
    p.add_argument("names", nargs="*", help=_("models to fetch"))
    p.add_argument("--all", action="store_true", help=_("fetch every model"))
    p.add_argument("--list", action="store_true", help=_("show each model's state and file"))
    p.add_argument("--quiet", action="store_true", help=_("no progress bar"))
    _add_verbose(p, _)
    p.set_defaults(func=cmd_fetch_weights)
