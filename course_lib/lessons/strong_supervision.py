"""Strong supervision transfers (notebook 01): features learned with labels on one task help another.

The source task is CIFAR-10's six animal classes, with every label; the target task is its four vehicle
classes, with only a few labels per class -- the laptop-sized version of "ImageNet features transfer to
PASCAL detection". Nothing about vehicles is learned in pretraining; what carries over is the features.

The comparison is the course's protocol in miniature: one network and one training recipe for every
initialisation (the same fine-tuning steps for the pretrained network and for scratch), ``label_draws`` few-label
subsets per point (mean ± std), accuracy on every target-task image of the test set. Nothing is chosen on the test
set: the steps are fixed in advance, the same for every start; the frozen rows' layer (and random init's read: as
initialised or with BatchNorm recalibrated) is chosen on a validation split of the target task's training images.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from course_lib import augment, checks, config, evaluate, nets, pretrained, seeds, show, train
from course_lib.data import ImageData

NOTEBOOK = "01_strong_supervision"  # its runs' shipped weights are named after it

ANIMALS = (2, 3, 4, 5, 6, 7)  # bird, cat, deer, dog, frog, horse
VEHICLES = (0, 1, 8, 9)  # airplane, automobile, ship, truck
CHANCE = 100.0 / len(VEHICLES)  # % of target-task test images a guess among the four vehicles gets right


@dataclass(frozen=True)
class Sizes(config.Profile):
    """Notebook 01's sizes: the shared ones (``label_draws`` among them), and how long each network trains."""

    pretrain_steps: int  # optimiser steps of the supervised pretraining on the source task (every animal label)
    finetune_steps: int  # optimiser steps of each few-label fine-tuning run, the same for pretrained and scratch
    labels_per_class: tuple[int, ...]  # points of the label-efficiency curves; 10 is one of them (the claim reads it)
    validation: int  # target-task training images held out with their labels: they choose the frozen rows' layer


# lab: 5 points x 3 labelled draws x 2 starts = 30 fine-tuning runs of 100 steps (about 100 s on 2 CPU cores; with 150
# steps and 7 points it took twice that, over the notebook's 4 minutes once the draws went from 1 to 3)
SIZES = config.lesson_sizes(
    Sizes,
    ci=dict(pretrain_steps=500, finetune_steps=100, labels_per_class=(2, 10), validation=1000),
    lab=dict(pretrain_steps=1_000, finetune_steps=100, labels_per_class=(1, 3, 10, 30, 100), validation=1000),
    full=dict(pretrain_steps=6_000, finetune_steps=300, labels_per_class=(1, 2, 5, 10, 20, 50, 100, 500),
              validation=2000),
)
CLAIM_FROM = 10  # the claim averages the curves over their points with at least this many labels per class
PROBE_DIM = 2048  # a frozen row's every layer is average-pooled to at most this many numbers before its probe

# every ordering the notebook states, on the numbers it records: seeds.table shows each over seeds 0, 1 and 2
ORDERINGS: list[seeds.Ordering] = [
    seeds.Ordering("features learned with labels beat scratch, curves averaged from 10 labels per class up",
                   "curve_mean_pretrained", "curve_mean_scratch"),
    seeds.Ordering("10 labels per class: the pretrained start is ahead of scratch (fine-tuned)",
                   "acc_pretrained_10_per_class", "acc_scratch_10_per_class"),
    seeds.Ordering("10 labels per class: frozen pretrained features beat frozen random ones (linear probe)",
                   "acc_pretrained_frozen_10_per_class", "acc_random_frozen_10_per_class"),
]


def select_classes(x: torch.Tensor, y: torch.Tensor, classes) -> tuple[torch.Tensor, torch.Tensor]:
    """The examples of ``classes``, relabelled 0 .. len(classes)-1."""
    classes = torch.as_tensor(classes, device=y.device)
    keep = torch.isin(y, classes)
    relabel = torch.full((int(y.max()) + 1,), -1, dtype=torch.long, device=y.device)
    relabel[classes] = torch.arange(len(classes), device=y.device)
    return x[keep], relabel[y[keep]]


