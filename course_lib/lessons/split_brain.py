"""Split-brain autoencoders (notebook 07): cross-channel networks on CIFAR-10, probed layer by layer.

The method -- the two halves, their losses, the concatenation -- is ``course_lib.pretext.split_brain`` (Zhang,
Isola & Efros, CVPR 2017). This module runs the notebook's experiment:

* ``NETWORKS``      every network trained, by row name: the half-width halves L -> ab and ab -> L with each loss,
                    a second L -> ab half from other initial weights, the same two tasks at full width, a Lab -> Lab
                    autoencoder and a supervised network;
* ``train_all``     trains them all from unlabelled Lab images (the supervised one from labels), each from
                    its own seeded initial weights, for the same number of steps;
* ``backbones``     the rows of the table, as feature extractors that all read scaled Lab: random init, the
                    halves, the split-brain concatenations (two halves trained independently, side by side, as in
                    the paper), the paper's width control "Ensembled L→ab" (two L -> ab halves side by side), the
                    full-width single-task networks, the autoencoder, supervised;
* ``probe_rows``    the layer-wise linear probe of every row (conv1 ... conv5 pooled to equal size,
                    ``evaluate.probe_layers``): several labelled draws, each row's best layer chosen on a validation
                    split; ``evaluate.layer_table`` prints it, ``plot_layers`` draws it beside the paper's rows as on
                    the slide, ``head_to_head`` says layer by layer which of two rows wins, or that the gap is inside
                    the spread of the draws;
* ``ORDERINGS``     every ordering the notebook states, on its recorded metrics, for its table over pretraining
                    seeds (``course_lib.seeds``);
* the exercises:    ``check_split_brain_loss`` (the loss of both halves, the main one), ``train_with_your_loss`` and
                    ``show_your_run`` (a short run of fresh halves with the student's loss, each half's accuracy
                    against its chance level), ``check_concatenation`` (the optional one).

``SIZES`` holds the notebook's sizes for ``ci``, ``lab`` and ``full``.

Random-init convolutional features are a strong baseline at this scale; the table shows where the methods beat it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import checks, config, evaluate, nets, papers, pretrained, seeds, show, train
from course_lib.pretext import colorization as col
from course_lib.pretext import split_brain as sb

NOTEBOOK = "07_split_brain"  # its runs' shipped weights are named after it

RANDOM = "random init"
PROBE_DIM = 512  # every layer average-pooled to at most this many numbers: 55 probes x 3 draws must fit the budget


@dataclass(frozen=True)
class Sizes(config.Profile):
    """The shared profile plus what notebook 07 alone needs."""

    network_width: int  # width of the full-size networks; each split-brain half has half of it
    steps: int  # optimiser steps of each network (halves, full-width, autoencoder, supervised)
    seconds: float  # time cap of each of those trainings (stops early, says so)
    probe_labels: int  # labelled CIFAR-10 training images of every linear probe (a tenth of them per class)
    validation: int  # training images held out (with labels) to choose each row's best layer; nothing trains on them


SIZES = config.lesson_sizes(
    Sizes,
    ci=dict(network_width=16, steps=60, seconds=8, probe_labels=500, validation=1000),
    lab=dict(network_width=16, steps=360, seconds=40, probe_labels=1000, validation=1000),
    full=dict(network_width=64, steps=2000, seconds=90, probe_labels=10_000, validation=5000),
)


@dataclass(frozen=True)
class Network:
    """One trained network: its cross-channel task (or "labels"), its loss, and whether it is half width."""

    task: str  # "l_ab", "ab_l", "lab_lab", or "labels" (the supervised baseline)
    loss: str  # "cl" or "reg" ("reg" for the autoencoder, "cl" = cross-entropy for the supervised one)
    half: bool  # half width: one half of a split-brain network

    def width(self, sizes: Sizes) -> int:
        return sizes.network_width // 2 if self.half else sizes.network_width


SECOND_L_AB = "L→ab (cl), half, second draw"  # Ensembled L→ab's second network: the first's task, its own weights
SECOND_DRAW = 1000  # its seed is the run's + this: its own initial weights and batches, never another run's draw
NETWORKS = {
    "L→ab (cl), half": Network("l_ab", "cl", half=True),
    "ab→L (cl), half": Network("ab_l", "cl", half=True),
    "L→ab (reg), half": Network("l_ab", "reg", half=True),
    "ab→L (reg), half": Network("ab_l", "reg", half=True),
    SECOND_L_AB: Network("l_ab", "cl", half=True),
    "L→ab (cl), full width": Network("l_ab", "cl", half=False),
    "ab→L (cl), full width": Network("ab_l", "cl", half=False),
    "Lab→Lab autoencoder": Network("lab_lab", "reg", half=False),
    "supervised (labels)": Network("labels", "cl", half=False),
}
# the rows of the table, in order, and their names in recorded metrics (probe_<key>_<layer>)
KEYS = {RANDOM: "random", "L→ab (cl), half": "l_ab", "ab→L (cl), half": "ab_l",
        "split-brain (cl,cl)": "split_brain_cl", "split-brain (reg,reg)": "split_brain_reg",
        "Ensembled L→ab": "ensembled_l_ab",
        "L→ab (cl), full width": "l_ab_full", "ab→L (cl), full width": "ab_l_full",
        "Lab→Lab autoencoder": "autoencoder", "supervised (labels)": "supervised"}
# the slide's rows of the paper's tables (papers.SPLIT_BRAIN_TABLES) that the notebook discusses: {slide row: ours}.
# "Ensembled L→ab" (two L→ab halves side by side) is the paper's width control; our full-width rows are a second one.
PAPER_ROWS = {"ImageNet-labels [26]": "supervised (labels)", "Gaussian": RANDOM, "Lab→Lab": "Lab→Lab autoencoder",
              "L→ab(cl)": "L→ab (cl), half", "ab→L(cl)": "ab→L (cl), half", "Ensembled L→ab": "Ensembled L→ab",
              "Split-Brain Auto (reg,reg)": "split-brain (reg,reg)", "Split-Brain Auto (cl,cl)": "split-brain (cl,cl)"}
COLOURS = {name: f"C{i}" for i, name in enumerate(KEYS)}  # one colour per method, the same in every panel


def in_channels(task: str) -> int:
    return {"l_ab": 1, "ab_l": 2, "lab_lab": 3, "labels": 3}[task]


def out_channels(network: Network, q: int) -> int:
    """Outputs of the cross-channel head: Q ab bins or 2 ab values; L_BINS lightness bins or 1 value; Lab: 3."""
    if network.task == "lab_lab":
        return 3
    if network.task == "l_ab":
        return q if network.loss == "cl" else 2
    return sb.L_BINS if network.loss == "cl" else 1


def train_network(network: Network, lab: torch.Tensor, labels: torch.Tensor, centres: torch.Tensor,
                  sizes: Sizes, seed: int = 0, desc: str = "", progress: bool = True, notebook: str = NOTEBOOK):
    """Train one network on scaled Lab images; returns (its backbone, the training history).

    The backbone starts from ``nets.random_backbone(..., seed)``: the random-init row is where every network began.
    ``notebook``: whose run it is (the scoreboard, 12, trains the split-brain halves at its own sizes), ``desc`` its
    name there."""
    backbone = nets.random_backbone(in_channels(network.task), network.width(sizes), seed, lab.device)
    with config.isolated_rng(seed):  # the head's initial weights: the same for the same seed
        if network.task == "labels":
            model = nets.Classifier(backbone, 10)
        else:
            model = sb.CrossChannel(network.task, backbone, out_channels(network, len(centres)), lab.shape[-1])
    model = model.to(lab.device).to(memory_format=torch.channels_last)
    options = dict(steps=sizes.steps, max_seconds=sizes.seconds, desc=desc, progress=progress)

    def loss(m, batch):
        return sb.cross_channel_loss(m, batch, network.loss, centres)

    def train_run():
        if network.task == "labels":
            return train.train_classifier(model, lab, labels, batch_size=sizes.batch_size, seed=seed, **options)
        return train.fit(model, train.batches(lab, batch_size=sizes.batch_size, seed=seed), loss, **options)

    history = pretrained.load_or_train(model, f"{notebook}/{desc}", train_run, sizes=sizes, seed=seed,
                                       network=network)
    return backbone.eval(), history


def train_all(lab: torch.Tensor, labels: torch.Tensor, centres: torch.Tensor, sizes: Sizes, seed: int = 0,
              progress: bool = True):
    """Every network of ``NETWORKS``: ({name: backbone}, {name: history})."""
    def seed_of(name: str) -> int:
        return seed + SECOND_DRAW if name == SECOND_L_AB else seed

    runs = {name: train_network(network, lab, labels, centres, sizes, seed_of(name), name, progress)
            for name, network in NETWORKS.items()}
    return {name: run[0] for name, run in runs.items()}, {name: run[1] for name, run in runs.items()}


def backbones(trained: dict[str, nets.Backbone], sizes: Sizes, seed: int = 0) -> dict:
    """The table's rows as feature extractors of scaled Lab, in ``KEYS`` order."""
    def reads(name):
        return sb.SPLITS[NETWORKS[name].task][0] if NETWORKS[name].task != "labels" else slice(0, 3)

    device = next(iter(trained.values())).stages["conv1"][0].weight.device
    rows = {RANDOM: sb.InputChannels(nets.random_backbone(3, sizes.network_width, seed, device), slice(0, 3))}
    for name in KEYS:
        if name in trained:
            rows[name] = sb.InputChannels(trained[name], reads(name))
    rows["split-brain (cl,cl)"] = sb.SplitBrain(trained["L→ab (cl), half"], trained["ab→L (cl), half"])
    rows["split-brain (reg,reg)"] = sb.SplitBrain(trained["L→ab (reg), half"], trained["ab→L (reg), half"])
    rows["Ensembled L→ab"] = sb.EnsembledLToAb(trained["L→ab (cl), half"], trained[SECOND_L_AB])
    return {name: rows[name] for name in KEYS}


