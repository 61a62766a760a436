"""``python -m explorer exercises``: a printable worksheet with an answer key, for teachers.

The same ``--seed`` gives the same numbers in every language and on the Practice page
(``practice?seed=N``).
"""

from __future__ import annotations

from ..i18n import ENGLISH, LANGUAGES
from ..teach.exercises import GENERATORS, MAX_COUNT, make_exercises, worksheet_json, worksheet_markdown


def _kinds(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def cmd_exercises(args) -> int:
    exercises = make_exercises(args.count, args.seed, args.lang, args.kinds or None)
    render = worksheet_json if args.format == "json" else worksheet_markdown
    print(render(exercises, args.seed, args.lang), end="" if args.format == "markdown" else "\n")
    return 0


def add_commands(sub, _=ENGLISH) -> None:
    p = sub.add_parser("exercises", help=_("a worksheet of generated exercises with an answer key"))
    p.add_argument("--count", type=int, default=12, help=_("number of exercises (1 to {n})").format(n=MAX_COUNT))
    p.add_argument("--seed", type=int, default=0, help=_("the same seed gives the same numbers"))
    from .main import default_language

    p.add_argument("--lang", choices=LANGUAGES, default=default_language(),
                   help=_("language of the worksheet (default: from LC_ALL/LANG)"))
    p.add_argument("--kinds", type=_kinds, help=_("comma-separated subset of: {kinds}").format(kinds=", ".join(GENERATORS)))
    p.add_argument("--format", choices=["markdown", "json"], default="markdown")
    p.set_defaults(func=cmd_exercises)
