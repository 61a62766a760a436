"""What a config field may hold, checked in one place, and the one (de)serialisation every config shares.

``Range`` is an allowed interval (integers or numbers, either end open or closed). The configs
validate with it and the widgets, sweeps and CLI take their bounds from the same object
(``low, high = LIMITS["growth_rate"]``); the ranges themselves live in ``limits.py``.
``ConfigFields`` gives a frozen config dataclass ``replace``, ``to_dict`` and a strict ``from_dict``.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from dataclasses import dataclass
from fractions import Fraction

from ..errors import ConfigError
from ..i18n import N_, Message


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    integer: bool = True
    open_low: bool = False  # low itself is outside the range
    open_high: bool = False

    def __iter__(self):  # low, high: a widget's min and max
        return iter((self.low, self.high))

    def __getitem__(self, index: int):
        return (self.low, self.high)[index]

    def __contains__(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, int if self.integer else (int, float)):
            return False
        above = self.low < value if self.open_low else self.low <= value
        below = value < self.high if self.open_high else value <= self.high
        return above and below

    def describe(self) -> Message:
        if self.integer:
            return Message(N_("an integer from {low} to {high}"), low=self.low, high=self.high)
        if not (self.open_low or self.open_high):
            return Message(N_("a number from {low} to {high}"), low=self.low, high=self.high)
        interval = f"{'(' if self.open_low else '['}{self.low}, {self.high}{')' if self.open_high else ']'}"
        return Message(N_("in {interval}"), interval=interval)

    def check(self, field: str, value, label: str | None = None, hint: str = "") -> None:
        """``hint``: a text (a ``Message``) appended after '; '."""
        if value not in self:
            hint = hint.removeprefix("; ") if type(hint) is str else hint
            if hint:
                raise ConfigError(field, N_("must be {allowed}, got {value}; {hint}"), label,
                                  allowed=self.describe(), value=repr(value), hint=hint)
            raise ConfigError(field, N_("must be {allowed}, got {value}"), label, allowed=self.describe(),
                              value=repr(value))


def as_typed(number: float) -> Fraction:
    """A float read as the decimal the user typed (0.7, not 0.6999999999999999556): theta and the
    width multiplier scale channel counts, where that last digit decides a rounding."""
    return Fraction(repr(float(number)))


def check_bool(field: str, value) -> None:
    if not isinstance(value, bool):
        raise ConfigError(field, N_("must be true or false, got {value}"), value=repr(value))


def check_choice(field: str, value, choices) -> None:
    if value not in choices:
        raise ConfigError(field, N_("must be one of {choices}, got {value}"), choices=", ".join(map(str, choices)),
                          value=repr(value))


# --- (de)serialisation ----------------------------------------------------------------------------

_TYPE_WORDS = {int: N_("an integer"), float: N_("a number"), bool: N_("true or false"), str: N_("a string")}


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _parse(field: str, value, kind):
    """``value`` as a field of type ``kind`` holds it: lists become tuples; anything else of the
    wrong type is refused (ranges are the config's own checks, run when it is built)."""
    if typing.get_origin(kind) is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(field, N_("must be a list, got {value}"), value=_short(value))
        item = typing.get_args(kind)[0]  # every tuple field is tuple[X, ...]
        return tuple(_parse(field, v, item) for v in value)
    if kind is float:
        ok = isinstance(value, (int, float))  # JSON writes 1.0 as 1
    else:
        ok = isinstance(value, kind)
    if not ok or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(field, N_("must be {allowed}, got {value}"), allowed=Message(_TYPE_WORDS[kind]),
                          value=_short(value))
    return value


@functools.cache
def _field_types(cls) -> dict:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _plain(value):
    return [_plain(v) for v in value] if isinstance(value, tuple) else value


class ConfigFields:
    """``replace``, ``to_dict`` and ``from_dict`` for a frozen config dataclass.

    ``from_dict`` is strict, for data from files and links: unknown keys and values of the wrong
    type are refused with one line naming the field; missing keys take their defaults; lists
    become tuples; then the config validates itself as when built directly.
    """

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Every field in declaration order, tuples as lists (JSON's shape)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data):
        if not isinstance(data, dict):
            raise ConfigError("config", N_("must be a mapping of field names to values, got {kind}"),
                              kind=type(data).__name__)
        types = _field_types(cls)
        unknown = [key for key in data if key not in types]
        if unknown:
            raise ConfigError(str(unknown[0]), N_("unknown field; expected one of {fields}"),
                              fields=", ".join(sorted(types)))
        return cls(**{name: _parse(name, value, types[name]) for name, value in data.items()})
