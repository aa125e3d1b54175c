"""One training loop for every pretext and downstream task.

A task is three things: a model, a stream of batches, and ``loss_fn(model, batch)`` returning the loss
(or ``(loss, {"metric": value})``). ``fit`` runs the optimiser for a number of steps, stops early at a time
budget, shows progress with tqdm, and returns the history of losses and metrics.

This loop only trains: where weights come from instead (shipped checkpoints) is decided above it, by the lesson
(``course_lib.pretrained``); functions here that train many runs take ``trained=`` for that.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

LR, WEIGHT_DECAY = 2e-3, 5e-4
# the one recipe every task trains with unless it says otherwise (part of every shipped checkpoint's fingerprint)
DEFAULTS = {"optimiser": "AdamW", "lr": LR, "weight_decay": WEIGHT_DECAY, "schedule": "cosine decay over steps"}


@dataclass
class History:
    """Loss and metrics logged every few steps, and why training stopped."""

    step: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    values: dict[str, list[float]] = field(default_factory=dict)
    stopped_by: str = ""

    def log(self, step: int, seconds: float, values: dict[str, float]) -> None:
        self.step.append(step)
        self.seconds.append(seconds)
        for name, value in values.items():
            self.values.setdefault(name, []).append(float(value))

    def __getitem__(self, name: str) -> list[float]:
        return self.values[name]

    def last(self, name: str = "loss") -> float:
        return self.values[name][-1]

    @property
    def capped(self) -> bool:
        """Whether the run stopped at its time budget before its last step (its numbers are then those of a shorter
        run: record it, e.g. ``results.record(..., capped=[...])``, and say so beside any claim on it)."""
        return self.stopped_by.startswith("time budget")


def batches(*tensors: torch.Tensor, batch_size: int, seed: int = 0,
            augment: Callable[[torch.Tensor], torch.Tensor] | None = None) -> Iterator[tuple[torch.Tensor, ...]]:
    """An endless stream of shuffled minibatches of tensors that already live on the device.

    ``augment`` (a batched tensor op) is applied to the first tensor, the images, batch by batch.
    """
    n = len(tensors[0])
    if any(len(t) != n for t in tensors):
        raise ValueError("all tensors must have the same length")
    batch_size = min(batch_size, n)
    generator = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(n, generator=generator).to(tensors[0].device)
        for start in range(0, n - batch_size + 1, batch_size):
            idx = order[start:start + batch_size]
            batch = tuple(t[idx] for t in tensors)
            if augment is not None:
                batch = (augment(batch[0]), *batch[1:])
            yield batch


def _as_loss_and_metrics(output) -> tuple[torch.Tensor, dict[str, float]]:
    if isinstance(output, tuple):
        loss, metrics = output
        return loss, {k: float(v.detach()) if torch.is_tensor(v) else float(v) for k, v in metrics.items()}
    return output, {}


def fit(model: nn.Module, data: Iterable, loss_fn: Callable, *, steps: int, max_seconds: float | None = None,
        lr: float = LR, weight_decay: float = WEIGHT_DECAY, optimizer: torch.optim.Optimizer | None = None,
        progress: bool = True, log_every: int = 10, desc: str = "training",
        after: Callable[[nn.Module, History], None] | None = None) -> History:
    """Train ``model`` on batches from ``data`` for ``steps`` optimiser steps (or until ``max_seconds``).

    The default optimiser is AdamW with a cosine learning-rate decay over ``steps``: one recipe for every
    task in the course, so that differences between methods come from the methods.

    ``after(model, history)`` has the last word on the trained weights (early stopping puts its best weights back
    there and logs its validation curve into ``history``), so whoever keeps the weights keeps that result.
    """
    optimizer = optimizer or torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(steps, 1))
    history, start, stream = History(), time.perf_counter(), iter(data)
    model.train()
    bar = tqdm(total=steps, desc=desc, disable=not progress, leave=False)
    try:
        for step in range(1, steps + 1):
            batch = next(stream, None)
            if batch is None:
                history.stopped_by = f"data ran out after {step - 1} steps"
                break
            loss, metrics = _as_loss_and_metrics(loss_fn(model, batch))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            elapsed = time.perf_counter() - start
            out_of_time = max_seconds is not None and elapsed > max_seconds
            if step % log_every == 0 or step == steps or out_of_time:
                history.log(step, elapsed, {"loss": loss.item(), **metrics})
                bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
            bar.update()
            if out_of_time and step < steps:  # the last step crossing the budget is a whole run, not a capped one
                history.stopped_by = f"time budget: stopped at step {step} of {steps} after {elapsed:.0f} s"
                break
        else:
            history.stopped_by = f"{steps} steps"
    finally:
        bar.close()
        model.eval()
    if history.capped:
        print(history.stopped_by)
    if after is not None:
        after(model, history)
    return history


Trained = Callable[[nn.Module, str, Callable[[], History]], History]


def always_train(model: nn.Module, desc: str, train_run: Callable[[], History]) -> History:
    """The default ``trained=`` of functions that train many runs: train each (``pretrained.Runs`` loads instead)."""
    return train_run()


def train_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, steps: int, batch_size: int = 128,
                     augment: Callable | None = None, seed: int = 0, watch=None, **fit_options) -> History:
    """Supervised training with cross-entropy: the baseline, the label pretraining and every fine-tune. ``watch``:
    an ``early_stopping.EarlyStopping`` of ``model``, to stop once validation accuracy stops rising (``steps`` is
    then the most it may take) and keep the best weights."""

    def cross_entropy(model, batch):
        images, labels = batch
        logits = model(images)
        return nn.functional.cross_entropy(logits, labels), {"acc": (logits.argmax(1) == labels).float().mean()}

    stream = batches(x, y, batch_size=batch_size, seed=seed, augment=augment)
    if watch is not None:
        stream, fit_options["after"] = watch.stream(stream), watch.after_training(steps)
    return fit(model, stream, cross_entropy, steps=steps, **fit_options)
