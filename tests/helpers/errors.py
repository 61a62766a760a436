"""Checks of the one-line errors every config and CLI refusal gives."""

from __future__ import annotations

import pytest

from explorer.errors import ConfigError


def message(fn, *args, **kwargs) -> str:
    """The text of the ``ConfigError`` that ``fn(*args, **kwargs)`` raises, checked to be one line."""
    with pytest.raises(ConfigError) as error:
        fn(*args, **kwargs)
    text = str(error.value)
    assert "\n" not in text
    return text
