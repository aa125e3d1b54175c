"""How each row of the board pretrains: by the recipe of the notebook that teaches it, called, at the board's sizes.

Every entry: (split, sizes, seed, desc) -> (feature extractor, training history or None). A pretext row calls the
function its own notebook trains with -- 02 ``pretrain_relative_position``, 04 ``train_recipe``, 05 ``pretrain``, 06
``train_colorizer``, 07 ``train_network``, 08 ``train_classes_from_sound`` and ``train_avc``, 11 ``train_infonce``
-- so its model, head, loss, corruption, pairs, bins and clusters are written once, in that lesson. The board
changes two things only: the sizes (``own_sizes``: the lesson's sizes of the profile, with the board's width, batch
size, steps of the dataset and time cap, the same for every row of a dataset) and the run's name
(``12_scoreboard/<desc>``); the supervised fence alone takes up to ``fence_steps`` and stops on the validation split.
Every run starts from
``nets.random_backbone(channels, width, seed)``, the random-init row's weights (the split-brain halves from
half-width ones, as in 07).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch
from torch import nn

from course_lib import augment, config, nets, train
from course_lib.data import ImageData
from course_lib.lessons import autoencoders as ae04
from course_lib.lessons import colorization as col06
from course_lib.lessons import multimodal_embeddings as mm11
from course_lib.lessons import relative_position as rp02
from course_lib.lessons import sound_supervision as ss08
from course_lib.lessons import split_brain as sb07
from course_lib.lessons import transformations as tf05
from course_lib.lessons.scoreboard.datasets import NOTEBOOK, Sizes, Split
from course_lib.pretext import colorization as col
from course_lib.pretext import split_brain as sb
from course_lib.pretext import transformations as tf


def own_sizes(lesson_sizes: dict[str, config.Profile], sizes: Sizes, **board) -> config.Profile:
    """A lesson's sizes of this profile (``lesson_sizes``: its ``SIZES``) at the board's: the board's ``width`` and
    ``batch_size``, and ``board``, the board's steps and time cap under the lesson's own names of them (e.g.
    ``steps=..., max_seconds=...``). Everything else stays the lesson's."""
    return dataclasses.replace(lesson_sizes[sizes.name], width=sizes.width, batch_size=sizes.batch_size, **board)


class Reads(nn.Module):
    """A network that prepares its input first (RGB -> lightness for colorization, RGB -> scaled Lab for
    split-brain), so that every row of a table reads the same images. Has ``features`` and ``channels`` like
    ``nets.Backbone`` (what ``evaluate.stage_features`` uses)."""

    def __init__(self, net: nn.Module, prepare: Callable[[torch.Tensor], torch.Tensor]):
        super().__init__()
        self.net, self.prepare = net, prepare
        self.channels = dict(net.channels)

    def features(self, x: torch.Tensor, stages=nets.STAGES) -> dict[str, torch.Tensor]:
        return self.net.features(self.prepare(x), stages)

    def forward(self, x: torch.Tensor, stage: str = "conv5") -> torch.Tensor:
        return self.net(self.prepare(x), stage)


# --- the fences ----------------------------------------------------------------------------------------------------

def random_init(split: Split, sizes: Sizes, seed: int, desc: str):
    """The lower fence: the initial weights of every run, trained by nothing."""
    return nets.random_backbone(split.x.shape[1], sizes.width, seed, split.x.device).eval(), None


def random_lightness(split: Split, sizes: Sizes, seed: int, desc: str):
    """The fence beside colorization: a random network that reads what colorization reads, the lightness
    (06's ``lightness_input``), trained by nothing."""
    net = nets.random_backbone(1, sizes.width, seed, split.x.device).eval()
    return Reads(net, col06.lightness_input), None