def probe_rows(rows: dict, labelled, validation, test, *, per_class: int | None = None, draws: int = 1,
               seed: int = 0) -> dict[str, evaluate.LayerScores]:
    """The layer-wise probe of every row: {name: ``evaluate.LayerScores``} at conv1 ... conv5, each layer pooled to
    ``PROBE_DIM`` numbers (``feature_sizes`` shows what the probes see). ``draws`` probes of ``per_class`` labelled
    images per class, drawn from ``labelled``; ``validation`` chooses each row's best layer (and random init's read:
    as initialised or BatchNorm recalibrated, ``evaluate.random_at_its_best``); ``test`` grades. The fitted probes
    are runs named "layer-wise probe: <row>" (shipped weights with COURSE_PRETRAINED=1)."""
    with pretrained.Runs(NOTEBOOK, "layer-wise probes", per_class=per_class, draws=draws, seed=seed) as runs:
        def probed(extractor: nn.Module, name: str) -> evaluate.LayerScores:
            return evaluate.probe_network(extractor, labelled, validation, test, target_dim=PROBE_DIM,
                                          per_class=per_class, draws=draws, seed=seed,
                                          desc=f"layer-wise probe: {name}", trained=runs)

        return evaluate.probe_each(rows, probed, labelled[0], random_row=RANDOM)


