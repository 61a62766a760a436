"""Command line: ``python -m explorer presets | profile ...``.

Every failure a user can cause ends with exit status 2 and one line on stderr. Every command takes
``--lang en|ja`` (default: the language of ``LC_ALL``/``LC_MESSAGES``/``LANG``, else English): its
human-readable output and its error lines are in that language; ``--format json``/``csv`` output
and its keys are the same in every language, and numbers are formatted identically in both.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
import unicodedata

from ..errors import ExplorerError
from ..i18n import DEFAULT_LANGUAGE, ENGLISH, LANGUAGES, N_, normalize_language, render, translator
from ..models.densenet import STEMS
from ..models.registry import all_presets, profile
from ..units import format_bytes, format_count, format_flops, format_macs


class UsageError(ExplorerError):
    pass


# argparse's own messages (it has no Japanese catalog): the common ones as templates.
_ARGPARSE_MESSAGES = [
    (r"argument (?P<arg>\S+?): invalid (?P<kind>\w+) value: (?P<value>.*)",
     N_("argument {arg}: invalid {kind} value: {value}")),
    (r"argument (?P<arg>\S+?): invalid choice: (?P<value>.*) \(choose from (?P<choices>.*)\)",
     N_("argument {arg}: invalid choice: {value} (choose from {choices})")),
    (r"argument (?P<arg>\S+?): expected one argument", N_("argument {arg}: expected one argument")),
    (r"the following arguments are required: (?P<args>.*)", N_("the following arguments are required: {args}")),
    (r"unrecognized arguments: (?P<args>.*)", N_("unrecognized arguments: {args}")),
]


def _usage_error(message: str) -> "UsageError":
    for pattern, template in _ARGPARSE_MESSAGES:
        match = re.fullmatch(pattern, message)
        if match:
            return UsageError(template, **match.groupdict())
    return UsageError(message)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not argparse's usage block
        raise _usage_error(message)


def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None  # argparse's own line


def text_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def render_table(headers: list[str], rows: list[list], align: str | None = None) -> str:
    """Plain aligned columns: text left, numbers right (Japanese headers take two columns a character)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([text_width(h)] + [text_width(r[i]) for r in cells]) for i, h in enumerate(headers)]
    align = align or "l" + "r" * (len(headers) - 1)

    def pad(value: str, width: int, side: str) -> str:
        space = " " * (width - text_width(value))
        return value + space if side == "l" else space + value

    def line(values):
        return "  ".join(pad(v, w, a) for v, w, a in zip(values, widths, align)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in cells])


# --- presets ------------------------------------------------------------------------------

def cmd_presets(args) -> int:
    presets = all_presets()
    width = max(len(name) for name in presets)
    for name, (arch, _config) in presets.items():
        print(f"{name.ljust(width)}  {args._(arch.descriptions.get(name, arch.name))}")
    return 0


# --- profile ------------------------------------------------------------------------------

DENSENET_OVERRIDES = {
    "growth_rate": "growth_rate", "block_config": "block_config", "init_features": "num_init_features",
    "compression": "compression", "bn_size": "bn_size", "stem": "stem", "input_size": "input_size",
    "num_classes": "num_classes", "drop_rate": "drop_rate",
    "width_multiplier": "width_multiplier", "branch3_kernel": "branch3_kernel", "aux_logits": "aux_logits",
}


def _read_config_file(path: str):
    from ..sharing import MAX_CONFIG_FILE_BYTES, read_config_json

    from ..files import read_file

    return read_config_json(read_file(path, MAX_CONFIG_FILE_BYTES))  # a regular file, never more than the cap


def _profile_config(args):
    from ..models.registry import architecture_of, resolve

    if (args.preset is None) == (args.config is None):
        raise UsageError(N_("a preset name or --config FILE.json is required (one of them, not both)"))
    if args.config is not None:
        config = _read_config_file(args.config)
        arch, preset = architecture_of(config), None
    else:
        arch, config, preset = resolve(args.preset)
    changes = {field: getattr(args, opt) for opt, field in DENSENET_OVERRIDES.items()
               if getattr(args, opt, None) is not None and field in config.__dataclass_fields__}
    if args.no_bottleneck:
        changes["bottleneck"] = False
    if args.memory_efficient:
        changes["memory_efficient"] = True
    unsupported = [opt for opt, field in DENSENET_OVERRIDES.items()
                   if getattr(args, opt, None) is not None and field not in config.__dataclass_fields__]
    if unsupported:
        raise UsageError(N_("{option} does not apply to {arch} presets"), option=f"--{unsupported[0].replace('_', '-')}",
                         arch=arch.name)
    flags = {"bottleneck": "--no-bottleneck", "memory_efficient": "--memory-efficient"}
    unsupported = [flags[f] for f in changes if f in flags and f not in config.__dataclass_fields__]
    if unsupported:
        raise UsageError(N_("{option} does not apply to {arch} presets"), option=unsupported[0], arch=arch.name)
    return (config.replace(**changes) if changes else config), preset