def supervised(split: Split, sizes: Sizes, seed: int, desc: str):
    """The upper fence: classify every pretraining image with its label (cross-entropy), with augmentation: notebook
    02's supervised pretraining (``pretrain_supervised``), with its crop + flip on photos and, on digits, notebook
    05's contrastive views (``digit_view``) instead. A fence is only worth its name at its best: it may take
    ``sizes.fence_steps`` steps and stops at its validation optimum (``stop_on``: the split's validation images)."""
    own = own_sizes(rp02.SIZES, sizes, supervised_steps=sizes.fence_steps, pretrain_seconds=sizes.seconds)
    images, validation = (ImageData(x, y, split.classes) for x, y in ((split.x, split.y), (split.val_x, split.val_y)))
    augmentation = tf.digit_view if split.dataset == "mnist" else augment.random_crop_flip
    return rp02.pretrain_supervised(images, own, seed, notebook=NOTEBOOK, desc=desc, augmentation=augmentation,
                                    stop_on=validation)


# --- the pretext rows, each by its notebook's recipe ------------------------------------------------------------------

MASKED = next(r for r in ae04.RECIPES if r.masked and not r.moved)  # 04's denoising autoencoder: masked pixels


def denoising_autoencoder(split: Split, sizes: Sizes, seed: int, desc: str):
    """Notebook 04's masked-pixels recipe (``train_recipe``): reconstruct every image from a copy with 04's
    ``NOISE`` of its pixels zeroed (Vincent et al. 2008)."""
    own = own_sizes(ae04.SIZES, sizes, batch=sizes.batch_size, steps=sizes.steps(split.dataset),
                    max_seconds=sizes.seconds)
    model, history = ae04.train_recipe(MASKED, split.x, own, seed, notebook=NOTEBOOK, desc=desc)
    return model.backbone.eval(), history


def _transforming(method: str, split: Split, sizes: Sizes, seed: int, desc: str):
    """Notebook 05's ``pretrain(method)``: its head, pairs and loss."""
    own = own_sizes(tf05.SIZES, sizes, steps=sizes.steps(split.dataset), max_seconds=sizes.seconds)
    return tf05.pretrain(method, split.x, own, seed, notebook=NOTEBOOK, desc=desc)


def egomotion(split: Split, sizes: Sizes, seed: int, desc: str):
    """Notebook 05: predict the translation and rotation between two views (Agrawal et al. 2015)."""
    return _transforming("egomotion", split, sizes, seed, desc)


def contrastive(split: Split, sizes: Sizes, seed: int, desc: str):
    """Notebook 05: pick out the other view of the same digit in the batch (SimCLR's NT-Xent, Chen et al. 2020)."""
    return _transforming("contrastive", split, sizes, seed, desc)


def _videos(split: Split, seed: int) -> ss08.SoundsAndImages:
    """08's videos of the board's digits: every digit paired once with a recording of its digit from FSDD's
    training takes (08's ``videos_of``: the simulator reads the labels once, to make the videos; the learner never
    does)."""
    return ss08.videos_of(split.x, split.y, split.test_x, split.test_y, "take", split.x.device, seed)


def _with_sound(lesson_sizes: dict[str, config.Profile], split: Split, sizes: Sizes, steps: str) -> config.Profile:
    """08's or 11's sizes at the board's: both towers of the board's width, a step of as many videos as a batch, and
    the board's steps under the lesson's name of them (``steps``)."""
    return own_sizes(lesson_sizes, sizes, tower_width=sizes.width, pairs_per_step=sizes.batch_size,
                     seconds=sizes.seconds, **{steps: sizes.steps(split.dataset)})


def classes_from_sound(split: Split, sizes: Sizes, seed: int, desc: str):
    """Notebook 08's classes from sound (Owens et al. 2016; ``train_classes_from_sound``) on the board's digits:
    k-means clusters the recordings' statistics into 08's ``OWENS_K`` clusters, no label read; the image tower
    predicts the cluster of its own video's sound."""
    d = _videos(split, seed)
    own = _with_sound(ss08.SIZES, split, sizes, "owens_steps")
    model, history, _ = ss08.train_classes_from_sound(d.images, d.soundtrack, d.sounds, own, seed,
                                                      notebook=NOTEBOOK, desc=desc)
    return model.backbone.eval(), history


