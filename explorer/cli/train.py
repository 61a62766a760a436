"""``python -m explorer train ...`` and ``python -m explorer reuse ...``: train a small DenseNet
and read its feature reuse (the DenseNet paper's Figure 5) from a weights file."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from ..files import check_output, read_file, write_output
from ..i18n import ENGLISH, N_, render


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value):  # nan passes every comparison, inf overflows the step plan
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value
    return parse


def load_dataset(name: str):
    """``digits`` or the path of an image-folder zip."""
    from ..training.data import MAX_ZIP_BYTES, DatasetError, digits_dataset, zip_dataset

    if name == "digits":
        return digits_dataset()
    path = Path(name)
    if path.suffix.lower() != ".zip":
        raise DatasetError(N_("{name}: expected 'digits' or a .zip of class folders"), name=name)
    data = read_file(path, MAX_ZIP_BYTES)  # FileNotFoundError etc. become one line in main()
    return zip_dataset(data, path.name)


def training_device(name: str | None) -> str:
    """``--device`` checked before anything is loaded: a device torch knows and this machine has."""
    import torch

    from ..models.registry import best_device
    from .main import UsageError

    if name is None:
        return str(best_device())
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        device = None
    if device is None or device.type not in ("cpu", "cuda", "mps"):
        raise UsageError(N_("--device {name}: unknown device; use cpu, cuda or mps"), name=name)
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    elif device.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        count = int(mps is not None and mps.is_available())
    else:
        count = 1
    if (device.index or 0) >= count:
        raise UsageError(N_("--device {name}: this machine has no such device; use cpu"), name=name)
    return str(device)


def cmd_train(args) -> int:
    from ..models.densenet import DenseNetConfig
    from ..models.limits import TRAINING
    from ..training import default_config, save_model, train
    from ..training.loop import DEFAULT_EPOCHS

    device = training_device(args.device)
    dataset = load_dataset(args.dataset)
    default = default_config()  # DenseNet-BC, L=40, k=12
    config = DenseNetConfig.cifar(args.depth or default.depth, args.growth_rate or default.growth_rate,
                                  num_classes=dataset.num_classes, input_size=dataset.input_size)
    if args.compression is not None:
        config = config.replace(compression=args.compression)
    out = Path(args.out)
    if out.suffix != ".safetensors":
        from ..errors import ConfigError
        raise ConfigError("out", N_("the weights file must end in .safetensors, got {name}"), name=out.name)
    check_output(out)  # a read-only folder or a bad name fails now, not after the training
    epochs = args.epochs or DEFAULT_EPOCHS
    TRAINING["epochs"].check("epochs", epochs)  # as the training loop would, before the progress bar

    from tqdm import tqdm

    from ..training.plan import barely_trained, expectation_message, plan_message

    bar = tqdm(total=1, unit="step", file=sys.stderr, disable=args.quiet, dynamic_ncols=True)
    planned = []

    def progress(p):
        if p.plan is not None and not planned and not args.quiet:  # the Train page's plan line, once
            planned.append(p.plan)
            expectation = expectation_message(p.plan)
            bar.write(render(plan_message(p.plan), args._)
                      + ("" if expectation is None else " " + render(expectation, args._)), file=sys.stderr)
        bar.total = p.total_steps
        bar.n = p.step
        last = p.history[-1] if p.history else None
        bar.set_postfix_str(f"epoch {min(p.epoch + 1, p.epochs)}/{p.epochs} loss {p.loss:.3f}"
                            + (f" val {last['val_accuracy']:.3f}" if last else ""), refresh=False)
        bar.refresh()

    try:
        result = train(config, dataset, epochs=epochs, time_budget_s=args.time_budget,
                       device=device, progress=progress)
    finally:
        bar.close()
    write_output(out, save_model(result.state_dict, result.config, result.classes, result.mean, result.std,
                                 val_accuracy=result.val_accuracy, epochs=result.epochs, dataset=result.dataset))
    summary = result.summary()
    if args.format == "json":
        print(json.dumps(summary, indent=2))
    else:
        c, _ = result.config, args._
        print(_("{variant} k={k} blocks {blocks} (L={depth}) on {dataset}").format(
            variant=c.variant, k=c.growth_rate, blocks="-".join(map(str, c.block_config)), depth=c.depth,
            dataset=render(dataset.describe(), _)))
        print(_.ngettext("validation accuracy {accuracy} after {epochs} epoch in {seconds} s on {device} "
                         "({stopped_by}); saved {out}",
                         "validation accuracy {accuracy} after {epochs} epochs in {seconds} s on {device} "
                         "({stopped_by}); saved {out}", result.epochs).format(
            accuracy=f"{result.val_accuracy:.4f}", epochs=result.epochs, seconds=f"{result.seconds:.1f}",
            device=result.device, stopped_by=render(result.stopped_by, _), out=out))
        if barely_trained(result.val_accuracy, len(result.classes)):
            print(_("barely trained (guessing gives {chance} %): give it more time (--time-budget) or epochs, or "
                    "train a smaller model").format(chance=f"{100 / len(result.classes):.0f}"))
    return 0


def _read_state(path: Path):
    from ..training.weights import MAX_FILE_BYTES, load_model

    return load_model(read_file(path, MAX_FILE_BYTES), path.name).model.state_dict()


def cmd_reuse(args) -> int:
    from ..analysis.reuse import reuse_csv, reuse_json, reuse_matrices

    blocks = reuse_matrices(_read_state(Path(args.weights)))
    if args.format == "csv":
        sys.stdout.write(reuse_csv(blocks))
    else:
        print(json.dumps(reuse_json(blocks), indent=2))
    return 0


def add_commands(sub, _=ENGLISH) -> None:
    p = sub.add_parser("train", help=_("train a small DenseNet-BC (CIFAR stem) on digits or an image-folder zip"))
    p.add_argument("--dataset", default="digits", help=_("'digits' (scikit-learn's, 32x32) or FOLDER.zip"))
    p.add_argument("--growth-rate", type=_positive(int), help=_("k (default 12)"))
    p.add_argument("--depth", type=_positive(int), help=_("L = 6n+4 for DenseNet-BC (default 40)"))
    p.add_argument("--compression", type=_positive(float), help=_("theta in (0, 1] (default 0.5)"))
    p.add_argument("--epochs", type=_positive(int), help=_("default: the measured default that reaches 95 %% on digits"))
    p.add_argument("--time-budget", type=_positive(float), help=_("stop after this many seconds (keeps the model)"))
    p.add_argument("--device", help=_("cpu, cuda, mps (default: the best available)"))
    p.add_argument("--out", required=True, help=_("model.safetensors"))
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--quiet", action="store_true", help=_("no progress bar"))
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("reuse", help=_("feature-reuse heatmap data (DenseNet paper Fig. 5) of a weights file"))
    p.add_argument("--weights", required=True, help=_("a .safetensors file saved by `train` or the Train page"))
    p.add_argument("--format", choices=["json", "csv"], default="json")
    p.set_defaults(func=cmd_reuse)
