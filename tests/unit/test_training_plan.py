"""A training run's plan (``explorer.training.plan``): made from the speed of its first steps, it
says what the time budget allows, what measured runs of that length reached, and, once the run
is over, whether it learned too little; the progress line shows the re-planned epochs."""

import numpy as np
import pytest

from explorer.models.densenet import DenseNetConfig
from explorer.training import train
from explorer.training import plan as planning
from explorer.training.plan import Plan

TINY = DenseNetConfig(growth_rate=2, block_config=(1, 1), num_init_features=4, stem="cifar", input_size=16,
                      num_classes=10)


def test_a_shortened_plan_says_what_the_budget_allows():
    # 14 steps of 23 per epoch (1,438 training digits at batch 64) at 8.5 s a step: 0.6 epochs.
    plan = Plan(14, 23, 10, 8.5, 120.0, 10, None)
    assert plan.shortened and plan.epochs == pytest.approx(14 / 23)
    lines, short = planning.plan_messages(plan, 462)
    assert lines == [
        "Planned from the speed measured now (0.12 steps/s): the 120 s time budget allows about 0.6 of the 10 epochs "
        "asked (14 steps).",
        "That is less than one pass over the training images.",
        "That is too short to learn much: give it a longer time budget (up to 462 s here), train when the machine is "
        "less busy, or train a smaller model (16 px trains about 4× faster)."]
    assert short


def test_a_plan_that_fits_and_the_measured_expectation():
    # All 230 steps fit at 0.4 s a step (92 s); the default 10 epochs reached 97.5-98.3 % (3 seeds).
    plan = Plan(230, 23, 10, 0.4, 120.0, 10, planning.expected_accuracy(230, 32, True))
    lines, short = planning.plan_messages(plan, 462)
    assert lines == [
        "Planned from the speed measured now (2.5 steps/s): all 10 epochs fit in the 120 s time budget (about 92 s).",
        "Expect roughly 98 % validation accuracy: measured runs of the default model on digits of that length reached "
        "97.5–98.3 % (3 seeds)."]
    assert not short
    # 2 epochs (46 steps): 68.8-78.3 %, median 69.9 %; 1 epoch: 35.7-41.2 %, too short to learn much.
    assert planning.expected_accuracy(46, 32, True) == (68.8, 69.9, 78.3, 3)
    one = Plan(23, 23, 10, 5.0, 120.0, 10, planning.expected_accuracy(23, 32, True))
    lines, short = planning.plan_messages(one, 462)
    assert lines[1].startswith("Expect roughly 39 % validation accuracy") and short


def test_the_table_is_the_benchmarks_runs():
    """ACCURACY_BY_STEPS summarizes benchmarks/train_plan_runs.jsonl (the runs of
    benchmarks/train_plan.py): per length, the lowest, median and highest of its seeds' last runs."""
    import json
    import statistics
    from pathlib import Path

    runs = {}
    for line in (Path(__file__).resolve().parents[2] / "benchmarks" / "train_plan_runs.jsonl").read_text().splitlines():
        r = json.loads(line)
        runs[(r["size"], r["steps"], r["seed"])] = 100 * r["val_accuracy"]
    for steps, row in planning.ACCURACY_BY_STEPS[32].items():
        values = [v for (size, s, _seed), v in runs.items() if size == 32 and s == steps]
        assert row == (round(min(values), 1), round(statistics.median(values), 1), round(max(values), 1), len(values))
    assert sorted(planning.ACCURACY_BY_STEPS[32]) == sorted({s for (size, s, _seed) in runs if size == 32})


def test_the_expectation_is_the_measured_row_at_or_below_the_plan():
    table = planning.ACCURACY_BY_STEPS[32]
    measured = sorted(table)
    assert measured[0] <= 4 and 23 in table  # short runs (a busy machine) and one epoch are measured
    for below, above in zip(measured, measured[1:]):
        assert planning.expected_accuracy(above - 1, 32, True) == table[below]  # never a longer run's number
        assert planning.expected_accuracy(above, 32, True) == table[above]
    assert planning.expected_accuracy(measured[0] - 1, 32, True) is None
    assert planning.expected_accuracy(230, 32, False) is None  # another model or data set: no number
    assert planning.expected_accuracy(230, 24, True) is None  # a size not measured


def test_barely_trained_is_below_halfway_from_chance():
    # 10 classes: guessing gives 10 %, halfway to 100 % is 55 %; 2 classes: 50 % and 75 %.
    assert planning.barely_trained(0.117, 10) and planning.barely_trained(0.549, 10)
    assert not planning.barely_trained(0.55, 10)
    assert planning.barely_trained(0.74, 2) and not planning.barely_trained(0.75, 2)