@dataclass
class Tasks:
    """The two tasks as (images, labels) pairs on the device; labels renumbered from 0 within each task."""

    source: tuple[torch.Tensor, torch.Tensor]
    source_test: tuple[torch.Tensor, torch.Tensor]
    target: tuple[torch.Tensor, torch.Tensor]  # the few labels are drawn from these
    target_val: tuple[torch.Tensor, torch.Tensor]  # held out with their labels: they choose, never train
    target_test: tuple[torch.Tensor, torch.Tensor]
    source_names: list[str]
    target_names: list[str]

    def __str__(self) -> str:
        return (f"source task: {len(self.source[0])} labelled training images of {', '.join(self.source_names)}\n"
                f"target task: {len(self.target[0])} training images (a few labels will be drawn), "
                f"{len(self.target_val[0])} validation images and {len(self.target_test[0])} test images of "
                f"{', '.join(self.target_names)}")


def split_tasks(train_set: ImageData, test_set: ImageData, device: torch.device, validation: int,
                seed: int = 0) -> Tasks:
    """Animals (source) and vehicles (target), for training and for testing; ``validation`` of the vehicles'
    training images held out with their labels (``evaluate.split_validation``)."""
    train_set, test_set = train_set.to(device), test_set.to(device)
    target, target_val = evaluate.split_validation(*select_classes(train_set.x, train_set.y, VEHICLES), validation,
                                                   seed)
    return Tasks(source=select_classes(train_set.x, train_set.y, ANIMALS),
                 source_test=select_classes(test_set.x, test_set.y, ANIMALS),
                 target=target, target_val=target_val,
                 target_test=select_classes(test_set.x, test_set.y, VEHICLES),
                 source_names=[train_set.classes[c] for c in ANIMALS],
                 target_names=[train_set.classes[c] for c in VEHICLES])


def show_tasks(tasks: Tasks, n: int = 8):
    """A row of source images and a row of target images, with their class names."""
    images = torch.cat([tasks.source[0][:n], tasks.target[0][:n]]).cpu()
    names = ([f"source: {tasks.source_names[i]}" for i in tasks.source[1][:n]]
             + [f"target: {tasks.target_names[i]}" for i in tasks.target[1][:n]])
    return show.image_grid(images, names, ncols=n, size=1.5)


def pretrain_with_labels(x: torch.Tensor, y: torch.Tensor, sizes: Sizes, seed: int = 0):
    """Supervised pretraining on the source task; returns (classifier, history).

    For the same seed it starts from the same random weights as the "scratch" and "random init" rows of
    ``transfer_curves``: the curves then compare what training did, not two different draws of initial weights.
    """
    start = nets.random_backbone(x.shape[1], sizes.width, seed, x.device)
    model = nets.Classifier(start, int(y.max()) + 1).to(x.device)
    desc = "pretraining on the source labels"
    history = pretrained.load_or_train(
        model, f"{NOTEBOOK}/{desc}",
        lambda: train.train_classifier(model, x, y, steps=sizes.pretrain_steps, batch_size=sizes.batch_size,
                                       augment=augment.random_crop_flip, seed=seed, max_seconds=sizes.max_seconds,
                                       desc=desc),
        sizes=sizes, seed=seed, loss="cross-entropy", augment=augment.random_crop_flip)
    return model, history


def transfer_curves(source: nets.Backbone, tasks: Tasks, sizes: Sizes, seed: int = 0):
    """Accuracy (%) against labels per class on the target task, for four ways to start; and how each frozen row
    was read (``frozen_curve``).

    "Fine-tuned" and "scratch" use the same recipe (steps, augmentation, optimiser); only the initial weights
    differ. The "frozen" rows train only a linear probe on fixed features (the protocol of later notebooks), each
    at the layer and the probe's C chosen on validation; random init also at its better read (as initialised, or
    with BatchNorm recalibrated on the target task's images, no labels read). Returns ({row: curve}, the frozen rows'
    choices).
    """
    (x, y), (x_test, y_test) = tasks.target, tasks.target_test
    n_classes = int(y.max()) + 1
    random_init = nets.random_backbone(x.shape[1], sizes.width, seed, x.device)

    def start_from(backbone):
        return lambda: nets.Classifier(copy.deepcopy(backbone), n_classes)

    recipe = dict(steps=sizes.finetune_steps, augment=augment.random_crop_flip, seed=seed,
                  batch_size=sizes.batch_size, draws=sizes.label_draws)
    points = sizes.labels_per_class
    with pretrained.Runs(NOTEBOOK, "fine-tuning runs", sizes=sizes, loss="cross-entropy", **recipe) as runs:
        finetuned = {"pretrained, fine-tuned": evaluate.finetune_curve(start_from(source), x, y, x_test, y_test,
                                                                       points, desc="pretrained", trained=runs,
                                                                       **recipe),
                     "scratch": evaluate.finetune_curve(start_from(random_init), x, y, x_test, y_test, points,
                                                        desc="scratch", trained=runs, **recipe)}
    frozen = {"pretrained, frozen + linear probe": frozen_curve({"": source}, tasks, sizes, seed),
              "random init, frozen + linear probe": frozen_curve(evaluate.random_reads(random_init, x), tasks,
                                                                 sizes, seed)}
    choices = pd.DataFrame({name: row for name, (_, row) in frozen.items()}).T
    return {**finetuned, **{name: curve for name, (curve, _) in frozen.items()}}, choices


