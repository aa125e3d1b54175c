"""Notebook 05's sizes and its pretraining: a fresh backbone trained by one pretext task (egomotion or contrastive)
on the unlabelled training digits, and the random-init baseline every pretext run starts from."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd
import torch

from course_lib import config, evaluate, nets, pretrained, show, train
from course_lib.pretext import transformations

NOTEBOOK = "05_transformations"  # its runs' shipped weights are named after it

METHODS = ("egomotion", "contrastive")
RANDOM, SCRATCH = "random features", "scratch"
GLOBAL = "conv5 global"  # conv5 averaged over all positions: what ``Backbone.embed`` gives


@dataclass(frozen=True)
class Sizes(config.Profile):
    """Notebook 05's sizes, beside the shared ones (``sizes.width``, ``sizes.label_draws``, ``sizes.max_seconds``)."""

    train_images: int  # MNIST training images loaded (validation split included; their labels are hidden)
    val_images: int  # held out of them to choose layers and stopping points on
    steps: int  # optimiser steps of each pretext task (the same for every method)
    label_budgets: tuple[int, ...]  # labelled training images in total (a tenth of them per digit)
    scratch_steps: int  # at most this many optimiser steps for the from-scratch baseline on each labelled subset
    scratch_every: int  # ... graded on the validation split every this many steps
    scratch_patience: int  # ... and stopped when that many gradings in a row did not beat the best


SIZES = config.lesson_sizes(
    Sizes,
    ci=dict(train_images=10_000, val_images=1_000, steps=80, label_budgets=(100, 1_000), scratch_steps=100,
            scratch_every=20, scratch_patience=3),
    lab=dict(train_images=20_000, val_images=1_000, steps=400, label_budgets=(100, 300, 1_000, 10_000),
             scratch_steps=300, scratch_every=25, scratch_patience=4),
    full=dict(train_images=60_000, val_images=5_000, steps=3_000, label_budgets=(100, 300, 1_000, 10_000),
              scratch_steps=1_500, scratch_every=50, scratch_patience=6),
)

# A labelled subset this large covers most of each digit's pool, so its draws barely differ: one draw is enough.
ONE_DRAW_FROM = 10_000


# --- pretraining ----------------------------------------------------------------------------------------------

def pretext_model(method: str, backbone: nets.Backbone):
    """The model and ``train.fit`` loss of one pretext task, around ``backbone``."""
    if method == "egomotion":
        return transformations.EgomotionNet(backbone), transformations.egomotion_loss
    if method == "contrastive":
        return transformations.SimCLR(backbone), transformations.simclr_loss
    raise ValueError(f"unknown method {method!r}; choose from {METHODS}")


def pretrain(method: str, x: torch.Tensor, sizes: Sizes, seed: int = 0, notebook: str = NOTEBOOK,
             desc: str | None = None):
    """Train a fresh backbone with one pretext task on unlabelled images ``x``; returns (backbone, history).
    ``notebook`` and ``desc``: whose run it is and its name there (default: this notebook's, named after the method);
    the scoreboard (12) trains both methods at its own sizes under its own names."""
    desc = desc or method
    backbone = nets.random_backbone(x.shape[1], sizes.width, seed, x.device)
    with config.isolated_rng(seed):  # the head's initial weights and the pairs drawn: the same for every method
        model, loss = pretext_model(method, backbone)
        model = model.to(x.device)
        history = pretrained.load_or_train(
            model, f"{notebook}/{desc}",
            lambda: train.fit(model, train.batches(x, batch_size=sizes.batch_size, seed=seed), loss,
                              steps=sizes.steps, max_seconds=sizes.max_seconds, desc=desc),
            sizes=sizes, seed=seed, loss=loss)
    return backbone.eval(), history


def pretext_accuracy(histories: dict[str, train.History], sizes: Sizes) -> pd.DataFrame:
    """Each pretext task's own accuracy on its last logged batch beside its chance level: a run that stays at chance
    learned nothing, whatever its loss did. Egomotion is graded per parameter (each a classification over its bins,
    ``EgomotionBins``); contrastive on finding a view's partner among the batch's other 2N - 1 views."""
    chance = {f"acc_{name}": 1 / n for name, n in transformations.EgomotionBins().classes.items()}
    chance["acc"] = 1 / (2 * sizes.batch_size - 1)
    rows = {(method, metric.removeprefix("acc_").replace("acc", "partner found")):
            {"pretext accuracy": f"{history.last(metric):.0%}", "chance": f"{chance[metric]:.1%}",
             "times chance": f"{history.last(metric) / chance[metric]:.1f}", "run": history.stopped_by}
            for method, history in histories.items() for metric in history.values if metric in chance}
    return pd.DataFrame(rows).T.rename_axis(["pretext", "predicts"])


# Steps of the short contrastive run a student's own NT-Xent trains (notebook 05, after its exercise): enough to
# leave the pretext's chance level far behind, short enough to rerun after every edit.
YOUR_RUN_STEPS = {"ci": 30, "lab": 120, "full": 300}


def train_with_your_loss(contrast, x: torch.Tensor, sizes: Sizes, seed: int = 0) -> train.History:
    """A fresh backbone trained for ``YOUR_RUN_STEPS`` steps by the contrastive pretext with ``contrast(z1, z2,
    temperature)`` as its loss (a student's ``nt_xent``, or the course's); its history logs the pretext's own
    accuracy ``acc``. Never saved: it shows a loss at work, it is not one of the notebook's rows."""
    backbone = nets.random_backbone(x.shape[1], sizes.width, seed, x.device)
    with config.isolated_rng(seed):
        model = transformations.SimCLR(backbone).to(x.device)
        loss = functools.partial(transformations.simclr_loss, contrast=contrast)
        return train.fit(model, train.batches(x, batch_size=sizes.batch_size, seed=seed), loss,
                         steps=YOUR_RUN_STEPS[sizes.name], max_seconds=sizes.max_seconds, desc="your NT-Xent")


def show_your_run(history: train.History, sizes: Sizes):
    """The short run's pretext accuracy against its chance level, 1 / (2N - 1) for a batch of N images."""
    chance = 1 / (2 * sizes.batch_size - 1)
    print(f"after {history.step[-1]} steps: a view's most similar other view is its partner "
          f"{history.last('acc'):.0%} of the time (chance {chance:.1%})")
    return show.against_chance(history, "acc", chance, ylabel="partner found (pretext accuracy)",
                               title="the contrastive pretext, trained by the NT-Xent above")


def random_features(sizes: Sizes, seed: int = 0, device: torch.device | str = "cpu") -> nets.Backbone:
    """The random-init baseline: the backbone every pretext run starts from (the same seed), trained by nothing,
    probed like the others (frozen, in eval mode)."""
    return nets.random_backbone(1, sizes.width, seed, device)


def split(x: torch.Tensor, y: torch.Tensor, sizes: Sizes, seed: int = 0):
    """``((x_train, y_train), (x_val, y_val))``: the validation split that chooses layers and stopping points."""
    return evaluate.split_validation(x, y, sizes.val_images, seed)


def capped_runs(histories: dict[str, train.History]) -> list[str]:
    """The names of the runs that stopped at their time budget (for ``session.record`` and the claims)."""
    return [name for name, history in histories.items() if history.capped]
