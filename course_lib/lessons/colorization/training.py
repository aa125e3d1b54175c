"""Notebook 06's sizes, colour space and training: one colorizer per loss, all from the same initial weights."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from course_lib import config, nets, pretrained, train
from course_lib.pretext import colorization as col

NOTEBOOK = "06_colorization"  # its runs' shipped weights are named after it

METHODS = ("l2 regression", "classification", "classification + rebalancing")
KEYS = {"l2 regression": "l2", "classification": "classification", "classification + rebalancing": "rebalanced",
        "random init": "random", "colorization": "colorization"}
TEMPERATURES = (1.0, col.T_PAPER, 0.1)
COLOURFULNESS_IMAGES = 1000  # test photos the colourfulness is averaged over (each is coloured six ways)


@dataclass(frozen=True)
class Sizes(config.Profile):
    """Notebook 06's sizes, beside the shared ones (``sizes.n_train``, ``sizes.width``, ``sizes.batch_size``, ...)."""

    steps: int  # optimiser steps of each colorizer (l2, classification, classification + rebalancing)
    seconds: float  # time cap of each colorizer's training (stops early, says so)
    probe_labels: int  # labelled CIFAR-10 training photos of each transfer probe (a tenth of them per class)
    validation: int  # training photos held out (with labels) to choose the probe's best layer; nothing trains on them


SIZES = config.lesson_sizes(
    Sizes,
    ci=dict(steps=150, seconds=40, probe_labels=500, validation=1000),
    lab=dict(steps=400, seconds=60, probe_labels=2000, validation=1000),
    full=dict(steps=3000, seconds=200, probe_labels=10_000, validation=5000),
)


@dataclass
class ColourSpace:
    """The quantised ab space of a training set: bin centres (Q x 2), p~ and the rebalancing weights w."""

    centres: torch.Tensor
    p_smooth: torch.Tensor
    weights: torch.Tensor

    @classmethod
    def fit(cls, rgb: torch.Tensor, lam: float = col.LAMBDA) -> ColourSpace:
        """Bins in the sRGB gamut; p from the training images' ab at the output side, smoothed; w from p~."""
        centres = col.ab_gamut().to(rgb.device)
        _, ab = col.split_lab(rgb)
        p_smooth = col.smooth(col.empirical_distribution(F.avg_pool2d(ab, col.OUTPUT_STRIDE), centres), centres)
        return cls(centres, p_smooth, col.rebalancing_weights(p_smooth, lam))

    @property
    def q(self) -> int:
        return len(self.centres)


def initial_backbone(sizes: Sizes, seed: int, device: torch.device | str = "cpu") -> nets.Backbone:
    """The initial weights every colorizer starts from; frozen as they are, the random-init baseline."""
    return nets.random_backbone(1, sizes.width, seed, device)


def loss_of(method: str, space: ColourSpace):
    """The ``train.fit`` loss of one method, and the number of output channels it needs."""
    if method == "l2 regression":
        return col.regression_loss, 2
    if method == "classification":
        return functools.partial(col.classification_loss, centres=space.centres), space.q
    if method == "classification + rebalancing":
        return functools.partial(col.classification_loss, centres=space.centres, weights=space.weights), space.q
    raise ValueError(f"unknown method {method!r}; choose from {METHODS}")


def train_colorizer(method: str, rgb: torch.Tensor, space: ColourSpace, sizes: Sizes, seed: int = 0,
                    progress: bool = True, notebook: str = NOTEBOOK, desc: str | None = None):
    """Train one colorizer on unlabelled RGB images (on their device); returns (model, history). ``notebook`` and
    ``desc``: whose run it is and its name there (default: this notebook's, named after the method); the scoreboard
    (12) trains this recipe at its own sizes under its own names."""
    desc = desc or method
    loss, out_channels = loss_of(method, space)
    backbone = initial_backbone(sizes, seed, rgb.device)
    with config.isolated_rng(seed):  # the head's initial weights: the same for every method
        model = col.Colorizer(backbone, out_channels, image_size=rgb.shape[-1]).to(rgb.device)
        model = model.to(memory_format=torch.channels_last)
        history = pretrained.load_or_train(
            model, f"{notebook}/{desc}",
            lambda: train.fit(model, train.batches(rgb, batch_size=sizes.batch_size, seed=seed), loss,
                              steps=sizes.steps, max_seconds=sizes.seconds, desc=method, progress=progress),
            sizes=sizes, seed=seed, loss=loss)
    return model.eval(), history


def train_all(rgb: torch.Tensor, space: ColourSpace, sizes: Sizes, seed: int = 0, progress: bool = True):
    """Every method: ({method: model}, {method: history})."""
    runs = {m: train_colorizer(m, rgb, space, sizes, seed, progress) for m in METHODS}
    return {m: run[0] for m, run in runs.items()}, {m: run[1] for m, run in runs.items()}


def colorize(models: dict, method: str, rgb: torch.Tensor, space: ColourSpace,
             temperature: float = col.T_PAPER) -> torch.Tensor:
    """The test images as one method colours them (classifiers decoded with the annealed mean at ``temperature``)."""
    centres = None if method == "l2 regression" else space.centres
    return col.colorize(models[method], rgb, centres, temperature)


def capped(histories: dict[str, train.History]) -> list[str]:
    """The methods whose training stopped at its time budget (recorded, and named beside a claim)."""
    return [name for name, history in histories.items() if history.capped]