def frozen_curve(reads: dict[str, nn.Module], tasks: Tasks, sizes: Sizes, seed: int = 0):
    """A frozen network's label-efficiency curve under a linear probe, and what chose it. At the fewest labels every
    layer of every read (``reads``: {read: network}; random init's two, ``evaluate.random_reads``) is probed on the
    same draws at each C of ``sizes.probe_cs``, and the (read, layer, C) best on the validation split is kept for
    every point. Returns (curve, {layer, C, read, validation labels})."""
    parts = (tasks.target[0], tasks.target_val[0], tasks.target_test[0])
    labels = (tasks.target[1], tasks.target_val[1], tasks.target_test[1])
    features = {read: [evaluate.stage_features(net, x, target_dim=PROBE_DIM) for x in parts]
                for read, net in reads.items()}

    def probe(read: str, per_class: int, layers=nets.STAGES, Cs=sizes.probe_cs) -> evaluate.LayerScores:
        train, val, test = ({layer: part[layer] for layer in layers} for part in features[read])
        return evaluate.probe_layers(train, labels[0], val, labels[1], test, labels[2], per_class=per_class,
                                     draws=sizes.label_draws, seed=seed, Cs=Cs)

    fewest, *more = sizes.labels_per_class
    first = {read: probe(read, fewest) for read in reads}
    read = evaluate.better_on_validation({read: scores.best_val for read, scores in first.items()})
    layer, C = first[read].best_layer, first[read].best_C
    curve = {fewest: first[read].best, **{k: probe(read, k, (layer,), (C,)).best for k in more}}
    return curve, {evaluate.BEST_LAYER: layer, evaluate.PROBE_C_COLUMN: C, evaluate.READ: read or "-",
                   evaluate.VAL_LABELS: len(labels[1])}


def curve_table(curves: dict[str, dict[int, evaluate.Spread]]) -> pd.DataFrame:
    """The curves as a table: one row per way to start, one column per number of labels per class, each cell the
    mean ± std over the labelled draws."""
    table = pd.DataFrame({name: {k: _mean_pm_std(v) for k, v in curve.items()} for name, curve in curves.items()}).T
    table.columns = [f"{k} / class" for k in table.columns]
    return table


def _mean_pm_std(value: float) -> str:
    return value.text() if isinstance(value, evaluate.Spread) else f"{value:.1f}"


def curve_mean(curve: dict[int, evaluate.Spread], from_labels: int = CLAIM_FROM) -> evaluate.Spread:
    """A curve's mean over its points with at least ``from_labels`` labels per class, as a ``Spread``.

    Its spread is the mean of those points' stds: an upper bound on the std over draws of the averaged accuracy (the
    std of a sum is at most the sum of the stds), so "differs by more than the spread" stays a cautious verdict.
    """
    points = [v for k, v in curve.items() if k >= from_labels]
    if not points:
        raise ValueError(f"the curve has no point with {from_labels} or more labels per class: {sorted(curve)}")
    return evaluate.Spread(float(sum(points)) / len(points), sum(evaluate.spread_of(v) for v in points) / len(points),
                           min(getattr(v, "draws", 1) for v in points))


# --- exercise checkers -------------------------------------------------------------------------------------

