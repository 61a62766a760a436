"""The training loop, as one pure function: config and data in, trained weights and curves out.

``train`` touches no global state (it seeds a forked RNG), prints nothing and reports through
callbacks, so the same call runs in the page's worker, in a worker process of the job layer or
from the CLI. ``should_stop()`` is polled after every step; when it says yes, or the time budget
is spent, the model trained so far is evaluated and returned, not thrown away.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F

from ..i18n import N_
from ..errors import ConfigError
from ..models.densenet import DenseNet, DenseNetConfig
from ..models.limits import BATCH_SIZE, TRAINING
from .data import ImageDataset
from .plan import Plan, expected_accuracy


DEFAULT_EPOCHS = 10  # measured: see benchmarks/train_speed.py
REPLAN_AFTER = 5  # steps timed (after the first, which warms up) before the run is planned ...
PLAN_PROBE_S = (2.0, 10.0)  # ... or once they (or the first) took 5 % of the time budget, within these bounds (s)
BUDGET_SAFETY = 0.9  # the share of the time left that the re-planned steps may fill (the speed varies)
REPLAN_SHARE = 0.1  # a planned run re-plans when this share of its budget has passed since the last plan


def steps_that_fit(budget_s: float, elapsed_s: float, step: int, seconds_per_step: float,
                   eval_share: float, reserve_s: float = 0.0) -> int:
    """How many steps in all a run can make within its time budget, at the speed measured so far:
    the steps done, plus the time left (less ``reserve_s``, the last evaluation, and a margin) over
    a step's time with its share of the per-epoch evaluation."""
    left = max(budget_s - elapsed_s - reserve_s, 0.0) * BUDGET_SAFETY
    return step + int(left / (seconds_per_step * (1 + eval_share)))


def default_config(num_classes: int = 10, input_size: int = 32) -> DenseNetConfig:
    """DenseNet-BC, L=40, k=12 with the CIFAR stem (paper Table 2's smallest BC shape): 6 layers
    per block, 2k stem features, theta 0.5."""
    return DenseNetConfig.cifar(40, 12, input_size=input_size, num_classes=num_classes)


def builder_config(build: dict, input_size: int) -> DenseNetConfig:
    """The DenseNet page's build (its config as a dict) as a trainable model for small images: its
    blocks, growth rate, bottleneck, compression and stem width, with the CIFAR stem (one 3x3 conv,
    no pooling) at ``input_size``; the classifier is sized to the data set when training starts."""
    return DenseNetConfig.from_dict(build).replace(stem="cifar", input_size=input_size, num_classes=10,
                                                   memory_efficient=False)


@dataclass
class TrainProgress:
    epoch: int  # epochs completed so far (the current one is epoch + 1)
    epochs: int
    step: int  # steps done in total
    total_steps: int  # as planned now (a time budget may shorten the run once its speed is known)
    loss: float  # the last step's training loss
    elapsed_s: float
    eta_s: float  # estimated seconds left (bounded by the time budget)
    history: list[dict]  # one entry per finished epoch (see TrainResult.history)
    plan: Plan | None = None  # as planned now, once the first steps are timed


@dataclass
class TrainResult:
    config: DenseNetConfig
    state_dict: dict[str, torch.Tensor]  # on the CPU, under the live model's module names
    classes: list[str]
    mean: tuple[float, float, float]  # input normalisation the model was trained with
    std: tuple[float, float, float]
    history: list[dict]  # per epoch: epoch, train_loss, train_accuracy, val_loss, val_accuracy, seconds
    step_losses: list[tuple[float, float]]  # (epoch as a fraction, training loss) for every step
    val_accuracy: float
    epochs: int  # epochs completed (a stopped run counts its last, partial epoch)
    seconds: float
    device: str
    stopped_by: str  # "epochs", "stop" (the user), "time budget" or "steps" (``max_steps``)
    dataset: str = ""
    plan: Plan | None = None  # the first plan, made from the speed of the first steps (None: ended before)
    extra: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """The CLI's JSON."""
        return {"val_accuracy": self.val_accuracy, "epochs": self.epochs, "seconds": round(self.seconds, 2),
                "device": self.device, "config": self.config.to_dict()}

    def build_model(self, device: str | torch.device = "cpu") -> DenseNet:
        model = DenseNet(self.config)
        model.load_state_dict(self.state_dict)
        return model.to(device).eval()


