"""Few labels: the validation split, labelled subsets, label efficiency (``label_efficiency``, and of fine-tuning
a whole network: ``finetune_curve``), and the labels a curve needs to reach an accuracy."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np
import torch
from torch import nn

from course_lib.evaluate.probes import accuracy
from course_lib.evaluate.spread import Spread
from course_lib.train import Trained, always_train, train_classifier


def split_validation(x: torch.Tensor, y: torch.Tensor, size: int, seed: int = 0):
    """``((x_train, y_train), (x_val, y_val))``: ``size`` random examples held out of the training data to choose
    layers, methods and stopping points on, so that the test set is never used to choose anything."""
    if not 0 < size < len(x):
        raise ValueError(f"a validation split of {size} needs more than {size} training examples (got {len(x)})")
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed)).to(x.device)
    train, val = order[size:], order[:size]
    return (x[train], y[train.to(y.device)]), (x[val], y[val.to(y.device)])


def label_subsets(y: torch.Tensor, per_class: int | None, draws: int = 1, seed: int = 0) -> list[torch.Tensor]:
    """The labelled subsets of a few-label protocol: draw d is ``few_labels(y, per_class, seed + 1000 d)``;
    without ``per_class``, all of ``y`` (one draw)."""
    if not per_class:
        return [torch.arange(len(y))]
    return [few_labels(y.cpu(), per_class, seed + 1000 * d) for d in range(draws)]


def few_labels(y: torch.Tensor, per_class: int, seed: int = 0) -> torch.Tensor:
    """Indices of ``per_class`` randomly chosen examples of every class (the labelled subset of a run)."""
    generator = torch.Generator().manual_seed(seed)
    y = y.cpu()
    chosen = []
    for c in torch.unique(y):
        members = torch.nonzero(y == c).flatten()
        if len(members) < per_class:
            raise ValueError(f"class {int(c)} has only {len(members)} examples, {per_class} asked for")
        chosen.append(members[torch.randperm(len(members), generator=generator)[:per_class]])
    return torch.cat(chosen).sort().values


def label_efficiency(run: Callable[[torch.Tensor], float], y: torch.Tensor, labels_per_class: Iterable[int],
                     seed: int = 0, draws: int = 1) -> dict[int, Spread]:
    """{labels per class: accuracy}, where ``run(indices)`` trains on those labelled examples and tests.

    With few labels, *which* examples are labelled matters as much as the method: ``draws`` > 1 averages
    over that many labelled subsets (seeds ``seed``, ``seed + 1000``, ...); each point is a ``Spread`` (mean, std).
    """
    return {k: Spread.of(run(few_labels(y, k, seed + 1000 * d)) for d in range(draws)) for k in labels_per_class}


def labels_needed(curve: dict[int, float], accuracy: float) -> float:
    """Labels per class a method needs to reach ``accuracy`` (log-linear interpolation; inf if never)."""
    points = sorted(curve.items())
    if points[0][1] >= accuracy:
        return float(points[0][0])
    for (k0, a0), (k1, a1) in zip(points, points[1:], strict=False):
        if a1 >= accuracy:
            t = (accuracy - a0) / (a1 - a0)
            return float(np.exp(np.log(k0) + t * (np.log(k1) - np.log(k0))))
    return math.inf


def finetune_curve(make_model: Callable[[], nn.Module], train_x: torch.Tensor, train_y: torch.Tensor,
                   test_x: torch.Tensor, test_y: torch.Tensor, labels_per_class: Iterable[int], *, steps: int,
                   augment: Callable | None = None, seed: int = 0, draws: int = 1, desc: str = "fine-tuning",
                   trained: Trained = always_train, **fit_options) -> dict[int, Spread]:
    """Label efficiency of training a whole network (a fresh ``make_model()`` per point) on few labels.

    Each run is named "<desc>, <k> per class, draw <d>" and trained through ``trained`` (``pretrained.Runs`` loads
    shipped weights instead).
    """
    def run(per_class: int, draw: int) -> float:
        idx = few_labels(train_y, per_class, seed + 1000 * draw)  # the subsets label_efficiency draws
        model = make_model().to(train_x.device)
        name = f"{desc}, {per_class} per class, draw {draw + 1}"
        trained(model, name, lambda: train_classifier(model, train_x[idx.to(train_x.device)],
                                                      train_y[idx.to(train_y.device)], steps=steps, augment=augment,
                                                      seed=seed, progress=False, desc=name, **fit_options))
        return accuracy(model, test_x, test_y)

    return {k: Spread.of([run(k, d) for d in range(draws)]) for k in labels_per_class}
