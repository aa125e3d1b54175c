"""Notebook 07's sizes and networks: the rows of its table, how each is trained (the same steps for all, each
from its own seeded weights) and the feature extractors the probes read."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from course_lib import config, nets, pretrained, train
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


def capped(histories: dict[str, train.History]) -> list[str]:
    """The networks whose training stopped at its time budget (recorded, and named beside a claim)."""
    return [name for name, history in histories.items() if history.capped]
