"""Practice: exercises with seeded random numbers; the seed in the URL gives everyone the same set."""

from __future__ import annotations

import random

import streamlit as st

from explorer.teach.exercises import (GENERATORS, KIND_TITLES, ExerciseError, check_answer, make_exercises,
                                      worksheet_markdown)
from explorer import sharing
from explorer.i18n import N_, Message, translator
from pages.ui.messages import show_error
from pages.ui.settings import link_notes
from pages.ui.state import set_widget
from pages.ui.i18n import app_link, current_language, start_page
from pages.ui.teach import md_text

_ = start_page(N_("Practice"), "✏️")
lang = current_language()


MAX_ON_PAGE = 30
SET = "practice_set"  # seed, count, kinds: plain state, so it survives page changes
WRITTEN = "practice_written_query"
state = st.session_state


def _link_int(key: str, default: int, low: int, high: int, notes: list) -> int:
    """A number from the link, clamped to [low, high]; ``notes`` say what was used instead of what."""
    if query[key] is None:
        return default
    value, problems = sharing.read_int(query, key, default, low, high)
    notes += problems
    if problems and problems[-1].endswith("(ignored)"):  # not a number: the note names the value used
        notes.append(Message(N_("{key}: used {value} instead"), key=key, value=value))
    return value


# The set is defined by its seed, count and kinds, kept in the URL so a shared link reproduces it.
# A query this page did not write (a shared link, a link from the Learn page) is applied.
query = {key: st.query_params.get(key) for key in ("seed", "count", "kinds")}
current = state.setdefault(SET, {"seed": random.randrange(10_000), "count": 12, "kinds": []})
link_problems: list = []
if any(query.values()) and query != state.get(WRITTEN):
    # never silently another seed (issue #23): seed=-1 opens seed 0 and says so
    current["seed"] = _link_int("seed", current["seed"], 0, 10**9, link_problems)
    current["count"] = _link_int("count", current["count"], 1, MAX_ON_PAGE, link_problems)
    if query["kinds"] is not None:
        current["kinds"] = [k for k in query["kinds"].split(",") if k in GENERATORS]
link_notes(link_problems)


def _changed() -> None:
    current.update(seed=state["practice_seed"], count=state["practice_count"], kinds=state["practice_kinds"])


def _new_set() -> None:
    current["seed"] = random.randrange(10_000)
    for key in [k for k in state if k.startswith("practice_answer_")]:
        del state[key]  # the old set's answers do not belong to the new questions


set_widget("practice_seed", current["seed"])
set_widget("practice_count", current["count"])
set_widget("practice_kinds", current["kinds"])
with st.sidebar:
    st.number_input(_("Seed (share the link to give the same set)"), 0, 10**9, key="practice_seed",
                    on_change=_changed)
    st.slider(_("Number of exercises"), 1, MAX_ON_PAGE, key="practice_count", on_change=_changed)
    st.multiselect(_("Kinds (none = all)"), list(GENERATORS), key="practice_kinds", on_change=_changed,
                   format_func=lambda kind: _(KIND_TITLES[kind]), placeholder=_("All kinds"))
    st.button(_("New set"), on_click=_new_set, key="practice_new_set")

seed, count, kinds = current["seed"], current["count"], current["kinds"]
written = {"seed": str(seed), "count": str(count), "kinds": ",".join(kinds) or None}
for key, value in written.items():
    if value is None:
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = value
state[WRITTEN] = written

st.markdown(_("Exercises with fresh numbers on the ideas of the Learn page. Type a number (commas, spaces and "
              "k/M/G are fine) or pick an answer, then check it; the worked solution uses the same numbers."))

try:
    exercises = make_exercises(count, seed, lang, kinds or None)
except ExerciseError as error:
    show_error(error)
    st.stop()

results: dict = state.setdefault("practice_results", {})
answered = list(results.values())
score = st.sidebar.container()
score.metric(_("Score this session"), f"{sum(answered)} / {len(answered)}")
score.caption(_("Each exercise counts once; its latest check is kept."))

st.caption(translator(lang).ngettext("{n} exercise, seed {seed}", "{n} exercises, seed {seed}", count).format(
    n=count, seed=seed))
st.download_button(_("Worksheet with answer key (Markdown)"), worksheet_markdown(exercises, seed, lang),
                   f"exercises-seed{seed}-{lang}.md", "text/markdown", key="practice_download")


def _check(index: int, exercise_id: str, exercise) -> None:
    given = state.get(f"practice_answer_{index}")
    results[exercise_id] = check_answer(exercise, given)


for i, exercise in enumerate(exercises):
    exercise_id = f"{seed}:{i}:{exercise.kind}"
    with st.container(border=True):
        st.markdown(f"**{i + 1}. {md_text(_(KIND_TITLES[exercise.kind]))}**")
        st.markdown(md_text(exercise.question))
        answer_key = f"practice_answer_{i}"
        if exercise.is_choice:
            st.radio(_("Your answer"), list(exercise.choices), key=answer_key, index=None,
                     format_func=exercise.choices.get, horizontal=True)
        else:
            st.text_input(_("Your answer"), key=answer_key)
        st.button(_("Check"), key=f"practice_check_{i}", on_click=_check, args=(i, exercise_id, exercise))
        if exercise_id in results:
            if results[exercise_id]:
                st.success(_("Correct: {answer}").format(answer=exercise.answer_text()), icon="✅")
            else:
                st.error(_("Not quite. Look at the worked solution and try again."), icon="❌")
        with st.expander(_("Worked solution")):
            st.markdown(f"**{md_text(exercise.answer_text())}**")
            st.markdown("\n".join(f"- {md_text(step)}" for step in exercise.solution))
        app_link(exercise.link, _("Show me in the explorer"))