def head_to_head(scores: dict[str, evaluate.LayerScores], pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """Layer by layer, for each pair (a, b): the gap a - b in points (means over the draws) and who wins, or
    "no difference" where the gap is inside the spread of the draws (``evaluate.differ``). One row per pair."""
    def verdict(a: str, b: str, stage: str) -> str:
        x, y = scores[a].test[stage], scores[b].test[stage]
        return f"{float(x) - float(y):+.1f} " + ("no difference" if not evaluate.differ(x, y) else a if x > y else b)

    return pd.DataFrame({f"{a} vs {b}": {stage: verdict(a, b, stage) for stage in nets.STAGES}
                         for a, b in pairs}).T


beats = evaluate.beats  # the notebook's claims call lesson.beats


def wins(scores: dict[str, evaluate.LayerScores], first: str, second: str, stage: str) -> bool:
    """``first`` beats ``second`` at ``stage`` by more than the spread of their labelled draws."""
    return beats(scores[first].test[stage], scores[second].test[stage])


def feature_sizes(rows: dict, lab: torch.Tensor) -> pd.DataFrame:
    """Channels and pooled feature size of each row at each layer: the probes compare equal-size features."""
    sample = {name: evaluate.stage_features(extractor, lab[:2], target_dim=PROBE_DIM)
              for name, extractor in rows.items()}
    return pd.DataFrame({name: {stage: f"{extractor.channels[stage]} ch -> {sample[name][stage].shape[1]}"
                                for stage in nets.STAGES} for name, extractor in rows.items()}).T


def paper_table(dataset: str = "ImageNet") -> pd.DataFrame:
    """The paper's rows that stand beside ours (``PAPER_ROWS``), top-1 % at conv1 ... conv5, as the lecture slide
    shows them: linear classifiers on ImageNet (or Places, which lacks some of the rows)."""
    rows = [row for row in PAPER_ROWS if row in papers.SPLIT_BRAIN_TABLES[dataset]]
    table = pd.DataFrame(papers.SPLIT_BRAIN_TABLES[dataset], index=list(nets.STAGES)).T.loc[rows]
    table.insert(0, "ours", [PAPER_ROWS[row] for row in rows])
    table.attrs["caption"] = f"{papers.cite('zhang2017')} {dataset} table, as on the lecture slide"
    return table


def plot_layers(scores: dict[str, evaluate.LayerScores], paper: pd.DataFrame):
    """Accuracy against layer: ours (CIFAR-10, ± one std over the labelled draws as error bars, a ring at each row's
    best layer on validation) on the left, the paper's rows (ImageNet, as on the slide) on the right, each method
    in the same colour on both sides."""
    fig, (ours, theirs) = plt.subplots(1, 2, figsize=(12, 3.8), gridspec_kw={"width_ratios": [1.4, 1]})
    for i, (name, s) in enumerate(scores.items()):
        width_control = "full width" in name or name == "Ensembled L→ab"  # dotted: the controls for width
        style = "--" if name in (RANDOM, "supervised (labels)") else ":" if width_control else "-"
        x = np.arange(len(nets.STAGES)) + 0.03 * (i - len(scores) / 2)  # a little apart: error bars stay visible
        ours.errorbar(x, [float(s.test[stage]) for stage in nets.STAGES], [s.test[stage].std for stage in nets.STAGES],
                      fmt=style, marker="o", markersize=4, capsize=2, label=name, color=COLOURS[name])
        best = nets.STAGES.index(s.best_layer)
        ours.plot(x[best], float(s.best), "o", markersize=11, fillstyle="none", color=COLOURS[name])
    for name, row in paper.iterrows():
        style = "--" if row["ours"] in (RANDOM, "supervised (labels)") else ":" if name == "Ensembled L→ab" else "-"
        theirs.plot(range(len(nets.STAGES)), [row[s] for s in nets.STAGES], style, marker="o", label=name,
                    color=COLOURS[row["ours"]])
    ours.set(title="ours: CIFAR-10, linear probe (ring: best layer on validation)", ylabel="test accuracy (%)")
    theirs.set(title="paper: ImageNet, as on the slide (same colour = same method)", ylabel="top-1 accuracy (%)")
    for ax in (ours, theirs):
        ax.set_xticks(range(len(nets.STAGES)), nets.STAGES)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return show.finish(fig)


@torch.no_grad()
def show_task(rgb: torch.Tensor):
    """The two cross-channel tasks as pictures: the photo, L (F_1's input, F_2's target), ab at constant lightness
    (F_1's target, F_2's input)."""
    lightness, ab = col.split_lab(rgb)
    rows = {"photo X": rgb, "X_1 = L": col.grey(rgb), "X_2 = ab": col.to_rgb(torch.full_like(lightness, 65.0), ab)}
    return show.image_rows(rows)


def metrics(scores: dict[str, evaluate.LayerScores]) -> dict[str, float]:
    """probe_<method>_<layer> for every cell of the table (mean over the labelled draws), and probe_<method>_best
    and probe_<method>_best_std: the test accuracy at the layer chosen on validation, and its std over the draws;
    probe_random_recalibrated: which read of random init validation kept (1: BatchNorm recalibrated)."""
    out = {}
    for name, s in scores.items():
        out.update({f"probe_{KEYS[name]}_{stage}": float(s.test[stage]) for stage in nets.STAGES})
        out[f"probe_{KEYS[name]}_best"] = float(s.best)
        out[f"probe_{KEYS[name]}_best_std"] = s.best.std
        if s.read:  # random init: 1 where its BatchNorm-recalibrated read was the better on validation
            out[f"probe_{KEYS[name]}_recalibrated"] = float(s.read == evaluate.RECALIBRATED)
    return out


def _beats(statement: str, better: str, than: str | tuple[str, ...], at: str = "best") -> seeds.Ordering:
    """An ordering of recorded probes: rows by their metric keys (``KEYS``), at one layer or at the best (val)."""
    others = f"probe_{than}_{at}" if isinstance(than, str) else tuple(f"probe_{key}_{at}" for key in than)
    return seeds.Ordering(statement, f"probe_{better}_{at}", others)


# Every ordering the notebook states, for its table over pretraining seeds (``seeds.table(NOTEBOOK, ORDERINGS)``):
# the claims it asserts (in ``lab``) first, then what it only reports. A tie the text states ("no difference") is an
# ordering too: its verdict should then read "no difference".
_CONTROLS = ("l_ab", "ab_l", "ab_l_full", "autoencoder", "split_brain_reg")
ORDERINGS = [
    _beats("split-brain (cl,cl) beats each of its halves (best layers, chosen on validation)",
           "split_brain_cl", ("l_ab", "ab_l")),
    *(_beats(f"split-brain (cl,cl) beats random init at {stage}", "split_brain_cl", "random", stage)
      for stage in ("conv3", "conv4", "conv5")),
    *(_beats(f"L→ab (cl), full width beats random init at {stage}", "l_ab_full", "random", stage)
      for stage in ("conv3", "conv4", "conv5")),
    _beats("L→ab (cl), full width beats random init at conv2", "l_ab_full", "random", "conv2"),
    *(_beats(f"L→ab (cl), half beats random init at {stage}", "l_ab", "random", stage) for stage in ("conv4", "conv5")),
    *(_beats(f"split-brain (cl,cl) beats Ensembled L→ab at {stage}", "split_brain_cl", "ensembled_l_ab", stage)
      for stage in nets.STAGES),
    *(_beats(f"split-brain (cl,cl) beats its halves, ab→L full width, the autoencoder and (reg,reg) at {stage}",
             "split_brain_cl", _CONTROLS, stage) for stage in nets.STAGES),
    _beats("split-brain (cl,cl) beats random init at their best layers", "split_brain_cl", "random"),
    _beats("split-brain (cl,cl) beats Ensembled L→ab at their best layers", "split_brain_cl", "ensembled_l_ab"),
    _beats("split-brain (cl,cl) beats L→ab (cl), full width at their best layers",
           "split_brain_cl", "l_ab_full"),
    _beats("split-brain (cl,cl) beats the autoencoder at their best layers", "split_brain_cl", "autoencoder"),
    seeds.Ordering("random init falls from conv1 to conv5", "probe_random_conv1", "probe_random_conv5"),
    seeds.Ordering("split-brain (cl,cl) loses nothing from conv1 to conv5", "probe_split_brain_cl_conv5",
                   "probe_split_brain_cl_conv1"),
    _beats("colour → lightness is the weaker half: L→ab above ab→L (half width, best layers)", "l_ab", "ab_l"),
    _beats("the supervised network beats split-brain (cl,cl) (best layers)", "supervised", "split_brain_cl"),
]


def capped(histories: dict[str, train.History]) -> list[str]:
    """The networks whose training stopped at its time budget (recorded, and named beside a claim)."""
    return [name for name, history in histories.items() if history.capped]


# --- exercise checker -------------------------------------------------------------------------------------------

def check_concatenation(fn) -> None:
    """Exercise: ``fn(first, second)`` concatenates two halves' feature maps (N x C x H x W each) into F(X); compared
    with the library's F(X) of two random halves. The hints name the usual mistakes: the wrong order of the halves,
    the wrong axis, interleaved channels, adding instead of concatenating."""
    with config.isolated_rng(0):  # the same test maps every time, and the notebook's random stream is left alone
        model = sb.SplitBrain(nets.Backbone(1, 4), nets.Backbone(2, 4)).eval()  # random halves: L -> ab, ab -> L
        lab = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        first, second = (half.features(lab, ["conv2"])["conv2"] for half in model.halves)
        want = model.features(lab, ["conv2"])["conv2"]  # the library's F(X)
    answer = checks.answer(fn, first.clone(), second.clone())
    n, c, h, w = first.shape

    def shape_advice() -> str:
        shapes = {
            (2 * n, c, h, w): "you joined the halves along the batch axis: that makes more images, not more channels",
            (n, c, h, 2 * w): "you joined the halves along the width: that makes a wider map, not more channels",
            (n, c, 2 * h, w): "you joined the halves along the height: that makes a taller map, not more channels",
            (n, c, h, w): "that is one half's number of channels: adding or averaging the halves mixes their channels",
            (n, 2, c, h, w): "you stacked the halves on a new axis: F(X) is a map with the channels of both halves",
            (2, n, c, h, w): "you stacked the halves on a new axis: F(X) is a map with the channels of both halves",
        }
        return shapes.get(tuple(answer().shape), "F(X) keeps the N images and the H x W of the maps, with the "
                                                 "channels of both halves")

    def value_hint() -> str:
        got = answer().to(want.dtype)
        if torch.equal(got, torch.cat([second, first], 1)):
            return "the halves are in the wrong order: F(X) = {F1(X1), F2(X2)} puts the first half's channels first"
        if torch.equal(got, torch.stack([first, second], 2).flatten(1, 2)):
            return ("the channels of the two halves are interleaved (one of each, in turn): F(X) keeps each half's "
                    "channels together, one block after the other")
        return ("the shape is right but not the values: F(X) is every channel of the first half, unchanged, then "
                "every channel of the second")

    checks.verdict("split-brain features", [
        checks.returns(answer, f"the checker gives it two feature maps of the same {n} images, each {n} x {c} x {h} x "
                               f"{w} (N x C x H x W)"),
        (lambda: isinstance(answer(), torch.Tensor),
         lambda: f"you returned a {type(answer()).__name__}: return F(X) as one tensor, one feature map"),
        checks.has_shape(answer, want.shape, shape_advice),
        (lambda: torch.equal(answer().to(want.dtype), want), value_hint),
    ])


# --- the main exercise: the split-brain loss, checked, then at work ----------------------------------------------

# (images, side, width of L -> ab, width of ab -> L, seed): several sizes and seeds, the halves of different widths
LOSS_CASES = ((3, 16, 4, 4, 0), (5, 8, 4, 2, 1), (4, 12, 2, 4, 2))
HALVES = ("L → ab", "ab → L")


def _halves(case: tuple, q: int) -> tuple[col.Colorizer, col.Colorizer]:
    """A case's two fresh halves, in training mode: L -> ab (reads 1 channel, Q scores), ab -> L (2, L_BINS)."""
    _, side, width_l, width_ab, seed = case
    with config.isolated_rng(seed):
        return (col.Colorizer(nets.Backbone(1, width_l), q, side).train(),
                col.Colorizer(nets.Backbone(2, width_ab), sb.L_BINS, side).train())


def _gradient(half: torch.nn.Module) -> torch.Tensor | None:
    """All the gradients that reached a half's weights, as one vector; None if none did."""
    weights = list(half.parameters())
    if all(w.grad is None for w in weights):
        return None
    return torch.cat([(w.grad if w.grad is not None else torch.zeros_like(w)).flatten() for w in weights])


def _run(loss, case: tuple, centres: torch.Tensor):
    """``loss(l_to_ab, ab_to_l, lab, centres)`` on a case's fresh halves and random Lab images: (what it returned,
    the gradient of each half's weights after a backward pass through it, None where none reached)."""
    n, side, *_, seed = case
    with config.isolated_rng(seed):
        lab = sb.scaled_lab(torch.rand(n, 3, side, side))
    halves = _halves(case, len(centres))
    value = loss(*halves, lab.clone(), centres)
    if isinstance(value, torch.Tensor) and value.requires_grad and value.numel() == 1:
        value.backward()
    return value, tuple(_gradient(half) for half in halves)


def _close(got: torch.Tensor | None, want: torch.Tensor, tolerance: float = 1e-4) -> bool:
    return got is not None and float((got - want).norm()) <= tolerance * max(float(want.norm()), 1e-12)


def _pooled(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, col.OUTPUT_STRIDE)


def _sampled(x: torch.Tensor) -> torch.Tensor:
    """One pixel of each output block instead of its average (a wrong target)."""
    return x[:, :, ::col.OUTPUT_STRIDE, ::col.OUTPUT_STRIDE]


def _l_bins(lab: torch.Tensor, pool=_pooled) -> torch.Tensor:
    return sb.lightness_bins((pool(lab[:, :1])[:, 0] + 1.0) * col.L_SCALE)


def _ab_term(reads, target) -> Callable:
    """One wrong L -> ab term: ``reads(lab)`` its input, ``target(scores, lab, centres)`` its loss."""
    return lambda l_to_ab, ab_to_l, lab, centres: target(l_to_ab(reads(lab)), lab, centres)


def _l_term(reads, target) -> Callable:
    """One wrong ab -> L term: ``reads(lab)`` its input, ``target(scores, lab)`` its loss."""
    return lambda l_to_ab, ab_to_l, lab, centres: target(ab_to_l(reads(lab)), lab)


def _soft(scores, lab, centres, pool=_pooled, scale=col.AB_SCALE):
    return col.soft_cross_entropy(scores, pool(lab[:, 1:]) * scale, centres)[0]


def _l_mistakes() -> list[tuple[str, Callable]]:
    """The L -> ab half's usual mistakes, each with the words that name it (never the answer)."""
    lightness = lambda lab: lab[:, :1]  # noqa: E731
    reads_colour = "the L → ab half reads a colour channel: it reads the lightness and predicts the colour"
    coarse = "an output pixel stands for the whole block of input pixels under it"
    return [
        (reads_colour, _ab_term(lambda lab: lab[:, 1:2], _soft)),
        (reads_colour, _ab_term(lambda lab: lab[:, 2:3], _soft)),
        ("the L → ab half is asked for the lightness it reads: each half predicts the channels it does not see",
         _ab_term(lightness, lambda s, lab, c: F.cross_entropy(s, _l_bins(lab)))),
        ("the colour targets are in the network's scale (about -1 to 1): the ab bins are in Lab units",
         _ab_term(lightness, lambda s, lab, c: _soft(s, lab, c, scale=1.0))),
        (f"the colour targets take one pixel of each block at the output side: {coarse}",
         _ab_term(lightness, lambda s, lab, c: _soft(s, lab, c, pool=_sampled))),
        ("the colour targets are hard labels (one bin per pixel): the course soft-encodes each colour over its "
         "nearest bins, as in notebook 06",
         _ab_term(lightness, lambda s, lab, c: F.cross_entropy(s, col.nearest_bin(_pooled(lab[:, 1:]) * col.AB_SCALE,
                                                                                    c)))),
    ]


def _ab_mistakes() -> list[tuple[str, Callable]]:
    """The ab -> L half's usual mistakes, each with the words that name it (never the answer)."""
    colour = lambda lab: lab[:, 1:]  # noqa: E731
    coarse = "an output pixel stands for the whole block of input pixels under it"

    def rounded(lab):  # the nearest bin instead of the one whose range holds the value
        lightness = (_pooled(lab[:, :1])[:, 0] + 1.0) * col.L_SCALE
        return (lightness / (100 / sb.L_BINS)).round().long().clamp(0, sb.L_BINS - 1)

    return [
        ("the ab → L half reads the lightness too: it reads only the colour, and predicts the lightness",
         _l_term(lambda lab: lab[:, :2], lambda s, lab: F.cross_entropy(s, _l_bins(lab)))),
        ("the lightness targets are binned in the network's scale (about -1 to 1): the L bins cover L from 0 to 100",
         _l_term(colour, lambda s, lab: F.cross_entropy(s, sb.lightness_bins(_pooled(lab[:, :1])[:, 0])))),
        ("the lightness is rounded to the nearest bin: a bin holds the values from its lower edge up to the next",
         _l_term(colour, lambda s, lab: F.cross_entropy(s, rounded(lab)))),
        (f"the lightness targets take one pixel of each block at the output side: {coarse}",
         _l_term(colour, lambda s, lab: F.cross_entropy(s, _l_bins(lab, pool=_sampled)))),
    ]


def _diagnosis(got: tuple, want: tuple, case: tuple, centres: torch.Tensor) -> str:
    """What is wrong, read from the gradients that reached each half (a half's gradient comes from its own term
    only): a multiple of the course's loss, or one of the usual mistakes of that half's term."""
    wrong = [k for k in range(2) if not _close(got[k], want[k])]
    if not wrong:
        return "each half gets the course's gradients, but the value is off: a term that depends on neither half?"
    ratios = {k: float(got[k] @ want[k] / (want[k] @ want[k])) for k in wrong}
    if all(_close(got[k], ratios[k] * want[k]) for k in wrong):
        if len(wrong) == 2 and all(abs(r - 0.5) < 1e-3 for r in ratios.values()):
            return ("you averaged the two halves' losses: each half is trained by the whole of its own loss, so the "
                    "two add up")
        k = wrong[0]
        return (f"the {HALVES[k]} half's loss is {ratios[k]:.3g} times the course's: averaged or summed over the "
                "wrong things? The course averages each half's loss over all its output pixels")
    for k in wrong:
        for words, mistake in (_l_mistakes, _ab_mistakes)[k]():
            if _close(got[k], _run(mistake, case, centres)[1][k]):
                return words
    return (f"the {HALVES[wrong[0]]} half's loss is not the course's: compare what it reads, what it predicts and how "
            "its targets are made with the text above (the hint below helps)")


def check_split_brain_loss(fn) -> None:
    """Exercise: ``fn(l_to_ab, ab_to_l, lab, centres)`` = the split-brain (cl, cl) loss of both halves, compared with
    ``sb.split_brain_loss`` on fresh random halves and random Lab images of three sizes and seeds (``LOSS_CASES``,
    the halves of different widths in two): its value, and the gradients that reach each half's weights. The hints
    name the usual mistakes: one direction only, a half reading the other half's channels or predicting its own,
    targets not quantised the course's way, the halves averaged, detached values."""
    centres = col.ab_gamut()
    want = [_run(sb.split_brain_loss, case, centres) for case in LOSS_CASES]
    answers = [checks.answer(_run, fn, case, centres) for case in LOSS_CASES]

    def value(i: int):
        return answers[i]()[0]

    def grads(i: int):
        return answers[i]()[1]

    def call(i: int) -> str:
        n, side = LOSS_CASES[i][:2]
        return (f"the checker calls it with l_to_ab (reads 1 channel: the lightness), ab_to_l (reads 2: the colour), "
                f"lab ({n} x 3 x {side} x {side}, scaled Lab) and centres (the {len(centres)} ab bins): an error about "
                "channels means a half got channels it does not read (the wrong slice, or the wrong axis); one about "
                "sizes or targets, targets not at the side of the predictions, or not bin numbers of that half")

    def value_hint() -> str:
        i = next(i for i in range(len(LOSS_CASES)) if not _value_close(value(i), want[i][0]))
        n, side = LOSS_CASES[i][:2]
        numbers = (f"for {n} Lab images of {side} x {side} the split-brain loss is {_number(want[i][0]):.4f}, you "
                   f"gave {_number(value(i)):.4f}: ")
        if i > 0 and all(_close(g, w) for g, w in zip(grads(0), want[0][1], strict=True)):
            return numbers + "right on the first case but not on this one: a size or a number written into it?"
        return numbers + _diagnosis(grads(i), want[i][1], LOSS_CASES[i], centres)

    one_number = "the split-brain loss is one number for the batch, both halves' losses together"
    checks.verdict("split-brain loss", [
        checks.returns(answers[0], call(0)),
        checks.has_shape(lambda: value(0), (), one_number),
        *(test for i in (1, 2) for test in (
            checks.returns(answers[i], f"it ran on the first case but not on another, {call(i)}"),
            checks.has_shape(lambda i=i: value(i), (), one_number))),
        (lambda: all(isinstance(value(i), torch.Tensor) and value(i).requires_grad for i in range(len(LOSS_CASES))),
         "your loss carries no gradient: keep it a torch tensor computed from the halves' predictions (no .item(), "
         "NumPy or torch.no_grad()); training back-propagates through it"),
        *((lambda k=k: all(grads(i)[k] is not None and bool(grads(i)[k].any()) for i in range(len(LOSS_CASES))),
           f"the {half} half gets no gradient from your loss: only one direction is trained (or that half's "
           "prediction was detached); a split-brain autoencoder trains both halves")
          for k, half in enumerate(HALVES)),
        (lambda: all(_value_close(value(i), want[i][0]) for i in range(len(LOSS_CASES))), value_hint),
        (lambda: all(_close(g, w) for i in range(len(LOSS_CASES)) for g, w in zip(grads(i), want[i][1], strict=True)),
         "the value is right but the gradients are not: part of the loss is computed from detached values "
         "(.detach(), .data), so training would follow another loss"),
    ])


def _number(value) -> float:
    return float(torch.as_tensor(value).detach())


def _value_close(got, want: torch.Tensor) -> bool:
    return abs(_number(got) - _number(want)) <= 1e-4 * max(1.0, abs(_number(want)))


# Steps of the short run a student's own split-brain loss trains (after the exercise): enough for both halves to leave
# their chance levels behind, short enough to rerun after every edit.
YOUR_RUN_STEPS = {"ci": 30, "lab": 120, "full": 300}


def train_with_your_loss(loss: Callable, lab: torch.Tensor, centres: torch.Tensor, sizes: Sizes,
                         seed: int = 0) -> train.History:
    """Two fresh half-width halves, L -> ab and ab -> L (cl), trained at once for ``YOUR_RUN_STEPS`` steps by
    ``loss(l_to_ab, ab_to_l, lab, centres)`` (a student's split-brain loss, or the course's) through
    ``sb.split_brain_step``; the history logs each half's own accuracy. Never saved: it shows a loss at work, it is not
    one of the table's rows."""
    width, side = sizes.network_width // 2, lab.shape[-1]
    backbones = [nets.random_backbone(channels, width, seed, lab.device) for channels in (1, 2)]
    with config.isolated_rng(seed):  # the heads' initial weights: the same for the same seed
        halves = nn.ModuleList([col.Colorizer(backbones[0], len(centres), side),
                                col.Colorizer(backbones[1], sb.L_BINS, side)])
    halves = halves.to(lab.device).to(memory_format=torch.channels_last)
    steps = YOUR_RUN_STEPS[sizes.name]
    step = functools.partial(sb.split_brain_step, centres=centres, loss=loss)
    return train.fit(halves, train.batches(lab, batch_size=sizes.batch_size, seed=seed), step, steps=steps,
                     max_seconds=sizes.seconds, log_every=max(1, steps // 10), desc="your split-brain loss")


@torch.no_grad()
def commonest_bin(lab: torch.Tensor, centres: torch.Tensor, images: int = 1000) -> dict[str, float]:
    """How often each half would be right by always answering the commonest bin of the training images (greyish
    colours, a middle lightness): what a half gets from the frequencies of the bins alone, without looking."""
    pooled = F.avg_pool2d(lab[:images], col.OUTPUT_STRIDE)
    bins = {"acc_ab": col.nearest_bin(pooled[:, 1:] * col.AB_SCALE, centres),
            "acc_l": sb.lightness_bins((pooled[:, 0] + 1.0) * col.L_SCALE)}
    return {key: float(torch.bincount(b.flatten()).max()) / b.numel() for key, b in bins.items()}


def show_your_run(history: train.History, lab: torch.Tensor, centres: torch.Tensor):
    """Each half's accuracy in the short run against its chance level (1 / Q ab bins, 1 / L_BINS lightness bins),
    and beside it what always answering the commonest bin would get: one line, and one panel per half."""
    chance = {"acc_ab": 1 / len(centres), "acc_l": 1 / sb.L_BINS}
    commonest = commonest_bin(lab, centres)
    said = {"acc_ab": "L → ab: the colour's bin", "acc_l": "ab → L: the lightness's bin"}
    print(f"after {history.step[-1]} steps: " + "; ".join(
        f"{said[key]} {history.last(key):.1%} of output pixels (chance {chance[key]:.1%}, always the commonest bin "
        f"{commonest[key]:.1%})" for key in chance))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for ax, key in zip(axes, chance, strict=True):
        ax.plot(history.step, history[key], marker="o", markersize=3, label="this run")
        ax.axhline(chance[key], color="grey", linestyle="--", label=f"chance ({chance[key]:.1%})")
        ax.axhline(commonest[key], color="grey", linestyle=":",
                   label=f"always the commonest bin ({commonest[key]:.1%})")
        ax.set(xlabel="step", ylabel="right bin (pretext accuracy)", title=said[key], ylim=(0, None))
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return show.finish(fig)
