"""The registry: one row per (method, dataset), the notebook that teaches it, how it pretrains (``recipes``), and
what the board leaves out, with why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from torch import nn

from course_lib import config, train
from course_lib.lessons import autoencoders as ae04
from course_lib.lessons.scoreboard.datasets import (
    DATASETS,
    FENCES,
    RANDOM,
    RANDOM_LIGHTNESS,
    SUPERVISED,
    Sizes,
    Split,
)
from course_lib.lessons.scoreboard.recipes import (
    classes_from_sound,
    colorization,
    contrastive,
    correspondence,
    denoising_autoencoder,
    egomotion,
    infonce,
    random_init,
    random_lightness,
    relative_position,
    split_brain,
    supervised,
)


@dataclass(frozen=True)
class Method:
    """One row of the scoreboard: its name, the dataset it pretrains on, the notebook that teaches it, its key in
    the recorded metrics, how it pretrains (``pretrain(split, sizes, seed, desc)``) and what it is asked to predict."""

    name: str
    dataset: str
    notebook: str
    key: str
    pretrain: Callable
    predicts: str
    labels: str = "none"  # the labels its pretraining used, if any (shown beside its numbers)

    @property
    def fence(self) -> bool:
        return self.name in FENCES


# the rows that learn from the digits' soundtracks: the simulator read the digit labels once, to give each image a
# recording of its digit, so the labels reach these rows through the videos (the learner never reads them)
THROUGH_THE_SIMULATOR = "the digit labels, through the simulator: it gave each image a recording of its digit"

METHODS = (
    Method(RANDOM, "mnist", "-", "random", random_init, "nothing: the initial weights, frozen"),
    Method("denoising autoencoder", "mnist", "04", "autoencoder", denoising_autoencoder,
           f"the whole image, from a copy with {ae04.NOISE:.0%} of its pixels zeroed"),
    Method("egomotion", "mnist", "05", "egomotion", egomotion,
           "the shift and rotation between two views of a digit"),
    Method("contrastive (SimCLR)", "mnist", "05", "contrastive", contrastive,
           "which view in the batch comes from the same digit"),
    Method("classes from sound", "mnist", "08", "sound_classes", classes_from_sound,
           "the k-means cluster of the digit's soundtrack (a spoken digit)", THROUGH_THE_SIMULATOR),
    Method("audio-visual correspondence (L3-Net)", "mnist", "08", "avc", correspondence,
           "whether a sound is the digit's own soundtrack or another video's", THROUGH_THE_SIMULATOR),
    Method("image-sound InfoNCE (CLIP)", "mnist", "11", "infonce", infonce,
           "which of the batch's sounds is the digit's own soundtrack", THROUGH_THE_SIMULATOR),
    Method(SUPERVISED, "mnist", "-", "supervised", supervised, "the label of every pretraining image",
           "every pretraining label (a fence)"),
    Method(RANDOM, "cifar", "-", "random", random_init, "nothing: the initial weights, frozen"),
    Method("relative position", "cifar", "02", "relative_position", relative_position,
           "where the second patch lies relative to the first (8 ways)"),
    Method("denoising autoencoder", "cifar", "04", "autoencoder", denoising_autoencoder,
           f"the whole photo, from a copy with {ae04.NOISE:.0%} of its pixels zeroed"),
    Method("colorization", "cifar", "06", "colorization", colorization,
           "the colour (ab bins) from the lightness"),
    Method(RANDOM_LIGHTNESS, "cifar", "-", "random_lightness", random_lightness,
           "nothing: the initial weights of a network that reads the lightness only, as colorization does"),
    Method("split-brain (cl,cl)", "cifar", "07", "split_brain", split_brain,
           "colour from lightness and lightness from colour, two half-width halves"),
    Method(SUPERVISED, "cifar", "-", "supervised", supervised, "the label of every pretraining image",
           "every pretraining label (a fence)"),
)
# Taught in the course but not on the board, and why (the notebook says it too)
NOT_ON_THE_BOARD = {
    "temporal order (03)": "pretrains on videos of moving digits (48 x 48 frames, six actions), not on still images",
    "objects that sound (09)": "trains on canvases of two digits and an audio tower; localisation, not recognition",
    "speech to image (10)": "a generator (audio and identity encoders, a decoder), not a representation to probe",
}


def methods(dataset: str) -> list[Method]:
    return [m for m in METHODS if m.dataset == dataset]


def registry() -> pd.DataFrame:
    """The rows of both boards: the dataset, the notebook that teaches the method, what it is asked to predict."""
    return pd.DataFrame([{"dataset": DATASETS[m.dataset], "row": m.name, "notebook": m.notebook,
                          "asked to predict": m.predicts} for m in METHODS]).set_index(["dataset", "row"])


def not_on_the_board() -> pd.DataFrame:
    return pd.DataFrame({"why not here": NOT_ON_THE_BOARD})


def pretrain_all(split: Split, sizes: Sizes, seed: int = 0) -> tuple[dict[str, nn.Module], dict[str, train.History]]:
    """Every row of one dataset, pretrained on the same images: ({name: frozen extractor}, {name: history})."""
    extractors, histories = {}, {}
    for method in methods(split.dataset):
        with config.isolated_rng(seed):  # the pairs and augmentations drawn: the same stream for every row
            extractors[method.name], history = method.pretrain(split, sizes, seed, f"{split.dataset}: {method.name}")
        if history is not None:
            histories[method.name] = history
    return extractors, histories


def capped(histories: dict[str, train.History]) -> list[str]:
    """The runs that stopped at their time cap (recorded, and named beside a claim)."""
    return [name for name, history in histories.items() if history.capped]
