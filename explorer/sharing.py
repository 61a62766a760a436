"""How a config leaves the app and comes back: a short, readable URL query, and a JSON file.

``to_query(config, base)`` writes only the fields that differ from ``base`` (the preset the user
started from), under short keys: ``k=24&theta=0.7&blocks=6,12,24,16``. ``from_query`` reads a
query that anybody may have typed: unknown keys, unparsable values, out-of-range numbers and
oversized lists never raise; the nearest valid value is used (or the field is dropped) and each
such decision comes back as a note for one line on the page. Nothing is allocated from a query
beyond its (capped) text: lists are cut at ``MAX_LIST`` items before they are parsed.

Floats are written with ``repr`` (the shortest text that reads back to the same float), so
``config -> query -> config`` is the identity (theta 0.29 stays 0.29, not 0.28999...).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Callable
from urllib.parse import parse_qsl, urlencode

from .errors import ConfigError
from .i18n import N_, Message

MAX_QUERY_CHARS = 4096  # longer queries are cut before parsing
MAX_VALUE_CHARS = 512
MAX_LIST = 64  # items in one list value (a GoogLeNet width table has 54)


@dataclass(frozen=True)
class Key:
    """One config field in a URL: its short name, the field, how it is written, its bounds."""

    short: str
    field: str
    kind: str  # "int", "float", "bool", "choice", "ints"/"floats" (comma lists), "table" (rows '_', items '.')
    low: float | None = None
    high: float | None = None
    choices: tuple = ()


def _densenet_keys() -> tuple[Key, ...]:
    from .models.densenet import STEMS
    from .models.limits import DENSENET as LIMITS
    from .models.limits import DENSENET_OFFERED as OFFERED

    return (
        Key("k", "growth_rate", "int", *LIMITS["growth_rate"]),
        Key("blocks", "block_config", "ints", *LIMITS["block_layers"]),
        Key("theta", "compression", "float", *OFFERED["compression"]),
        Key("bottleneck", "bottleneck", "bool"),
        Key("bn", "bn_size", "int", *LIMITS["bn_size"]),
        Key("k0", "num_init_features", "int", *LIMITS["num_init_features"]),
        Key("stem", "stem", "choice", choices=STEMS),
        Key("size", "input_size", "int", *LIMITS["input_size"]),
        Key("drop", "drop_rate", "float", *OFFERED["drop_rate"]),
        Key("mem", "memory_efficient", "bool"),
        Key("classes", "num_classes", "int", *LIMITS["num_classes"]),
    )


def _googlenet_keys(prefix: str = "") -> tuple[Key, ...]:
    from .models.googlenet import STEMS
    from .models.inception import BRANCH3_KERNELS, FACTORIZE
    from .models.limits import GOOGLENET as LIMITS

    return (
        Key(f"{prefix}widths", "widths", "table", 0, LIMITS["width"][1]),
        Key(f"{prefix}mult", "width_multiplier", "float", *LIMITS["width_multiplier"]),
        Key(f"{prefix}kernel", "branch3_kernel", "choice", choices=BRANCH3_KERNELS),
        Key(f"{prefix}factorize", "factorize", "choice", choices=FACTORIZE),
        Key(f"{prefix}aux", "aux_logits", "bool"),
        Key(f"{prefix}stem", "stem", "choice", choices=STEMS),
        Key(f"{prefix}size", "input_size", "int", *LIMITS["input_size"]),
        Key(f"{prefix}classes", "num_classes", "int", *LIMITS["num_classes"]),
    )


def _module_keys() -> tuple[Key, ...]:
    from .models.inception import BRANCH3_KERNELS, FACTORIZE
    from .models.limits import INCEPTION_MODULE_OFFERED as OFFERED

    return (  # the designer's slider ranges: a link must not set a slider beyond its ends
        Key("in_channels", "in_channels", "int", *OFFERED["in_channels"]),
        Key("widths", "widths", "ints", *OFFERED["width"]),
        Key("size", "input_size", "int", *OFFERED["module_size"]),
        Key("reduction", "reduction", "bool"),
        Key("factorize", "factorize", "choice", choices=FACTORIZE),
        Key("kernel", "branch3_kernel", "choice", choices=BRANCH3_KERNELS),
    )


def keys_for(config, prefix: str = "") -> tuple[Key, ...]:
    """The URL keys of a config's type (DenseNet, GoogLeNet or one Inception module)."""
    name = type(config).__name__
    if name == "DenseNetConfig":
        return _densenet_keys()
    if name == "GoogLeNetConfig":
        return _googlenet_keys(prefix)
    if name == "InceptionModuleConfig":
        return _module_keys()
    raise ConfigError("config", N_("{name} has no link format"), name=name)


