"""The from-scratch baseline of notebook 05: the same network trained end to end on each labelled subset, with the
contrastive views' augmentation, stopped when its validation accuracy stops rising."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import torch

from course_lib import config, evaluate, nets, pretrained, show, train
from course_lib.early_stopping import EarlyStopping
from course_lib.lessons.transformations.pretraining import NOTEBOOK, SCRATCH, Sizes
from course_lib.lessons.transformations.probing import draws_at, labelled_subset
from course_lib.pretext import transformations


@dataclass
class ScratchRun:
    """One from-scratch training on one labelled subset: its test error at the step chosen on validation."""

    budget: int
    error: float
    curve: list[tuple[int, float]] = field(repr=False)  # (step, validation accuracy %)
    best_step: int
    stopped_early: bool  # False: it used all ``scratch_steps`` (validation accuracy may still have been rising)


def scratch_run(train_xy, idx: torch.Tensor, val_xy, test_xy, sizes: Sizes, seed: int = 0,
                augment=transformations.digit_view, desc: str | None = None,
                trained: train.Trained = train.always_train, start: nets.Backbone | None = None,
                lr: float = train.LR, steps: int | None = None) -> ScratchRun:
    """Train the network end to end on the labelled images ``idx``, with the contrastive views' augmentation
    (``augment``), until validation accuracy stops rising; test error (%) with the best validation weights.
    The run is named ``desc`` (default "scratch, <n> labels"; ``scratch`` adds the draw) and trained through
    ``trained`` (``scratch`` loads shipped weights instead). ``start``: a pretrained backbone to fine-tune (a copy)
    by the same recipe, instead of the random one. ``lr`` and ``steps`` (default ``sizes.scratch_steps``): the
    recipe, the course's by default (``scratch_recipe`` tries others)."""
    steps = steps or sizes.scratch_steps
    (x, y), (x_test, y_test) = train_xy, test_xy
    idx = idx.to(x.device)
    backbone = (nets.random_backbone(x.shape[1], sizes.width, seed, x.device) if start is None
                else copy.deepcopy(start))
    with config.isolated_rng(seed):  # the head's initial weights and the augmentations: the same for every budget
        model = nets.Classifier(backbone, 10).to(x.device)
        watch = EarlyStopping(model, val_xy, sizes.scratch_every, sizes.scratch_patience)
        batches = train.batches(x[idx], y[idx], batch_size=sizes.batch_size, seed=seed, augment=augment)

        def cross_entropy(model, batch):
            return torch.nn.functional.cross_entropy(model(batch[0]), batch[1])

        desc = desc or f"{SCRATCH}, {len(idx)} labels"
        history = trained(model, desc, lambda: train.fit(model, watch.stream(batches), cross_entropy, steps=steps,
                                                          lr=lr, progress=False, desc=desc,
                                                          after=watch.after_training(steps)))
    curve = [(int(step), accuracy) for step, accuracy in zip(history["val_step"], history["val_accuracy"],
                                                              strict=True)]
    return ScratchRun(len(idx), 100.0 - evaluate.accuracy(model, x_test, y_test), curve, int(history["best_step"][0]),
                      bool(history["stopped_early"][0]))


def scratch(train_xy, val_xy, test_xy, sizes: Sizes, seed: int = 0) -> dict[int, list[ScratchRun]]:
    """{budget: one ``ScratchRun`` per labelled draw}, on the same labelled subsets the probes use."""
    y = train_xy[1].cpu()
    with pretrained.Runs(NOTEBOOK, "from-scratch runs", sizes=sizes, seed=seed, loss="cross-entropy",
                         augment=transformations.digit_view) as runs:
        return {budget: [scratch_run(train_xy, labelled_subset(y, budget, seed, d), val_xy, test_xy, sizes, seed,
                                     desc=f"{SCRATCH}, {budget} labels, draw {d + 1}", trained=runs)
                         for d in range(draws_at(budget, sizes))]
                for budget in sizes.label_budgets}


def finetuned(backbone: nets.Backbone, train_xy, val_xy, test_xy, sizes: Sizes, seed: int = 0,
              budget: int = 100, name: str = "egomotion") -> list[ScratchRun]:
    """A pretrained ``backbone`` fine-tuned end to end on each labelled draw of ``budget`` labels (the probes'
    draws), by the scratch baseline's own recipe: its augmentation, optimiser and stopping on validation. Only the
    initial weights differ from the scratch row. The runs are named "<name>, fine-tuned, <budget> labels, draw d"."""
    y = train_xy[1].cpu()
    with pretrained.Runs(NOTEBOOK, f"{name} fine-tuning runs", sizes=sizes, seed=seed, loss="cross-entropy",
                         augment=transformations.digit_view, start=name) as runs:
        return [scratch_run(train_xy, labelled_subset(y, budget, seed, d), val_xy, test_xy, sizes, seed,
                            desc=f"{name}, fine-tuned, {budget} labels, draw {d + 1}", trained=runs, start=backbone)
                for d in range(draws_at(budget, sizes))]


def scratch_errors(runs: dict[int, list[ScratchRun]]) -> dict[int, evaluate.Spread]:
    return {budget: evaluate.Spread.of(run.error for run in rs) for budget, rs in runs.items()}


def show_scratch_curves(runs: dict[int, list[ScratchRun]]):
    """Validation accuracy of every from-scratch run against its steps; a dot marks the step it kept."""
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for (budget, rs), colour in zip(runs.items(), plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False):
        for i, run in enumerate(rs):
            steps, accuracy = zip(*run.curve, strict=True)
            ax.plot(steps, accuracy, color=colour, alpha=0.8, label=f"{budget} labels" if i == 0 else None)
            ax.plot(run.best_step, dict(run.curve)[run.best_step], "o", color=colour)
    ax.set(xlabel="optimiser step", ylabel="validation accuracy (%)", ylim=(max(0, ax.get_ylim()[0]), 100),
           title="scratch baseline: stopped when validation accuracy stops rising")
    ax.legend()
    ax.grid(alpha=0.3)
    return show.finish(fig)