def check_few_labels(fn) -> None:
    """Exercise: ``fn(y, per_class, seed)`` returns indices of ``per_class`` examples of every class, drawn with the
    seed: tried on three label vectors (12 labels of 3 classes; 40 labels of 5 classes of unequal sizes; 24 labels of
    4 classes of 6), 1 to 3 per class and seeds 0, 1, 2, so that a draw that is not per class, that ignores the seed,
    or that restarts from the seed for every class (the same positions within each equal class) shows; and once with
    torch's global stream watched, which the draw must leave as it was."""
    small = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 0, 1])
    large = torch.repeat_interleave(torch.arange(5), torch.tensor([12, 9, 8, 6, 5]))
    large = large[torch.randperm(len(large), generator=torch.Generator().manual_seed(1))]
    equal = torch.arange(4).repeat(6)[torch.randperm(24, generator=torch.Generator().manual_seed(2))]
    labels = {"12 labels of 3 classes": small, "40 labels of 5 classes": large, "24 labels of 4 equal classes": equal}
    runs = [(name, k, seed) for name, ks in (("12 labels of 3 classes", (1, 2)), ("40 labels of 5 classes", (1, 3)),
                                             ("24 labels of 4 equal classes", (2,)))
            for k in ks for seed in (0, 1, 2)]

    def draw(y, per_class, seed) -> torch.Tensor:
        return torch.as_tensor(fn(y, per_class, seed)).long().flatten()

    picks = {run: checks.answer(draw, labels[run[0]].clone(), run[1], run[2]) for run in runs}
    again = checks.answer(draw, small.clone(), 2, 0)

    def classes(run) -> torch.Tensor:
        return labels[run[0]][picks[run]()]

    def counts(run) -> list[int]:
        return torch.bincount(classes(run), minlength=int(labels[run[0]].max()) + 1).tolist()

    def first(wrong) -> tuple:
        return next(run for run in runs if wrong(run))

    def repeated(run) -> bool:
        return len(set(picks[run]().tolist())) != len(picks[run]())

    def unbalanced(run) -> bool:
        return counts(run) != [run[1]] * len(counts(run))

    def subset(idx: torch.Tensor) -> tuple[int, ...]:
        return tuple(sorted(idx.tolist()))

    def where(run) -> str:
        name, k, seed = run
        return f"with {name}, {k} per class and seed {seed}"

    def size_hint() -> str:
        run = first(lambda run: len(picks[run]()) != run[1] * len(counts(run)))
        total = run[1] * len(counts(run))
        n = len(picks[run]())
        return (f"{where(run)} you returned {n} {'index' if n == 1 else 'indices'}, not {total}: per_class is a "
                "number per class, and every class gets that many")

    def in_range(run) -> bool:
        idx = picks[run]()
        return idx.numel() == 0 or (int(idx.min()) >= 0 and int(idx.max()) < len(labels[run[0]]))

    def positions_in_class() -> bool:
        """Every value is below its run's largest class size, and some come twice: positions counted within each
        class, not indices into y."""
        return (any(repeated(run) for run in runs)
                and all(int(picks[run]().max()) < int(torch.bincount(labels[run[0]]).max()) for run in runs))

    def ranks(run) -> list[tuple[int, ...]]:
        """Per class: the positions within the class (0 = its first member in y) of the examples drawn."""
        y, idx = labels[run[0]], set(picks[run]().tolist())
        return [tuple(r for r, i in enumerate(torch.nonzero(y == c).flatten().tolist()) if i in idx)
                for c in range(int(y.max()) + 1)]

    def same_positions_in_every_class() -> bool:
        """On the equal classes, every seed drew the same positions within every class: the draw restarted from the
        seed for each class."""
        return all(len(set(ranks(("24 labels of 4 equal classes", 2, seed)))) == 1 for seed in (0, 1, 2))

    def leaves_the_global_stream() -> bool:
        torch.manual_seed(1234)
        before = torch.random.get_rng_state()
        checks.guarded(draw)(small.clone(), 2, 0)
        return torch.equal(before, torch.random.get_rng_state())

    with config.isolated_rng(0):  # an answer that draws from torch's global stream leaves the notebook's alone
        checks.verdict("few_labels", [
            checks.returns(lambda: [pick() for pick in picks.values()],
                           "the checker calls it with y, a 1-D tensor of class labels 0 ... C - 1, and per_class "
                           "and seed, two ints; it should return a 1-D tensor of indices into y"),
            (lambda: all(in_range(run) for run in runs),
             "return indices into y (positions 0 ... len(y) - 1), not labels or a mask"),
            (lambda: all(len(picks[run]()) == run[1] * len(counts(run)) for run in runs), size_hint),
            (lambda: not positions_in_class(),
             "your numbers are positions within each class (0 ... class size - 1, so they repeat from class to "
             "class), not indices into y: give each chosen example's position in y itself"),
            (lambda: not any(repeated(run) for run in runs),
             lambda: f"{where(first(repeated))} an index came twice: an example can be labelled once, so the draw is "
                     "without replacement (distinct indices)"),
            (lambda: not any(unbalanced(run) for run in runs),
             lambda: f"{where(first(unbalanced))} your examples per class are "
                     f"{dict(enumerate(counts(first(unbalanced))))}: the draw is not per class (drawn from all of "
                     "y at once, the classes come out unequal); every class must get exactly per_class"),
            (lambda: all(len({subset(picks[name, k, seed]()) for seed in (0, 1, 2)}) > 1 for name, k, _ in runs),
             "seeds 0, 1 and 2 drew the same subset: the seed is ignored, so every run would label the same examples"),
            (lambda: subset(again()) == subset(picks["12 labels of 3 classes", 2, 0]()),
             "the same seed drew another subset when called again: the draw uses torch's global random stream, not "
             "one started from the seed"),
            (lambda: not same_positions_in_every_class(),
             lambda: "with 4 classes of 6 examples each, every class got the same positions within the class (seed "
                     f"0: members {[r + 1 for r in ranks(('24 labels of 4 equal classes', 2, 0))[0]]} of every "
                     "class, counted in y's order): the random draw starts again from the seed for each class. Start "
                     "it from the seed once per call and let the classes go on drawing from it"),
            (leaves_the_global_stream,
             "your function changed torch's global random stream (torch.manual_seed, or a draw without a generator "
             "of its own): calling it would change every random number the notebook draws next. Draw from a "
             "torch.Generator seeded with the seed instead, and leave torch's global stream alone"),
        ])


