"""Split-brain autoencoders (notebook 07): cross-channel networks on CIFAR-10, probed layer by layer.

The method -- the two halves, their losses, the concatenation -- is ``course_lib.pretext.split_brain`` (Zhang,
Isola & Efros, CVPR 2017). This module runs the notebook's experiment:

* ``NETWORKS``      every network trained, by row name: the half-width halves L -> ab and ab -> L with each loss,
                    the same two tasks at full width, a Lab -> Lab autoencoder and a supervised network;
* ``train_all``     trains them all from unlabelled Lab images (the supervised one from labels), each from
                    its own seeded initial weights, for the same number of steps;
* ``backbones``     the rows of the table, as feature extractors that all read scaled Lab: random init, the
                    halves, the split-brain concatenations (two halves trained independently, side by side, as in
                    the paper), the full-width single-task networks, the autoencoder, supervised;
* ``probe_rows``    the layer-wise linear probe of every row (conv1 ... conv5 pooled to equal size,
                    ``evaluate.probe_layers``): several labelled draws, each row's best layer chosen on a validation
                    split; ``evaluate.layer_table`` prints it, ``plot_layers`` draws it beside the paper's rows as on
                    the slide, ``head_to_head`` says layer by layer which of two rows wins, or that the gap is inside
                    the spread of the draws;
* ``ORDERINGS``     every ordering the notebook states, on its recorded metrics, for its table over pretraining
                    seeds (``course_lib.seeds``).

``SIZES`` holds the notebook's sizes for ``ci``, ``lab`` and ``full``.

Random-init convolutional features are a strong baseline at this scale; the table shows where the methods beat it.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from course_lib import checks, config, evaluate, nets, papers, pretrained, seeds, show, train
from course_lib.pretext import colorization as col
from course_lib.pretext import split_brain as sb

NOTEBOOK = "07_split_brain"  # its runs' shipped weights are named after it

RANDOM = "random init"
PROBE_DIM = 512  # every layer average-pooled to at most this many numbers: 45 probes x 3 draws must fit the budget


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


NETWORKS = {
    "L→ab (cl), half": Network("l_ab", "cl", half=True),
    "ab→L (cl), half": Network("ab_l", "cl", half=True),
    "L→ab (reg), half": Network("l_ab", "reg", half=True),
    "ab→L (reg), half": Network("ab_l", "reg", half=True),
    "L→ab (cl), full width": Network("l_ab", "cl", half=False),
    "ab→L (cl), full width": Network("ab_l", "cl", half=False),
    "Lab→Lab autoencoder": Network("lab_lab", "reg", half=False),
    "supervised (labels)": Network("labels", "cl", half=False),
}
# the rows of the table, in order, and their names in recorded metrics (probe_<key>_<layer>)
KEYS = {RANDOM: "random", "L→ab (cl), half": "l_ab", "ab→L (cl), half": "ab_l",
        "split-brain (cl,cl)": "split_brain_cl", "split-brain (reg,reg)": "split_brain_reg",
        "L→ab (cl), full width": "l_ab_full", "ab→L (cl), full width": "ab_l_full",
        "Lab→Lab autoencoder": "autoencoder", "supervised (labels)": "supervised"}
# the slide's rows of the paper's tables (papers.SPLIT_BRAIN_TABLES) that the notebook discusses: {slide row: ours}.
# "Ensembled L→ab" (two L→ab networks side by side) is the paper's width control, like our full-width L→ab.
PAPER_ROWS = {"ImageNet-labels [26]": "supervised (labels)", "Gaussian": RANDOM, "Lab→Lab": "Lab→Lab autoencoder",
              "L→ab(cl)": "L→ab (cl), half", "ab→L(cl)": "ab→L (cl), half", "Ensembled L→ab": "L→ab (cl), full width",
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
    runs = {name: train_network(network, lab, labels, centres, sizes, seed, name, progress)
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
    return {name: rows[name] for name in KEYS}


def probe_rows(rows: dict, labelled, validation, test, *, per_class: int | None = None, draws: int = 1,
               seed: int = 0) -> dict[str, evaluate.LayerScores]:
    """The layer-wise probe of every row: {name: ``evaluate.LayerScores``} at conv1 ... conv5, each layer pooled to
    ``PROBE_DIM`` numbers (``feature_sizes`` shows what the probes see). ``draws`` probes of ``per_class`` labelled
    images per class, drawn from ``labelled``; ``validation`` chooses each row's best layer; ``test`` grades. The
    fitted probes are runs named "layer-wise probe: <row>" (shipped weights with COURSE_PRETRAINED=1)."""
    with pretrained.Runs(NOTEBOOK, "layer-wise probes", per_class=per_class, draws=draws, seed=seed) as runs:
        return {name: evaluate.probe_network(extractor, labelled, validation, test, target_dim=PROBE_DIM,
                                             per_class=per_class, draws=draws, seed=seed,
                                             desc=f"layer-wise probe: {name}", trained=runs)
                for name, extractor in rows.items()}


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
        style = "--" if name in (RANDOM, "supervised (labels)") else ":" if "full width" in name else "-"
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
    and probe_<method>_best_std: the test accuracy at the layer chosen on validation, and its std over the draws."""
    out = {}
    for name, s in scores.items():
        out.update({f"probe_{KEYS[name]}_{stage}": float(s.test[stage]) for stage in nets.STAGES})
        out[f"probe_{KEYS[name]}_best"] = float(s.best)
        out[f"probe_{KEYS[name]}_best_std"] = s.best.std
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
    *(_beats(f"split-brain (cl,cl) beats L→ab (cl), full width at {stage}", "split_brain_cl", "l_ab_full", stage)
      for stage in nets.STAGES),
    *(_beats(f"split-brain (cl,cl) beats its halves, ab→L full width, the autoencoder and (reg,reg) at {stage}",
             "split_brain_cl", _CONTROLS, stage) for stage in nets.STAGES),
    _beats("split-brain (cl,cl) beats random init at their best layers", "split_brain_cl", "random"),
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
