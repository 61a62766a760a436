"""Errors with messages meant for people: they name what to change.

An error is raised deep in the core, where nobody knows the reader's language, so it carries an
``N_``-marked English template and its parameters: ``str(error)`` is the English line (logs,
tests), ``error.translated(_)`` the same line in the reader's language (the pages' ``show_error``
and the CLI use it). ``ConfigError`` names its field in people's words (``FIELD_NAMES``) there.
"""

from __future__ import annotations

from .i18n import N_, Message, format_template, render


class ExplorerError(Exception):
    """Base class: the CLI and the pages show the error as one line, never a traceback.

    ``ExplorerError(N_("needs {size} of memory"), size="3 GiB")``; a plain, already formatted
    text still works (it is translated only if the catalog has it as a whole)."""

    def __init__(self, message: str = "", /, **params) -> None:
        if isinstance(message, Message) and not params:  # a message made earlier keeps its template
            message, params = message.template, message.params
        self.template, self.params = str(message), params
        super().__init__(self.template.format(**params) if params else message)

    def translated(self, _) -> str:
        return format_template(self.template, self.params, _) if self.template else str(self)

    def __reduce__(self):  # any subclass survives pickling as it is (jobs send errors between processes)
        return (_restore, (type(self), self.args, dict(self.__dict__)))


def _restore(cls, args, state):
    error = Exception.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


# Config fields and inputs in people's words, for error lines a reader sees (str() keeps the field name).
FIELD_NAMES = {
    "growth_rate": N_("growth rate k"),
    "block_config": N_("layers per dense block"),
    "num_init_features": N_("stem channels k0"),
    "compression": N_("compression θ"),
    "bn_size": N_("bottleneck width (× k)"),
    "bottleneck": N_("bottleneck"),
    "drop_rate": N_("dropout rate"),
    "dropout": N_("dropout rate"),
    "dropout_aux": N_("auxiliary classifier dropout"),
    "input_size": N_("input size"),
    "num_classes": N_("number of classes"),
    "stem": N_("stem"),
    "memory_efficient": N_("memory-efficient mode"),
    "batch_size": N_("batch size"),
    "widths": N_("branch widths"),
    "width_multiplier": N_("width multiplier"),
    "in_channels": N_("input channels"),
    "branch3_kernel": N_("third branch's kernel"),
    "factorize": N_("factorisation"),
    "aux_logits": N_("auxiliary classifiers"),
    "reduction": N_("1×1 reductions"),
    "config": N_("config"),
    "file": N_("file"),
    "architecture": N_("architecture"),
    "preset": N_("preset"),
    "name": N_("name"),
    "models": N_("models"),
    "accuracy": N_("accuracy"),
    "repeats": N_("timed rounds"),
    "budget": N_("time budget"),
    "steps": N_("steps"),
    "sweep": N_("sweep"),
    "model": N_("model"),
}


class ConfigError(ExplorerError, ValueError):
    """A config field outside its allowed range: ``ConfigError(field, N_("must be ..."), low=1)``."""

    def __init__(self, field: str, message: str, label: str | None = None, /, **params) -> None:
        self.field, self.label = field, label
        self.reason = ExplorerError(message, **params)
        Exception.__init__(self, f"{label or field}: {self.reason}")
        self.template, self.params = "", {}

    def translated(self, _) -> str:
        name = self.label if self.label is not None else FIELD_NAMES.get(self.field, self.field)
        return _("{field}: {problem}").format(field=render(name, _), problem=self.reason.translated(_))


class BudgetError(ExplorerError):
    """A config that would need more memory than the budget allows; refused before allocating."""