@torch.no_grad()
def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 256) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) in eval mode."""
    was_training = model.training
    model.eval()
    loss, correct = 0.0, 0
    for i in range(0, len(y), batch_size):
        logits = model(x[i:i + batch_size])
        loss += F.cross_entropy(logits, y[i:i + batch_size], reduction="sum").item()
        correct += (logits.argmax(1) == y[i:i + batch_size]).sum().item()
    model.train(was_training)
    return loss / max(len(y), 1), correct / max(len(y), 1)


def _shift(x: torch.Tensor, generator: torch.Generator, pad: int) -> torch.Tensor:
    """Random translation by up to ``pad`` px (replicate padding, then a random crop): the
    standard CIFAR augmentation, one offset per batch to stay cheap."""
    if pad == 0:
        return x
    size = x.shape[-1]
    i, j = torch.randint(0, 2 * pad + 1, (2,), generator=generator).tolist()
    return F.pad(x, (pad,) * 4, mode="replicate")[..., i:i + size, j:j + size]


def _one_cycle(optimizer, lr: float, total_steps: int, last_epoch: int = -1):
    """One-cycle, a quarter of the steps warming up (torch divides by zero where that quarter ends
    exactly at step 0, a 4-step run: a little more warm-up there)."""
    return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps,
                                               pct_start=0.25 if total_steps != 4 else 0.3, last_epoch=last_epoch)


def train(config: DenseNetConfig, dataset: ImageDataset, *, epochs: int = DEFAULT_EPOCHS, batch_size: int = 64,
          lr: float = 0.1, weight_decay: float = 1e-4, time_budget_s: float | None = None,
          device: str | torch.device | None = None, seed: int = 0, augment_px: int = 2,
          progress: Callable[[TrainProgress], None] | None = None,
          should_stop: Callable[[], bool] | None = None, max_steps: int | None = None) -> TrainResult:
    """Train ``config`` on ``dataset`` with SGD (Nesterov momentum 0.9, weight decay 1e-4, as the
    paper) and a one-cycle learning-rate schedule peaking at ``lr``; return the trained model.

    The run is planned once its speed is known (``plan.Plan``: after ``REPLAN_AFTER`` timed steps,
    or sooner on a slow machine, ``PLAN_PROBE_S``), and with a time budget re-planned at the end of
    each epoch and every ``REPLAN_SHARE`` of the budget: when fewer steps fit than the epochs ask
    for, the schedule is shortened to the steps that fit, so that a run cut by its budget (a slow
    or busy machine) still ends with its learning rate annealed rather than at its peak. Plans
    only shorten a run; each keeps time for the last evaluation. ``max_steps`` plans the run for
    that many steps from the start (the benchmarks measure runs of a given length this way).

    The config's ``num_classes`` and ``input_size`` are set from the data set.
    """
    from ..models.registry import best_device

    TRAINING["epochs"].check("epochs", epochs)
    BATCH_SIZE.check("batch_size", batch_size)
    config = config.replace(num_classes=dataset.num_classes, input_size=dataset.input_size)
    device = torch.device(device) if device is not None else best_device()
    start = time.perf_counter()

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = DenseNet(config).to(device).train()
    generator = torch.Generator().manual_seed(seed)
    train_x, train_y = dataset.train_x.to(device), dataset.train_y.to(device)
    val_x, val_y = dataset.val_x.to(device), dataset.val_y.to(device)
    n = len(train_y)
    steps_per_epoch = math.ceil(n / batch_size)
    total_steps = epochs * steps_per_epoch
    if max_steps is not None and not 1 <= max_steps:
        raise ConfigError("max_steps", N_("must be at least 1, got {max_steps}"), max_steps=repr(max_steps))
    decay = [p for name, p in model.named_parameters() if p.ndim > 1]  # no decay on BN and biases
    no_decay = [p for name, p in model.named_parameters() if p.ndim <= 1]
    optimizer = torch.optim.SGD([{"params": decay, "weight_decay": weight_decay},
                                 {"params": no_decay, "weight_decay": 0.0}], lr=lr, momentum=0.9, nesterov=True)
    planned = total_steps if max_steps is None else min(max_steps, total_steps)
    schedule = _one_cycle(optimizer, lr, planned)

    history: list[dict] = []
    step_losses: list[tuple[float, float]] = []
    step, stopped_by, loss_value = 0, "epochs", float("nan")
    first_step_done = 0.0
    # An evaluation, forward only, about half a step a batch: the default model's of the 359 digits
    # took 1.9-3.5 steps' time on 2 CPU cores (measured, 3 rounds); once one is timed, its time counts.
    eval_steps = len(val_y) / batch_size / 2
    evaluations: list[float] = []  # seconds each took (once one is measured, it replaces the guess)
    low, high = PLAN_PROBE_S
    probe_s = min(max(0.05 * time_budget_s, low), high) if time_budget_s is not None else low
    plan: Plan | None = None
    first_plan: Plan | None = None
    durations: list[float] = []  # seconds of each step after the first (which warms up)
    mark = 0  # len(durations) at the last plan: the speed since then counts too
    default_digits = (dataset.name == "digits" and config == default_config(10, config.input_size)
                      and batch_size == 64 and lr == 0.1)

    def seconds_per_step(since: int = 0) -> float | None:
        """The mean step since the warm-up step (or since ``since`` timed steps)."""
        timed = durations[since:]
        return sum(timed) / len(timed) if timed else None

    def replan() -> None:
        """Plan from the speed so far: the mean step since the warm-up step (the warm-up step itself,
        model building included, where it is the only one: a slow machine plans early and
        cautiously), or the mean since the last plan where that is slower (the machine got busier)."""
        nonlocal planned, schedule, plan, first_plan, mark
        if step < 1 or (plan is not None and time_budget_s is None):
            return
        now = time.perf_counter()
        rate = seconds_per_step() or first_step_done
        if plan is not None:
            rate = max(rate, seconds_per_step(mark) or 0.0)
        evaluation = max(evaluations) if evaluations else rate * eval_steps
        eval_share = evaluation / (rate * steps_per_epoch)  # per step
        if time_budget_s is not None:
            fit = steps_that_fit(time_budget_s, now - start, step, rate, eval_share, reserve_s=evaluation)
            if fit < planned:
                planned = max(fit, step)  # no time for another step: the run ends here, as planned
                if planned > step:
                    schedule = _one_cycle(optimizer, lr, planned, last_epoch=step - 1)
        plan = Plan(planned, steps_per_epoch, epochs, rate * (1 + eval_share), time_budget_s, dataset.num_classes,
                    expected_accuracy(planned, config.input_size, default_digits))
        first_plan = first_plan or plan
        mark = len(durations)

    for epoch in range(epochs):
        order = torch.randperm(n, generator=generator).to(device)
        seen, loss_sum, correct = 0, 0.0, 0
        for s in range(steps_per_epoch):
            idx = order[s * batch_size:(s + 1) * batch_size]
            if len(idx) < 2 and seen:  # BatchNorm cannot train on one image: drop a last batch of 1
                continue
            x = _shift(train_x[idx], generator, augment_px)
            logits = model(x)
            loss = F.cross_entropy(logits, train_y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            loss_value = loss.item()
            seen += len(idx)
            loss_sum += loss_value * len(idx)
            correct += (logits.argmax(1) == train_y[idx]).sum().item()
            step_losses.append((epoch + (s + 1) / steps_per_epoch, loss_value))
            elapsed = time.perf_counter() - start
            if progress is not None:
                eta = elapsed / step * (planned - step)
                if time_budget_s is not None:
                    eta = min(eta, max(time_budget_s - elapsed, 0.0))
                progress(TrainProgress(epoch, epochs, step, planned, loss_value, elapsed, eta, list(history), plan))
            # A step's time: since the last one ended (its bookkeeping and progress report included),
            # the evaluations left out.
            now = time.perf_counter()
            if step == 1:
                first_step_done = now - start
                if first_step_done >= probe_s:
                    replan()
            else:
                durations.append(now - lap)
                if plan is None:
                    plan_now = len(durations) >= REPLAN_AFTER or sum(durations) >= probe_s
                else:
                    plan_now = time_budget_s is not None and sum(durations[mark:]) >= REPLAN_SHARE * time_budget_s
                if plan_now:
                    replan()
            lap = now  # consecutive readings: every second is a step's or an evaluation's
            if should_stop is not None and should_stop():
                stopped_by = "stop"
            elif time_budget_s is not None and (elapsed >= time_budget_s
                                                or (planned < total_steps and step >= planned)):
                stopped_by = "time budget"
            elif planned < total_steps and step >= planned:
                stopped_by = "steps"
            if stopped_by != "epochs":
                break
        val_loss, val_acc = evaluate(model, val_x, val_y)
        history.append({"epoch": epoch + 1, "train_loss": loss_sum / max(seen, 1),
                        "train_accuracy": correct / max(seen, 1), "val_loss": val_loss, "val_accuracy": val_acc,
                        "seconds": time.perf_counter() - start})
        now = time.perf_counter()
        evaluations.append(now - lap)
        lap = now
        if stopped_by != "epochs":
            break
        if time_budget_s is not None:
            replan()
            if step >= planned and planned < total_steps:  # no time for another step (this epoch is evaluated)
                stopped_by = "time budget"
                break
    seconds = time.perf_counter() - start
    if progress is not None:
        progress(TrainProgress(len(history), epochs, step, planned, loss_value, seconds, 0.0, list(history), plan))
    state = {name: t.detach().to("cpu", copy=True) for name, t in model.state_dict().items()}
    return TrainResult(config, state, list(dataset.classes), dataset.mean, dataset.std, history, step_losses,
                       history[-1]["val_accuracy"], len(history), seconds, str(device), stopped_by, dataset.name,
                       plan=first_plan)