def correspondence(split: Split, sizes: Sizes, seed: int, desc: str):
    """Notebook 08's audio-visual correspondence with concatenation (L3-Net, Arandjelović & Zisserman 2017;
    ``train_avc``) on the board's digits: does this sound belong to this frame, or to another video? The image
    tower is the row."""
    own = _with_sound(ss08.SIZES, split, sizes, "steps")
    model, history = ss08.train_avc(ss08.FUSIONS[0], _videos(split, seed), own, seed, notebook=NOTEBOOK, desc=desc)
    return model.image_tower.eval(), history


def infonce(split: Split, sizes: Sizes, seed: int, desc: str):
    """Notebook 11's two towers with the symmetric InfoNCE (CLIP's loss; ``train_infonce``) on the board's digits:
    pick out each frame's own sound among the batch's. The image tower is the row."""
    own = _with_sound(mm11.SIZES, split, sizes, "steps")
    model, history = mm11.train_infonce(_videos(split, seed), own, seed, notebook=NOTEBOOK, desc=desc)
    return model.image_tower.eval(), history


def relative_position(split: Split, sizes: Sizes, seed: int, desc: str):
    """Notebook 02's relative position (Doersch et al. 2015; ``pretrain_relative_position``) as 02 pretrains its
    row: which of the 8 neighbours is the second patch, 02's grid, all colours (no colour dropping)."""
    own = own_sizes(rp02.SIZES, sizes, pretext_steps=sizes.steps(split.dataset), pretrain_seconds=sizes.seconds)
    model, history = rp02.pretrain_relative_position(split.x, own, seed, colour_dropping=False, desc=desc,
                                                     notebook=NOTEBOOK)
    return model.backbone.eval(), history


def colorization(split: Split, sizes: Sizes, seed: int, desc: str):
    """Notebook 06's full method (Zhang et al. 2016; ``train_colorizer``, classification + rebalancing): L -> ab as
    classification over the ab bins, rebalanced, the bins and weights fitted to these images' colours
    (``ColourSpace.fit``). Reads lightness, as 06's probe does (``lightness_input``)."""
    space = col06.ColourSpace.fit(split.x)
    own = own_sizes(col06.SIZES, sizes, steps=sizes.steps(split.dataset), seconds=sizes.seconds)
    model, history = col06.train_colorizer(col06.METHODS[-1], split.x, space, own, seed, notebook=NOTEBOOK, desc=desc)
    return Reads(model.backbone.eval(), col06.lightness_input), history


HALVES = ("L→ab (cl), half", "ab→L (cl), half")  # 07's networks that make its split-brain (cl,cl) row


def split_brain(split: Split, sizes: Sizes, seed: int, desc: str):
    """Notebook 07's split-brain (cl,cl) (Zhang et al. 2017): its two half-width halves, L -> ab and ab -> L, each a
    classification, trained by 07's ``train_network`` on scaled Lab with the ab bins of the sRGB gamut (07's), and
    concatenated: at every layer as many channels as the other rows. Each half trains the board's steps."""
    own = own_sizes(sb07.SIZES, sizes, network_width=sizes.width, steps=sizes.steps(split.dataset),
                    seconds=sizes.seconds)
    lab, centres = sb.scaled_lab(split.x), col.ab_gamut().to(split.x.device)
    halves, histories = [], []
    for name in HALVES:
        network = sb07.NETWORKS[name]
        backbone, history = sb07.train_network(network, lab, split.y, centres, own, seed, f"{desc}, {network.task}",
                                               notebook=NOTEBOOK)
        halves.append(backbone)
        histories.append(history)
    return Reads(sb.SplitBrain(*halves), sb.scaled_lab), together(histories)


def together(histories: list[train.History]) -> train.History:
    """One history for a row trained in parts: the loss summed over the parts, step by step, and the capped part's
    ending if one stopped at its time cap."""
    first = histories[0]
    losses = zip(*(h["loss"] for h in histories), strict=False)  # as long as the shortest part
    joined = train.History(stopped_by=next((h.stopped_by for h in histories if h.capped), first.stopped_by))
    for step, seconds, parts in zip(first.step, first.seconds, losses, strict=False):
        joined.log(step, seconds, {"loss": sum(parts)})
    return joined