# --- writing ---------------------------------------------------------------------------------------

def _write(kind: str, value) -> str:
    if kind == "bool":
        return "1" if value else "0"
    if kind == "float":
        return repr(float(value)).removesuffix(".0") if float(value).is_integer() else repr(float(value))
    if kind == "ints":
        return ",".join(str(int(v)) for v in value)
    if kind == "table":
        return "_".join(".".join(str(int(v)) for v in row) for row in value)
    return str(value)


def to_query(config, base=None, prefix: str = "") -> dict[str, str]:
    """The fields of ``config`` that differ from ``base`` (all of them when base is None)."""
    result = {}
    for key in keys_for(config, prefix):
        value = getattr(config, key.field)
        if base is None or getattr(base, key.field) != value:
            result[key.short] = _write(key.kind, value)
    return result


# --- reading ---------------------------------------------------------------------------------------

class _Ignored(Exception):
    """A value that cannot be used at all (the note says why: its argument, a ``Message``)."""


def _ignored(key: str, why) -> Message:
    """The note for a setting of a link that was not used; ``why`` a message or an error."""
    why = why.args[0] if isinstance(why, _Ignored) else why
    return Message(N_("{key}: {why} (ignored)"), key=key, why=why)


def _number(text: str, integer: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _Ignored(Message(N_("not a number"))) from None
    if not math.isfinite(value):
        raise _Ignored(Message(N_("not a finite number")))
    return round(value) if integer else value


def _clamp(key: Key, value, notes: list[str], shown: str):
    if key.low is not None and value < key.low:
        notes.append(Message(N_("{key}={value} is below {low}: used {low}"), key=key.short, value=shown,
                             low=_fmt(key.low)))
        return type(value)(key.low)
    if key.high is not None and value > key.high:
        notes.append(Message(N_("{key}={value} is above {high}: used {high}"), key=key.short, value=shown,
                             high=_fmt(key.high)))
        return type(value)(key.high)
    return value


def _fmt(x: float) -> str:
    return f"{x:g}"


def _items(text: str, sep: str) -> list[str]:
    parts = text.split(sep, MAX_LIST)  # never split more than needed
    if len(parts) > MAX_LIST:
        raise _Ignored(Message(N_("more than {n} items"), n=MAX_LIST))
    return parts


def _read(key: Key, text: str, notes: list[str]):
    shown = text if len(text) <= 24 else text[:21] + "..."
    if len(text) > MAX_VALUE_CHARS:
        raise _Ignored(Message(N_("too long")))
    if key.kind == "bool":
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise _Ignored(Message(N_("not 0 or 1")))
    if key.kind in ("int", "float"):
        return _clamp(key, _number(text, key.kind == "int"), notes, shown)
    if key.kind == "choice":
        for choice in key.choices:
            if text == str(choice):
                return choice
        raise _Ignored(Message(N_("not one of {choices}"), choices=", ".join(map(str, key.choices))))
    if key.kind in ("ints", "floats"):
        integer = key.kind == "ints"
        values = [_number(part, integer) for part in _items(text, ",") if part.strip()]
        if not values:
            raise _Ignored(Message(N_("empty list")))
        return tuple(_clamp(key, int(v) if integer else v, notes, str(v)) for v in values)
    if key.kind == "table":
        rows = []
        for row in _items(text, "_"):
            rows.append(tuple(_clamp(key, int(_number(v, True)), notes, v) for v in _items(row, ".")))
        if len(rows) * max(len(r) for r in rows) > MAX_LIST:
            raise _Ignored(Message(N_("more than {n} numbers"), n=MAX_LIST))
        return tuple(rows)
    raise _Ignored(Message(N_("unknown kind")))


def _read_setting(query: dict[str, str], key: str, kind: str, default, low, high):
    """One setting of a page (not a config field) read as ``kind`` and clamped: (value, notes)."""
    if key not in query:
        return default, []
    notes: list[str] = []
    try:
        return _read(Key(key, key, kind, low, high), str(query[key]), notes), notes
    except _Ignored as why:
        return default, [_ignored(key, why)]


def read_int(query: dict[str, str], key: str, default: int, low: int, high: int) -> tuple[int, list[str]]:
    value, notes = _read_setting(query, key, "int", default, low, high)
    return int(value), notes


def read_float(query: dict[str, str], key: str, default: float, low: float, high: float) -> tuple[float, list[str]]:
    value, notes = _read_setting(query, key, "float", default, low, high)
    return float(value), notes


def read_pair(query: dict[str, str], key: str, low: float, high: float, integer: bool):
    """A 'low,high' range setting clamped to [low, high], or None; and notes."""
    values, notes = _read_setting(query, key, "ints" if integer else "floats", None, low, high)
    if values is None:
        return None, notes
    if len(values) != 2 or values[0] > values[1]:
        return None, [_ignored(key, Message(N_("not low,high")))]
    return tuple(values), notes


def read_choice(query: dict[str, str], key: str, default, choices) -> tuple[object, list[str]]:
    """One setting of a page chosen from ``choices`` (compared as text)."""
    if key not in query:
        return default, []
    for choice in choices:
        if str(query[key]) == str(choice):
            return choice, []
    return default, [_ignored(key, Message(N_("unknown value")))]


MAX_FIELDS = 64


def parse_query_text(text: str) -> dict[str, str]:
    """A raw query string as a dict (last value wins), cut at MAX_QUERY_CHARS and MAX_FIELDS."""
    pairs = text[:MAX_QUERY_CHARS].split("&", MAX_FIELDS)[:MAX_FIELDS]
    return dict(parse_qsl("&".join(pairs), keep_blank_values=True))


def bounded(query: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """A query as a page received it, cut to MAX_FIELDS keys and MAX_QUERY_CHARS characters;
    a value longer than MAX_VALUE_CHARS is dropped by name."""
    kept, notes, used = {}, [], 0
    for key, value in list(query.items())[:MAX_FIELDS]:
        key, value = str(key)[:40], str(value)
        if len(value) > MAX_VALUE_CHARS:
            notes.append(_ignored(key, Message(N_("too long"))))
            continue
        used += len(key) + len(value) + 2
        if used > MAX_QUERY_CHARS:
            notes.append(Message(N_("the link is too long: read its first {n} settings only"), n=len(kept)))
            break
        kept[key] = value
    if len(query) > MAX_FIELDS:
        notes.append(Message(N_("the link has {n} settings: read the first {first} only"), n=len(query),
                             first=MAX_FIELDS))
    return kept, notes


def from_query(query: dict[str, str], base, prefix: str = "") -> tuple[object, list[str]]:
    """``base`` with the query's fields applied, and notes on what was ignored or adjusted.

    Keys that are not this config's are left alone (pages own other keys). A combination that the
    config refuses as a whole (e.g. too many blocks for a small input) moves the offending number to
    the nearest value the config accepts (size=8 with four blocks: 32 px), or drops the field
    when it is not a number or no value between the link's and the base's is accepted."""
    notes: list[str] = []
    changes = {}
    for key in keys_for(base, prefix):
        if key.short not in query:
            continue
        try:
            changes[key.field] = _read(key, str(query[key.short]), notes)
        except _Ignored as why:
            notes.append(_ignored(key.short, why))
    if "block_config" in changes:
        from .models.limits import DENSENET

        low, high = DENSENET["num_blocks"]
        if len(changes["block_config"]) > high:
            notes.append(Message(N_("blocks: at most {high} dense blocks, kept the first {high}"), high=high))
            changes["block_config"] = changes["block_config"][:high]
    by_field = {k.field: k for k in keys_for(base, prefix)}
    moved = set()  # fields already moved to their nearest accepted value: refused again, they are dropped
    for _ in range(2 * len(changes) + 1):
        try:
            return base.replace(**changes), notes
        except ConfigError as error:
            field = error.field if error.field in changes else next(iter(changes), None)
            if field is None:
                break
            key = by_field.get(field)
            nearest = (_nearest_accepted(base, changes, key, error.field)
                       if key is not None and field not in moved else None)
            if nearest is None:
                notes.append(_ignored(key.short if key else field, error))
                del changes[field]
            else:
                notes.append(Message(N_("{key}={value} is refused ({why}): used {used}"), key=key.short,
                                     value=_write(key.kind, changes[field]), why=error,
                                     used=_write(key.kind, nearest)))
                changes[field] = nearest
                moved.add(field)
    return base, notes


_FLOAT_STEPS = 10_000  # a float field is searched in steps of 0.0001, the precision the sliders show


def _nearest_accepted(base, changes: dict, key: Key, blamed: str):
    """The value of the number field ``key`` nearest to its value in ``changes``, on the way to the
    base's value, at which the config no longer refuses field ``blamed`` (``key``'s own field, or
    another that it drives: net_mult=4 makes a width too large); None when there is none.
    Bisection: the refusals (a map that shrinks to nothing, a transition left without channels, a
    width over its limit) are thresholds, so the boundary found is the nearest accepted value."""
    if key.kind not in ("int", "float"):
        return None
    scale = 1 if key.kind == "int" else _FLOAT_STEPS

    def value(steps: int):
        return steps if key.kind == "int" else steps / scale

    def refused(steps: int) -> bool:
        try:
            base.replace(**{**changes, key.field: value(steps)})
            return False
        except ConfigError as error:
            return error.field == blamed

    bad, good = round(changes[key.field] * scale), round(getattr(base, key.field) * scale)
    if bad == good or refused(good):
        return None
    while abs(good - bad) > 1:  # good stays accepted, bad refused
        middle = (good + bad) // 2
        if refused(middle):
            bad = middle
        else:
            good = middle
    return value(good)


def query_string(query: dict[str, str]) -> str:
    return urlencode(query, safe=",_.")


# --- a user's build inside another page's address ----------------------------------------------------

MAX_BUILD_NAME = 60


def _default_base(arch_name: str):
    from .models.registry import ARCHITECTURES

    return next(iter(ARCHITECTURES[arch_name].presets.values()))


def build_to_text(name: str, config) -> str:
    """'name|architecture|k=24&theta=0.7': a build (a name and a config) as one query value."""
    from .models.registry import architecture_of

    arch = architecture_of(config).name
    return f"{name}|{arch}|{query_string(to_query(config, _default_base(arch)))}"


def build_name(name: str) -> str:
    """A user's name for a build, as kept (spaces collapsed, at most ``MAX_BUILD_NAME``
    characters), or a one-line ConfigError: the one rule for the Build pages' "Add to comparison"
    and for builds read from a link. ',' and '|' separate builds and their parts in an address."""
    name = " ".join(str(name or "").split())[:MAX_BUILD_NAME]
    if not name:
        raise ConfigError("name", N_("give the build a name (1 to 60 characters)"))
    if any(c in name for c in ",|"):
        raise ConfigError("name", N_("a build name cannot contain ',' or '|'"))
    return name


def build_from_text(text: str) -> tuple[str, object | None, list[str]]:
    """(name, config or None, notes) for one ``build_to_text`` value; never raises. A name the
    Build pages would refuse is refused here too (the config is None, a note says why)."""
    from .models.registry import ARCHITECTURES

    parts = str(text)[:MAX_VALUE_CHARS].rsplit("|", 2)
    if len(parts) != 3:
        return "", None, [Message(N_("build: not name|architecture|settings (ignored)"))]
    name, arch, settings = parts
    try:
        name = build_name(name)
    except ConfigError as error:
        shown = " ".join(name.split())[:MAX_BUILD_NAME] or '""'
        return shown, None, [Message(N_("build {name}: {why} (ignored)"), name=shown, why=error)]
    if arch not in ARCHITECTURES:
        return name, None, [Message(N_("build {name}: unknown architecture (ignored)"), name=name)]
    try:
        config, notes = from_query(parse_query_text(settings), _default_base(arch))
    except ConfigError as error:  # an architecture without a link format
        return name, None, [Message(N_("build {name}: {why} (ignored)"), name=name, why=error)]
    return name, config, [Message(N_("build {name}: {note}"), name=name, note=note) for note in notes]


# --- config files ----------------------------------------------------------------------------------

MAX_CONFIG_FILE_BYTES = 256 * 1024  # a GoogLeNet config is about 1 KB


def config_json(config) -> str:
    """The file the Build pages download: the architecture's name and the config's fields."""
    from .models.registry import architecture_of

    return json.dumps({"architecture": architecture_of(config).name, "config": config.to_dict()}, indent=2)


def read_config_json(data: bytes | str, architecture: str | None = None):
    """A config from ``config_json``'s text (or a bare field dict when ``architecture`` is given).
    Raises ConfigError with one line for bad JSON, a wrong architecture or a refused field."""
    from .models.registry import ARCHITECTURES

    if len(data) > MAX_CONFIG_FILE_BYTES:
        raise ConfigError("file", N_("a config file is at most {size} KiB; this one is larger"),
                          size=MAX_CONFIG_FILE_BYTES // 1024)
    document = read_json(data, lambda why: ConfigError("file", N_("not valid JSON ({why})"), why=why))
    if isinstance(document, dict) and "architecture" in document:
        name, fields_ = document.get("architecture"), document.get("config")
    else:
        name, fields_ = architecture, document
    if name not in ARCHITECTURES:
        known = ", ".join(ARCHITECTURES)
        raise ConfigError("architecture", N_("unknown architecture {name}; expected one of {known}"),
                          name=repr(str(name)[:40]), known=known)
    if architecture is not None and name != architecture:
        raise ConfigError("architecture", N_("this is a {name} config; this page builds {architecture}"), name=name,
                          architecture=architecture)
    if not isinstance(fields_, dict):
        raise ConfigError("config", N_("expected an object of config fields"))
    try:
        return ARCHITECTURES[name].config_type.from_dict(fields_)
    except ConfigError:
        raise
    except (TypeError, ValueError) as error:
        raise ConfigError("config", N_("a field has the wrong type ({why})"), why=str(error)) from None


MAX_JSON_DEPTH = 32  # objects and lists inside each other; the app's own files nest 4 deep


def read_json(data: bytes | str, refused: Callable[[str], Exception]):
    """``json.loads`` for text from a user or a file: ``refused(why)`` (an error with one line)
    for anything unreadable, deep nesting included: ``[[[[...`` 100 000 levels down fits in the
    256 KiB of a config file and raises RecursionError in the parser, and 900 levels parse but
    break whatever walks them next (``str``, pickling a job's arguments)."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise refused(str(error).split(":")[0]) from None
    except RecursionError:
        document = None
    else:
        level, depth = [document], 0  # the values ``depth`` containers down, breadth first (no recursion)
        while level and depth < MAX_JSON_DEPTH:
            level = [v for x in level if isinstance(x, (dict, list)) for v in (x.values() if isinstance(x, dict) else x)]
            depth += 1
        if not any(isinstance(x, (dict, list)) for x in level):
            return document
    raise refused(Message(N_("nested more than {depth} levels deep"), depth=MAX_JSON_DEPTH)) from None


# CSV downloads: the one rule lives in explorer.csvtext (a leaf the models may import too).
from .csvtext import csv_cell, csv_text  # noqa: E402,F401 - re-exported

