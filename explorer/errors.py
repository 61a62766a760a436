"""Errors with messages meant for people: they name what to change."""


class ExplorerError(Exception):
    """Base class: the CLI and the pages show str(error) as one line, never a traceback."""


class ConfigError(ExplorerError, ValueError):
    """A config field outside its allowed range."""

    def __init__(self, field: str, message: str, label: str | None = None) -> None:
        self.field = field
        super().__init__(f"{label or field}: {message}")


class BudgetError(ExplorerError):
    """A config that would need more memory than the budget allows; refused before allocating."""