def test_progress_text_shows_the_replanned_epochs():
    payload = {"epoch": 0, "epochs": 10, "step": 7, "total_steps": 14, "loss": 2.3, "elapsed_s": 50.2, "eta_s": 60.4,
               "plan": Plan(14, 23, 10, 8.5, 120.0).to_dict()}
    assert str(planning.progress_message(payload)) == (
        "epoch 1 of about 0.6 (re-planned from 10 for the time budget), step 7/14, loss 2.300, 50 s elapsed, "
        "about 60 s left")
    # Re-planned again to 60 steps (2.6 epochs), in its third epoch.
    later = {**payload, "epoch": 2, "step": 50, "total_steps": 60, "plan": Plan(60, 23, 10, 2.0, 120.0).to_dict()}
    assert str(planning.progress_message(later)).startswith("epoch 3 of about 2.6 (re-planned from 10 for the")
    # Not shortened (or not planned yet): the epochs asked.
    whole = {**payload, "total_steps": 230, "plan": Plan(230, 23, 10, 0.4, 120.0).to_dict()}
    assert str(planning.progress_message(whole)).startswith("epoch 1/10, step 7/230, loss 2.300")
    assert str(planning.progress_message({**payload, "plan": None})).startswith("epoch 1/10, step 7/14")


def test_a_barely_trained_run_says_so_and_what_to_do():
    run = {"plan": Plan(14, 23, 10, 8.5, 120.0).to_dict(), "steps": 14, "steps_per_epoch": 23, "val_accuracy": 0.117,
           "num_classes": 10, "stopped_by": "time budget", "seconds": 120.0}
    assert planning.ran_message(run) == ("Planned at the start: about 0.6 epochs (14 steps) at 0.12 steps/s; ran 0.6 "
                                         "epochs (14 steps).")
    assert planning.barely_trained_messages(run, 462) == [
        "Barely trained: 11.7 % validation accuracy after 14 steps (0.6 epochs); guessing gives 10 %.",
        "The time budget ran out at 0.12 steps/s (a busy machine, or a large model for it): give it a longer time "
        "budget (up to 462 s here), train when the machine is less busy, or train a smaller model (16 px trains "
        "about 4× faster).",
        "Its feature reuse and feature maps show too little training to read."]
    assert planning.barely_trained_messages({**run, "stopped_by": "stop"}, 462)[1] == (
        "You stopped it early: train again and let it run.")
    assert planning.barely_trained_messages({**run, "val_accuracy": 0.983}, 462) == []


def test_the_loop_plans_from_its_first_steps_and_ends_at_the_plan(digits16, monkeypatch):
    """On a clock where every reading is 0.25 s later, the run plans once its first steps are timed
    (within PLAN_PROBE_S of them), every progress after that carries the plan, and the run ends
    where it was last planned, not far from its first plan."""
    import explorer.training.loop as loop

    clock = [0.0]

    def tick():
        clock[0] += 0.25
        return clock[0]

    monkeypatch.setattr(loop.time, "perf_counter", tick)
    seen = []
    result = train(TINY, digits16, epochs=50, batch_size=256, device="cpu", time_budget_s=60.0, progress=seen.append)
    steps_per_epoch = int(np.ceil(len(digits16.train_y) / 256))  # 6
    first = next(i for i, p in enumerate(seen) if p.plan is not None)
    # planned after REPLAN_AFTER timed steps at the latest; a step's report comes before its timing ends
    assert 2 <= seen[first].step <= 2 + loop.REPLAN_AFTER and all(p.plan is not None for p in seen[first:])
    # result.plan is the first plan; re-plans (the first after the first epoch's evaluation) only shorten
    assert seen[first].plan.steps <= result.plan.steps and result.plan.shortened
    assert result.plan.steps_per_epoch == steps_per_epoch and result.plan.asked_epochs == 50
    # Re-plans only shorten the run (here the epochs' evaluations take more of this clock than the
    # first plan assumed); it ends where the last plan says.
    assert 0.6 * result.plan.steps <= len(result.step_losses) == seen[-1].total_steps <= result.plan.steps
    assert result.plan.expected is None  # not the default model: no measured number


def test_max_steps_plans_the_run_for_them(digits16):
    result = train(TINY, digits16, epochs=50, batch_size=256, device="cpu", max_steps=4)
    assert result.stopped_by == "steps" and len(result.step_losses) == 4 and result.epochs == 1