def profile_table(result, _=ENGLISH) -> str:
    t = result.totals
    head = [
        _("{arch} {preset}  input {input}  batch {batch}").format(
            arch=result.arch, preset=result.preset or _("(custom)"), input="x".join(map(str, result.input)),
            batch=result.batch_size),
        _("params {params} ({exact_params})   MACs {macs} ({exact_macs})   FLOPs {flops}").format(
            params=format_count(t["params"]), exact_params=f"{t['params']:,}", macs=format_macs(t["macs"]),
            exact_macs=f"{t['macs']:,}", flops=format_flops(t["flops"])),
        _("weights {weights}   training activations {activations}").format(
            weights=format_bytes(t["param_bytes"]), activations=format_bytes(t["activation_bytes"])),
        "",
    ]
    rows = [[b.name, b.kind, b.in_channels, b.out_channels, f"{b.height}x{b.width}", b.layers,
             format_count(b.params), format_macs(b.macs), format_bytes(b.activation_bytes)] for b in result.blocks]
    headers = [N_("block"), N_("kind"), N_("in ch"), N_("out ch"), N_("size"), N_("layers"), N_("params"),
               N_("MACs"), N_("activations")]
    return "\n".join(head) + render_table([_(h) for h in headers], rows, "llrrrrrrr")


def layers_table(result, _=ENGLISH) -> str:
    rows = [[r.name, r.kind, r.in_channels, r.out_channels, f"{r.height}x{r.width}", format_count(r.params),
             format_macs(r.macs), format_bytes(r.activation_bytes)] for r in result.layers]
    headers = [N_("layer"), N_("kind"), N_("in ch"), N_("out ch"), N_("size"), N_("params"), N_("MACs"),
               N_("activations")]
    return render_table([_(h) for h in headers], rows, "llrrrrrr")


def cmd_profile(args) -> int:
    config, preset = _profile_config(args)
    result = profile(config, batch_size=args.batch_size)
    result.preset = preset if preset is not None and config == _preset_config(preset) else None
    # No memory budget here: the profile is arithmetic and allocates nothing (issue #23).
    memory = _training_memory(result, args)
    if args.format == "json":
        data = result.to_dict()
        data["totals"].update(memory)
        print(json.dumps(data, indent=2))
    elif args.format == "csv":
        sys.stdout.write(result.layers_csv())
    else:
        print(profile_table(result, args._))
        if memory:
            print(_memory_line(memory, args))
        if args.layers:
            print()
            print(layers_table(result, args._))
    return 0


def _training_memory(result, args) -> dict:
    """DenseNet only (the footprint is validated against measurements for it): the whole
    training step's peak and inference, see ``explorer.analysis.footprint``."""
    if result.arch != "densenet":
        if args.optimizer or args.precision:
            raise UsageError(N_("--optimizer and --precision apply to DenseNet presets, not {arch}"), arch=result.arch)
        return {}
    from ..analysis.footprint import training_footprint

    f = training_footprint(result, args.optimizer or "sgd", args.precision or "fp32")
    memory = {"training_bytes": f.training_bytes if f.can_train else None, "inference_bytes": f.inference_bytes}
    if not f.can_train:
        memory["cannot_train"] = f.reason
    return memory


def _memory_line(memory: dict, args) -> str:
    _ = args._
    training = (format_bytes(memory["training_bytes"]) if memory["training_bytes"] is not None
                else _("cannot train ({why})").format(why=render(memory["cannot_train"], _)))
    return "\n" + _("training step ({optimizer}, {precision}) {training}   inference {inference}").format(
        optimizer=args.optimizer or "sgd", precision=args.precision or "fp32", training=training,
        inference=format_bytes(memory["inference_bytes"]))


def _preset_config(name):
    return all_presets()[name][1]


# --- entry point --------------------------------------------------------------------------

def default_language(environ=os.environ) -> str:
    """The language of the user's locale (``LC_ALL``, then ``LC_MESSAGES``, then ``LANG``, as POSIX
    reads them), or English."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if environ.get(name):
            return normalize_language(environ[name]) or DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def _requested_language(argv: list[str]) -> str:
    """``--lang`` as typed, read before parsing, so that a parsing error is in that language too."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return normalize_language(argv[i + 1]) or default_language()
        if arg.startswith("--lang="):
            return normalize_language(arg.partition("=")[2]) or default_language()
    return default_language()


