"""A training run's plan, made from the speed measured at its start, and what it may reach.

A run with a time budget times its first steps, then plans how many steps fit (``Plan``); its
one-cycle schedule is set to end there, so a run cut short by a slow or busy machine still ends
annealed. What the plan's length is worth in accuracy comes from measured runs of the default
model on digits (``ACCURACY_BY_STEPS``, from ``benchmarks/train_plan.py``), never from a formula;
for another model or data set only the length is said. ``barely_trained`` is the one rule for
"this model has learned too little to read" (the Train page's end message, its feature-reuse
view).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from ..i18n import ENGLISH, N_, Message

# Validation accuracy (%) of the default run (``loop.default_config``, DenseNet-BC L=40 k=12, digits
# at the given size, batch 64, SGD lr 0.1, one-cycle schedule) trained for exactly this many steps,
# its schedule planned for them from the start, as a re-planned run's is after its first steps:
# steps -> (lowest, median, highest, runs) over seeds 0, 1, 2. Measured on CPU (torch 2.14.1) with
# ``benchmarks/train_plan.py``; its runs are in ``benchmarks/train_plan_runs.jsonl`` and
# ``train_plan.py --from-log benchmarks/train_plan_runs.jsonl`` prints this table. 23 steps is one
# epoch; 230 the default 10 epochs (98.3 %, as the Train page's caption says).
ACCURACY_BY_STEPS: dict[int, dict[int, tuple[float, float, float, int]]] = {
    32: {
        2: (10.0, 11.1, 11.7, 3),
        4: (9.7, 9.7, 11.4, 3),
        7: (10.9, 15.9, 16.4, 3),
        12: (11.1, 14.2, 19.2, 3),
        23: (35.7, 38.7, 41.2, 3),
        46: (68.8, 69.9, 78.3, 3),
        92: (95.0, 95.3, 95.8, 3),
        230: (97.5, 98.3, 98.3, 3),
    },
}


@dataclass(frozen=True)
class Plan:
    """How long a run will be, as planned from its measured speed."""

    steps: int  # in all, the steps already done included
    steps_per_epoch: int
    asked_epochs: int
    seconds_per_step: float  # measured, the per-epoch evaluation's share included
    budget_s: float | None
    num_classes: int = 10  # of the data set (what guessing gives)
    expected: tuple[float, float, float, int] | None = None  # (lowest, median, highest %, runs) measured at this length

    @property
    def epochs(self) -> float:
        return self.steps / self.steps_per_epoch

    @property
    def shortened(self) -> bool:
        """Fewer steps than the epochs asked for (the time budget does not fit them)."""
        return self.steps < self.asked_epochs * self.steps_per_epoch

    @property
    def steps_per_second(self) -> float:
        return 1.0 / self.seconds_per_step if self.seconds_per_step > 0 else math.inf

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Plan":
        expected = data.get("expected")
        return cls(**{**data, "expected": tuple(expected) if expected is not None else None})


def expected_accuracy(steps: int, input_size: int,
                      is_default_digits: bool) -> tuple[float, float, float, int] | None:
    """(lowest, median, highest %, runs) that measured default digits runs reached at the longest measured
    length not above ``steps`` (conservative: a longer run is not promised more); None for another
    model or data set, or a run shorter than every one measured."""
    table = ACCURACY_BY_STEPS.get(input_size) if is_default_digits else None
    if not table:
        return None
    fitting = [s for s in table if s <= steps]
    return table[max(fitting)] if fitting else None


def chance(num_classes: int) -> float:
    """The accuracy of guessing (uniform over the classes)."""
    return 1.0 / max(num_classes, 1)


def barely_trained(val_accuracy: float, num_classes: int) -> bool:
    """Below halfway from chance to every image right: the model is still closer to guessing than to
    knowing the classes (digits: under 55 %, chance being 10 %)."""
    c = chance(num_classes)
    return val_accuracy < c + (1.0 - c) / 2


def format_epochs(epochs: float) -> str:
    """0.04, 0.6, 2.4, 10: a tenth where a run is short (a hundredth under a tenth), whole epochs from 10 on."""
    return f"{epochs:.2f}" if epochs < 0.1 else f"{epochs:.1f}" if epochs < 10 else f"{epochs:.0f}"


def count_steps(n: int) -> Message:
    """'1 step', '14 steps'."""
    return Message(N_("{n} step") if n == 1 else N_("{n} steps"), n=n)


def format_rate(steps_per_second: float) -> str:
    """0.12, 2.7, 35 (steps/s)."""
    return f"{steps_per_second:.2g}" if steps_per_second < 10 else f"{steps_per_second:.0f}"


def plan_message(plan: Plan) -> Message:
    """One line: what the budget allows at the speed measured now."""
    rate = format_rate(plan.steps_per_second)
    if plan.budget_s is None:
        return Message(N_("Measured speed now: {rate} steps/s; {asked} epochs ({steps}) take about "
                          "{seconds} s."), rate=rate, asked=plan.asked_epochs, steps=count_steps(plan.steps),
                       seconds=f"{plan.steps * plan.seconds_per_step:.0f}")
    if plan.shortened:
        return Message(N_("Planned from the speed measured now ({rate} steps/s): the {budget} s time budget allows "
                          "about {epochs} of the {asked} epochs asked ({steps})."),
                       rate=rate, budget=f"{plan.budget_s:.0f}", epochs=format_epochs(plan.epochs),
                       asked=plan.asked_epochs, steps=count_steps(plan.steps))
    return Message(N_("Planned from the speed measured now ({rate} steps/s): all {asked} epochs fit in the {budget} s "
                      "time budget (about {seconds} s)."), rate=rate, asked=plan.asked_epochs,
                   budget=f"{plan.budget_s:.0f}", seconds=f"{plan.steps * plan.seconds_per_step:.0f}")


def expectation_message(plan: Plan) -> Message | None:
    """What runs of that length reached (measured), or a plain statement for a run under one epoch."""
    if plan.expected is not None:
        low, median, high, runs = plan.expected
        return Message(N_("Expect roughly {accuracy} % validation accuracy: measured runs of the default model on "
                          "digits of that length reached {low}–{high} % ({runs} seeds)."),
                       accuracy=f"{median:.0f}", low=f"{low:.1f}", high=f"{high:.1f}", runs=runs)
    if plan.epochs < 1:
        return Message(N_("That is less than one pass over the training images."))
    return None


def too_short(plan: Plan) -> bool:
    """The plan is unlikely to give a usable model: its measured expectation is barely trained,
    or (no measurement for this model) it is under one epoch."""
    if plan.expected is not None:
        return barely_trained(plan.expected[1] / 100, plan.num_classes)
    return plan.epochs < 1


_MORE_TIME = N_("give it a longer time budget (up to {most} s here), train when the machine is less busy, or train a "
                "smaller model (16 px trains about 4× faster)")


def plan_messages(plan: Plan, most_s: int) -> tuple[list[Message], bool]:
    """The plan's lines for the Train page (the plan, what that length reached, and what to do
    when it is too short) and whether it is too short."""
    lines = [plan_message(plan)]
    expectation = expectation_message(plan)
    if expectation is not None:
        lines.append(expectation)
    short = too_short(plan)
    if short:
        lines.append(Message(N_("That is too short to learn much: {what}."), what=Message(_MORE_TIME, most=most_s)))
    return lines, short


def progress_message(payload: dict) -> Message:
    """The progress line of a training job's payload (``work.progress_payload``); once the time
    budget has shortened the run, with its epochs as re-planned."""
    plan = Plan.from_dict(payload["plan"]) if payload.get("plan") else None
    numbers = dict(step=payload["step"], total=payload["total_steps"], loss=f"{payload['loss']:.3f}",
                   elapsed=f"{payload['elapsed_s']:.0f}", left=f"{payload['eta_s']:.0f}")
    if plan is not None and plan.shortened:
        planned = payload["total_steps"] / plan.steps_per_epoch  # the latest plan's steps
        return Message(N_("epoch {epoch} of about {planned} (re-planned from {asked} for the time budget), step "
                          "{step}/{total}, loss {loss}, {elapsed} s elapsed, about {left} s left"),
                       epoch=min(payload["epoch"] + 1, max(math.ceil(planned), 1)), planned=format_epochs(planned),
                       asked=plan.asked_epochs, **numbers)
    return Message(N_("epoch {epoch}/{epochs}, step {step}/{total}, loss {loss}, {elapsed} s elapsed, about {left} s "
                      "left"), epoch=min(payload["epoch"] + 1, payload["epochs"]), epochs=payload["epochs"], **numbers)


def ran_message(run: dict) -> Message | None:
    """A finished run (``work.train_model``'s result) beside its first plan."""
    if not run.get("plan"):
        return None
    plan = Plan.from_dict(run["plan"])
    return Message(N_("Planned at the start: about {planned} epochs ({steps}) at {rate} steps/s; ran {ran} epochs "
                      "({ran_steps})."), planned=format_epochs(plan.epochs), steps=count_steps(plan.steps),
                   rate=format_rate(plan.steps_per_second), ran=format_epochs(run["steps"] / run["steps_per_epoch"]),
                   ran_steps=count_steps(run["steps"]))


def barely_trained_messages(run: dict, most_s: int) -> list[Message]:
    """For a finished run that learned too little: that, why, and what to do; [] otherwise."""
    if not barely_trained(run["val_accuracy"], run["num_classes"]):
        return []
    lines = [Message(N_("Barely trained: {accuracy} % validation accuracy after {steps} ({epochs} epochs); "
                        "guessing gives {chance} %."), accuracy=f"{100 * run['val_accuracy']:.1f}",
                     steps=count_steps(run["steps"]), epochs=format_epochs(run["steps"] / run["steps_per_epoch"]),
                     chance=f"{100 * chance(run['num_classes']):.0f}")]
    if run["stopped_by"] == "time budget":
        lines.append(Message(N_("The time budget ran out at {rate} steps/s (a busy machine, or a large model for it): "
                                "{what}."), rate=format_rate(run["steps"] / max(run["seconds"], 1e-9)),
                             what=Message(_MORE_TIME, most=most_s)))
    elif run["stopped_by"] == "stop":
        lines.append(Message(N_("You stopped it early: train again and let it run.")))
    else:
        lines.append(Message(N_("All its epochs ran: train for more epochs, or try another model.")))
    lines.append(Message(N_("Its feature reuse and feature maps show too little training to read.")))
    return lines


def build_line(config, _=ENGLISH) -> str:
    """The DenseNet page's build as the Train page trains it (``loop.builder_config``), in one line."""
    return _("{variant}, L = {depth}: k = {k}, blocks {blocks}, θ = {theta}, with the CIFAR stem at "
             "{size} px").format(variant=config.variant, depth=config.depth, k=config.growth_rate,
                                 blocks=" + ".join(map(str, config.block_config)),
                                 theta=f"{config.compression:g}", size=config.input_size)


STOPPED_BY = {"epochs": N_("all epochs"), "stop": N_("stopped by you"), "time budget": N_("time budget reached")}


def model_summary(config, num_classes: int, file_name: str, run: dict | None, _=ENGLISH) -> str:
    """One line on a session's model in the language of ``_``: its shape, and where it came from:
    trained here (``run``: ``work.train_model``'s result less the file) or uploaded as ``file_name``."""
    if run is None:
        origin = _("Uploaded: {name}").format(name=file_name)
    else:
        data = _("{name}: {train} training and {val} validation images").format(
            name=_("digits") if run["dataset_name"] == "digits" else run["dataset_name"],
            train=f"{run['train_images']:,}", val=f"{run['val_images']:,}")
        epochs = _.ngettext("{n} epoch", "{n} epochs", run["epochs"]).format(n=run["epochs"])
        origin = _("Trained here on {data}, {epochs} in {seconds} s on {device}, {why}.").format(
            data=data, epochs=epochs, seconds=f"{run['seconds']:.0f}", device=run["device"],
            why=_(STOPPED_BY.get(run["stopped_by"], run["stopped_by"])))
    return _("{variant}, L={depth}, k={k}, θ={theta}, {size}×{size} px, {n} classes. {origin}").format(
        variant=config.variant, depth=config.depth, k=config.growth_rate, theta=config.compression,
        size=config.input_size, n=num_classes, origin=origin)
