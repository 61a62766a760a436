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
from .data import ImageDataset


DEFAULT_EPOCHS = 10  # measured: see benchmarks/train_speed.py
REPLAN_AFTER = 5  # steps timed (after the first, which warms up) before a time budget re-plans the run
BUDGET_SAFETY = 0.9  # the share of the time left that the re-planned steps may fill (the speed varies)


def steps_that_fit(budget_s: float, elapsed_s: float, step: int, seconds_per_step: float,
                   eval_share: float) -> int:
    """How many steps in all a run can make within its time budget, at the speed measured so far:
    the steps done, plus the time left (less a margin) over a step's time with its share of the
    per-epoch evaluation."""
    left = max(budget_s - elapsed_s, 0.0) * BUDGET_SAFETY
    return step + int(left / (seconds_per_step * (1 + eval_share)))


def default_config(num_classes: int = 10, input_size: int = 32) -> DenseNetConfig:
    """DenseNet-BC, L=40, k=12 with the CIFAR stem (paper Table 2's smallest BC shape): 6 layers
    per block, 2k stem features, theta 0.5."""
    return DenseNetConfig(growth_rate=12, block_config=(6, 6, 6), num_init_features=24, bottleneck=True,
                          compression=0.5, stem="cifar", input_size=input_size, num_classes=num_classes)


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
    stopped_by: str  # "epochs", "stop" (the user) or "time budget"
    dataset: str = ""
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


def train(config: DenseNetConfig, dataset: ImageDataset, *, epochs: int = DEFAULT_EPOCHS, batch_size: int = 64,
          lr: float = 0.1, weight_decay: float = 1e-4, time_budget_s: float | None = None,
          device: str | torch.device | None = None, seed: int = 0, augment_px: int = 2,
          progress: Callable[[TrainProgress], None] | None = None,
          should_stop: Callable[[], bool] | None = None) -> TrainResult:
    """Train ``config`` on ``dataset`` with SGD (Nesterov momentum 0.9, weight decay 1e-4, as the
    paper) and a one-cycle learning-rate schedule peaking at ``lr``; return the trained model.

    With a time budget the run is re-planned once its speed is known (after ``REPLAN_AFTER``
    steps, and at the end of each epoch): when fewer steps fit than the epochs ask for, the
    schedule is shortened to the steps that fit, so that a run cut by its budget (a slow or busy
    machine) still ends with its learning rate annealed rather than at its peak.

    The config's ``num_classes`` and ``input_size`` are set from the data set.
    """
    from ..models.registry import best_device

    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= 1000:
        raise ConfigError("epochs", N_("must be an integer from 1 to 1000, got {epochs}"), epochs=repr(epochs))
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= 4096:
        raise ConfigError("batch_size", N_("must be an integer from 1 to 4096, got {batch_size}"),
                          batch_size=repr(batch_size))
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
    decay = [p for name, p in model.named_parameters() if p.ndim > 1]  # no decay on BN and biases
    no_decay = [p for name, p in model.named_parameters() if p.ndim <= 1]
    optimizer = torch.optim.SGD([{"params": decay, "weight_decay": weight_decay},
                                 {"params": no_decay, "weight_decay": 0.0}], lr=lr, momentum=0.9, nesterov=True)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps, pct_start=0.25)

    history: list[dict] = []
    step_losses: list[tuple[float, float]] = []
    step, stopped_by, loss_value = 0, "epochs", float("nan")
    planned, first_step_done = total_steps, 0.0
    eval_share = len(val_y) / max(n, 1) / 3  # an evaluation pass: forward only, about a third of a step

    def replan() -> None:
        nonlocal planned, schedule
        if time_budget_s is None or step < 2:
            return
        rate = (time.perf_counter() - start - first_step_done) / (step - 1)
        fit = max(steps_that_fit(time_budget_s, time.perf_counter() - start, step, rate, eval_share), step + 1)
        if fit < planned:
            planned = fit
            schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=planned,
                                                           pct_start=0.25, last_epoch=step - 1)

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
            if step == 1:
                first_step_done = time.perf_counter() - start
            elif step == 1 + REPLAN_AFTER:
                replan()
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
                progress(TrainProgress(epoch, epochs, step, planned, loss_value, elapsed, eta, list(history)))
            if should_stop is not None and should_stop():
                stopped_by = "stop"
            elif time_budget_s is not None and (elapsed >= time_budget_s
                                                or (planned < total_steps and step >= planned)):
                stopped_by = "time budget"
            if stopped_by != "epochs":
                break
        val_loss, val_acc = evaluate(model, val_x, val_y)
        history.append({"epoch": epoch + 1, "train_loss": loss_sum / max(seen, 1),
                        "train_accuracy": correct / max(seen, 1), "val_loss": val_loss, "val_accuracy": val_acc,
                        "seconds": time.perf_counter() - start})
        if stopped_by != "epochs":
            break
        replan()
    seconds = time.perf_counter() - start
    if progress is not None:
        progress(TrainProgress(len(history), epochs, step, planned, loss_value, seconds, 0.0, list(history)))
    state = {name: t.detach().to("cpu", copy=True) for name, t in model.state_dict().items()}
    return TrainResult(config, state, list(dataset.classes), dataset.mean, dataset.std, history, step_losses,
                       history[-1]["val_accuracy"], len(history), seconds, str(device), stopped_by, dataset.name)