def build_parser(_=ENGLISH) -> argparse.ArgumentParser:
    """The parser, its help in the language of ``_``."""
    parser = _Parser(prog="python -m explorer", description=_("Explore DenseNet and Inception architectures."))
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("presets", help=_("list preset names"))
    p.set_defaults(func=cmd_presets)

    p = sub.add_parser("profile", help=_("analytic params, MACs and memory of a preset, optionally modified"))
    p.add_argument("preset", nargs="?", help=_("a preset name (see `presets`), or use --config"))
    p.add_argument("--config", metavar="FILE.json", help=_("a config file downloaded from a Build page"))
    p.add_argument("--growth-rate", type=int)
    p.add_argument("--block-config", type=_int_list)
    p.add_argument("--init-features", type=int)
    p.add_argument("--compression", type=float)
    p.add_argument("--no-bottleneck", action="store_true")
    p.add_argument("--bn-size", type=int)
    p.add_argument("--drop-rate", type=float)
    p.add_argument("--stem", choices=STEMS)
    p.add_argument("--input-size", type=int)
    p.add_argument("--num-classes", type=int)
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--memory-efficient", action="store_true")
    p.add_argument("--optimizer", choices=["sgd", "momentum", "adam"],
                   help=_("DenseNet: optimizer state in training_bytes (default sgd)"))
    p.add_argument("--precision", choices=["fp32", "amp"], help=_("DenseNet: float32 or autocast (default fp32)"))
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    p.add_argument("--layers", action="store_true", help=_("table format: also list every layer"))
    p.set_defaults(func=cmd_profile)

    for module in COMMAND_MODULES:
        importlib.import_module(module).add_commands(sub, _)
    for command in sub.choices.values():  # every command speaks the user's language
        if not any("--lang" in action.option_strings for action in command._actions):
            command.add_argument("--lang", choices=LANGUAGES, default=default_language(),
                                 help=_("language of the text output and errors (default: from LC_ALL/LANG)"))
    return parser


# Modules that add sub-commands through their own ``add_commands(subparsers)``.
COMMAND_MODULES: list[str] = ["explorer.cli.compare", "explorer.cli.inception", "explorer.cli.explain",
                              "explorer.cli.exercises", "explorer.cli.train"]


class StdoutError(ExplorerError):
    """Standard output cannot be written (a full disk or device, a closed pipe)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(N_("cannot write the output: {why}"), why=error.strerror or str(error))
        self.broken_pipe = isinstance(error, BrokenPipeError)


class _GuardedStdout:
    """``sys.stdout`` while a command runs: a failed write is a ``StdoutError`` (one line, not a
    traceback), after which the stream is pointed at /dev/null so that Python's own flush at exit
    cannot fail again; text the stream's encoding cannot hold is escaped, never an error."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            try:
                return self._stream.write(text)
            except UnicodeEncodeError:
                encoding = self._stream.encoding or "ascii"
                return self._stream.write(text.encode(encoding, "backslashreplace").decode(encoding))
        except OSError as error:
            raise self._failed(error) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as error:
            raise self._failed(error) from None

    def _failed(self, error: OSError) -> StdoutError:
        if self._stream is sys.__stdout__:
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self._stream.fileno())
                os.close(devnull)
            except (OSError, ValueError):
                pass
        return StdoutError(error)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _say(line: str) -> None:
    """One line on stderr, whatever its encoding or state."""
    try:
        encoding = getattr(sys.stderr, "encoding", None) or "ascii"
        print(line.encode(encoding, "backslashreplace").decode(encoding), file=sys.stderr, flush=True)
    except (OSError, ValueError, LookupError):
        pass


def _shown_language(lang: str) -> str:
    """``lang``, or English where stdout or stderr cannot encode Japanese (an ASCII-only terminal)."""
    if lang == DEFAULT_LANGUAGE:
        return lang
    for stream in (sys.stdout, sys.stderr):
        try:
            "日本語：（）".encode(getattr(stream, "encoding", None) or "ascii")
        except (UnicodeEncodeError, LookupError):
            return DEFAULT_LANGUAGE
    return lang


def main(argv: list[str] | None = None) -> int:
    real_stdout = sys.stdout
    sys.stdout = guarded = _GuardedStdout(real_stdout)
    try:
        return _main(sys.argv[1:] if argv is None else list(argv))
    finally:
        try:
            guarded.flush()  # what an error left behind: its line already said what went wrong
        except StdoutError:
            pass
        sys.stdout = real_stdout


def _main(argv: list[str]) -> int:
    _ = translator(_shown_language(_requested_language(argv)))
    try:
        try:
            args = build_parser(_).parse_args(argv)
        finally:
            sys.stdout.flush()  # --help's text, before argparse's exit
        requested, args.lang = args.lang, _shown_language(args.lang)
        args._ = _ = translator(args.lang)
        status = args.func(args)
        sys.stdout.flush()  # a full disk or device fails here at the latest
        if requested != args.lang:
            _say(f"note: the output is in English: this terminal's encoding ({sys.stdout.encoding}) cannot show "
                 f"--lang {requested}")
        return status
    except StdoutError as error:
        if error.broken_pipe:  # the reader left (`| head`): nothing to report
            return 0
        _say(_("error: {message}").format(message=render(error, _)))
        return 2
    except ExplorerError as error:
        # English keeps the error's own line (it names fields as the options do: growth_rate)
        message = str(error) if _.lang == DEFAULT_LANGUAGE else render(error, _)
        _say(_("error: {message}").format(message=message))
        return 2
    except OSError as error:  # the environment (a missing file, a full disk...): one line too
        where = f": {error.filename}" if error.filename else ""
        _say(_("error: {message}").format(message=f"{error.strerror or error}{where}"))
        return 2
    except KeyboardInterrupt:
        _say(_("error: {message}").format(message=_("interrupted")))
        return 130

