"""Practice: exercises with seeded random numbers; the seed in the URL gives everyone the same set."""

from __future__ import annotations

import random

import streamlit as st

from explorer.teach.exercises import (GENERATORS, KIND_TITLES, MAX_COUNT, ExerciseError, check_answer,
                                      make_exercises, worksheet_markdown)
from explorer.i18n import N_, translator
from pages import show_error
from pages.ui.i18n import app_link, current_language, start_page
from pages.ui.teach import md_text

_ = start_page(N_("Practice"), "✏️")
lang = current_language()


def _query_int(name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(st.query_params.get(name, default))
    except (TypeError, ValueError):
        return default
    return value if low <= value <= high else default


# The set is defined by the URL (seed, count, kinds), so a shared link reproduces it.
if "practice_seed" not in st.session_state:
    st.session_state["practice_seed"] = _query_int("seed", random.randrange(10_000), 0, 10**9)
    st.session_state["practice_count"] = _query_int("count", 12, 1, MAX_COUNT)
    wanted = [k for k in st.query_params.get("kinds", "").split(",") if k in GENERATORS]
    st.session_state["practice_kinds"] = wanted


def _new_set() -> None:
    st.session_state["practice_seed"] = random.randrange(10_000)
    for key in [k for k in st.session_state if k.startswith("practice_answer_")]:
        del st.session_state[key]  # the old set's answers do not belong to the new questions


with st.sidebar:
    st.number_input(_("Seed (share the link to give the same set)"), 0, 10**9, key="practice_seed")
    st.slider(_("Number of exercises"), 1, 30, key="practice_count")
    st.multiselect(_("Kinds (none = all)"), list(GENERATORS), key="practice_kinds",
                   format_func=lambda kind: _(KIND_TITLES[kind]))
    st.button(_("New set"), on_click=_new_set, key="practice_new_set")

seed, count, kinds = (st.session_state["practice_seed"], st.session_state["practice_count"],
                      st.session_state["practice_kinds"])
st.query_params.update({"seed": str(seed), "count": str(count)})
if kinds:
    st.query_params["kinds"] = ",".join(kinds)
elif "kinds" in st.query_params:
    del st.query_params["kinds"]

st.markdown(_("Exercises with fresh numbers on the ideas of the Learn page. Type a number (commas, spaces and "
              "k/M/G are fine) or pick an answer, then check it; the worked solution uses the same numbers."))

try:
    exercises = make_exercises(count, seed, lang, kinds or None)
except ExerciseError as error:
    show_error(error)
    st.stop()

results: dict = st.session_state.setdefault("practice_results", {})
answered = list(results.values())
score = st.sidebar.container()
score.metric(_("Score this session"), f"{sum(answered)} / {len(answered)}")
score.caption(_("Each exercise counts once; its latest check is kept."))

st.caption(translator(lang).ngettext("{n} exercise, seed {seed}", "{n} exercises, seed {seed}", count).format(
    n=count, seed=seed))
st.download_button(_("Worksheet with answer key (Markdown)"), worksheet_markdown(exercises, seed, lang),
                   f"exercises-seed{seed}-{lang}.md", "text/markdown", key="practice_download")


def _check(index: int, exercise_id: str, exercise) -> None:
    given = st.session_state.get(f"practice_answer_{index}")
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