def check_labels_needed(fn) -> None:
    """Exercise: ``fn(curve, accuracy)`` = labels per class needed to reach ``accuracy`` (log interpolation), on a
    rising curve (between its points, below its first, never reached), the same curve with its keys out of order, and
    a curve that dips, which crosses the accuracy asked for three times."""
    curve = {1: 40.0, 10: 60.0, 100: 80.0}
    unordered = {100: 80.0, 1: 40.0, 10: 60.0}
    dipping = {1: 40.0, 3: 55.0, 10: 50.0, 30: 70.0}
    cases = [(curve, 50.0), (curve, 30.0), (curve, 90.0), (unordered, 50.0), (dipping, 52.0)]
    got = [checks.answer(fn, dict(c), accuracy) for c, accuracy in cases]
    want = [evaluate.labels_needed(c, accuracy) for c, accuracy in cases]
    at = {case: i for i, case in enumerate(("between", "below", "never", "unordered", "dipping"))}

    def right(i: int) -> bool:
        return _close(got[i](), want[i])

    def rising_hint() -> str:
        wrong = {cases[i][1]: got[i]() for i in range(3) if not right(i)}
        notes = []
        if not right(at["between"]):
            between = _number(got[at["between"]]())
            notes.append("between two measured points the answer is interpolated on a log axis of labels, "
                         + ("not on a linear one" if _close(between, 5.5) else
                            "not the next measured point" if _close(between, 10.0) else
                            "so it lies between those points' labels"))
        if not right(at["below"]):
            notes.append("an accuracy the first point already reaches needs the first point's labels")
        if not right(at["never"]):
            notes.append('an accuracy the curve never reaches needs float("inf") labels')
        return f"for the curve {curve} you answered {wrong}: " + "; ".join(notes)

    def dipping_hint() -> str:
        answer = _number(got[at["dipping"]]())
        last = _close(answer, 10.0 * 3.0 ** 0.1)  # where the curve crosses 52 % the last time, between 10 and 30
        return (f"for the curve {dipping} at 52 % you answered {answer:.4g}: "
                + ("that is where the curve crosses 52 % the last time; the labels needed are where it reaches it "
                   "first (an accuracy curve measured on few labels can dip)" if last else
                   "the labels needed are where the curve first reaches 52 %, although it dips below it again later"))

    checks.verdict("labels_needed", [
        checks.returns(got[0], f"it was given the curve {curve} (a dict: labels per class -> accuracy in %) and the "
                               "accuracy 50.0; it should return one number"),
        (lambda: all(right(i) for i in range(3)), rising_hint),
        (lambda: right(at["unordered"]),
         lambda: f"for the curve {unordered} at 50 % you answered {got[at['unordered']]()}: these are the points of "
                 f"{curve} with the dict's keys out of order; take the points in order of labels, whatever order "
                 "the dict holds them in"),
        (lambda: right(at["dipping"]), dipping_hint),
    ])


def _number(value) -> float:
    """A student's answer as a float, or nan when it is not a number (None, a string)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _close(a: float, b: float) -> bool:
    """``a`` is ``b``, or near it; a finite ``a`` is never near inf (the tolerance grows with ``b``)."""
    a = _number(a)
    return a == b or (abs(b) < float("inf") and abs(a - b) <= 1e-6 * max(1.0, abs(b)))
