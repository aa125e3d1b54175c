"""Notebook 03's sizes, its clips, and the four initialisations (random, tuple verification, digit labels, action
labels of other motions)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch import nn

from course_lib import config, nets, pretrained, train
from course_lib.data import ImageData
from course_lib.data.moving_digits import ACTIONS, FRAMES, OTHER_MOTIONS, SHORTCUT, MovingDigits, make_moving_digits
from course_lib.lessons.temporal_order.transfer import frames_and_differences
from course_lib.pretext import temporal_order
from course_lib.pretext.temporal_order import TupleNet, frame_codes

NOTEBOOK = "03_temporal_order"  # its runs' shipped weights are named after it

TUPLE_LR = 5e-3  # AdamW's rate for tuple verification: with the default 2e-3 order was learned too slowly for a lab
LABELS_PER_ACTION = 20  # labelled clips per action for action recognition (drawn from a pool of twice as many)
VALIDATION_PER_ACTION = 30  # labelled clips per action that choose each row's layer (never its probe's training data)
RANDOM, TUPLES, DIGITS = "random", "tuple verification", "supervised on digit labels"
OTHERS = "supervised on other motions"  # action labels, of motions that are none of the six (the UCF-to-HMDB case)


@dataclass(frozen=True)
class Sizes(config.Profile):
    """Notebook 03's own sizes, beside the shared ones."""

    backbone_width: int  # width of the video backbone (16 frames of 48 x 48 per clip: 8 keeps it fast on a CPU)
    unlabelled_clips: int  # moving-digit clips tuple verification learns from (training-set digits)
    tuple_batch: int  # clips per step of tuple verification (16 tuples drawn from each clip)
    tuple_steps: int  # optimiser steps of tuple verification (the constant-velocity run gets as many)
    pretrain_seconds: float  # time cap of each pretraining run (tuples, digit labels, constant velocity)
    digit_steps: int  # optimiser steps of the supervised pretraining on digit labels (frames of the same clips)
    test_per_action: int  # test clips per action


SIZES = config.lesson_sizes(
    Sizes,
    ci=dict(backbone_width=8, unlabelled_clips=300, tuple_batch=16, tuple_steps=40, pretrain_seconds=20,
            digit_steps=40, test_per_action=20),
    lab=dict(backbone_width=8, unlabelled_clips=1000, tuple_batch=16, tuple_steps=150, pretrain_seconds=150,
             digit_steps=150, test_per_action=100),
    full=dict(backbone_width=16, unlabelled_clips=6000, tuple_batch=32, tuple_steps=3000, pretrain_seconds=400,
              digit_steps=1500, test_per_action=300),
)


# ---------------------------------------------------------------- the clips


def held_out_digits(sizes: Sizes) -> int:
    """How many test-set digits the labelled pool, the test clips and the validation clips show (one each)."""
    return len(ACTIONS) * (2 * LABELS_PER_ACTION + sizes.test_per_action + VALIDATION_PER_ACTION)


def make_splits(train_digits: ImageData, test_digits: ImageData, sizes: Sizes, seed: int = 0,
                device: torch.device | str = "cpu"):
    """(unlabelled, labelled, validation, test) clips of the six actions. Unlabelled clips show training-set digits;
    the labelled pool (twice ``LABELS_PER_ACTION`` per action, so which ones get labels depends on the seed), the
    test clips (``test_per_action`` per action) and the validation clips (``VALIDATION_PER_ACTION`` per action, which
    choose the layer each row is read at) show test-set digits (``held_out_digits`` of them), each its own, so no
    digit is seen both in pretraining and in test, nor in validation and in test."""
    n_pool, n_test = 2 * len(ACTIONS) * LABELS_PER_ACTION, len(ACTIONS) * sizes.test_per_action
    n_val = len(ACTIONS) * VALIDATION_PER_ACTION
    if len(test_digits.x) < n_pool + n_test + n_val:
        raise ValueError(f"the clips need {held_out_digits(sizes)} test-set digits (held_out_digits), "
                         f"got {len(test_digits.x)}")
    held_out = (test_digits.x, test_digits.y)
    unlabelled = make_moving_digits(train_digits.x, train_digits.y, sizes.unlabelled_clips, seed=seed)
    labelled = make_moving_digits(*(t[:n_pool] for t in held_out), n_pool, seed=seed + 1)
    test = make_moving_digits(*(t[n_pool:n_pool + n_test] for t in held_out), n_test, seed=seed + 2)
    validation = make_moving_digits(*(t[n_pool + n_test:] for t in held_out), n_val, seed=seed + 6)
    return unlabelled.to(device), labelled.to(device), validation.to(device), test.to(device)


def make_glide_splits(train_digits: ImageData, test_digits: ImageData, sizes: Sizes, seed: int = 0,
                      device: torch.device | str = "cpu"):
    """(unlabelled, test) clips of the same digits gliding at constant velocity: the shortcut's training data; its
    test clips show the digits of ``make_splits``' test clips."""
    glide = make_moving_digits(train_digits.x, train_digits.y, sizes.unlabelled_clips, motions=(SHORTCUT,),
                               seed=seed + 3)
    n_pool, n_test = 2 * len(ACTIONS) * LABELS_PER_ACTION, len(ACTIONS) * sizes.test_per_action
    test = make_moving_digits(test_digits.x[n_pool:n_pool + n_test], test_digits.y[n_pool:n_pool + n_test], n_test,
                              motions=(SHORTCUT,), seed=seed + 4)
    return glide.to(device), test.to(device)


def make_other_motion_clips(train_digits: ImageData, sizes: Sizes, seed: int = 0,
                            device: torch.device | str = "cpu") -> MovingDigits:
    """Labelled clips of the ``OTHER_MOTIONS`` (none of the six actions), made from the training digits the
    unlabelled clips show: the supervised control's training data."""
    clips = make_moving_digits(train_digits.x, train_digits.y, sizes.unlabelled_clips, motions=OTHER_MOTIONS,
                               seed=seed + 5)
    return clips.to(device)


# ---------------------------------------------------------------- the four initialisations


def initial_backbone(sizes: Sizes, seed: int, device: torch.device | str = "cpu") -> nets.Backbone:
    """The initial weights every pretraining starts from; frozen as they are, the random-init baseline.

    Stored channels-last: about 1.6 times faster on a CPU for these small convolutions (measured).
    """
    return nets.random_backbone(1, sizes.backbone_width, seed, device).to(memory_format=torch.channels_last)


def pretrain_tuples(clips: MovingDigits, sizes: Sizes, seed: int = 0, progress: bool = True,
                    min_gap: int = temporal_order.MIN_GAP, desc: str | None = None):
    """Temporal order verification on unlabelled ``clips`` (their device), negatives at least ``min_gap`` frames
    from the ends (tau_min); returns (backbone, TupleNet, history). The run is named ``desc`` (default:
    ``tuples_desc(clips)``, with tau_min when it is not the default), its progress label and its shipped weights'
    name."""
    desc = desc or tuples_desc(clips) + ("" if min_gap == temporal_order.MIN_GAP else f", tau_min {min_gap}")
    with config.isolated_rng(seed):  # the head's initialisation and the tuples drawn: alike for every run of a seed
        model = TupleNet(initial_backbone(sizes, seed, clips.videos.device)).to(clips.videos.device)
        loss = functools.partial(temporal_order.tuple_loss, min_gap=min_gap)
        history = pretrained.load_or_train(
            model, f"{NOTEBOOK}/{desc}",
            lambda: train.fit(model, train.batches(clips.videos, batch_size=sizes.tuple_batch, seed=seed), loss,
                              steps=sizes.tuple_steps, max_seconds=sizes.pretrain_seconds, lr=TUPLE_LR, desc=desc,
                              progress=progress),
            sizes=sizes, seed=seed, loss=loss, lr=TUPLE_LR, clips=clips.names)
    return model.backbone.eval(), model.eval(), history


def tuples_desc(clips: MovingDigits) -> str:
    """"tuple verification", or "tuple verification, constant velocity" on the shortcut's gliding clips: the two
    runs of the notebook need names of their own."""
    glide_only = set(clips.motion.tolist()) == {clips.names.index(SHORTCUT)}
    return "tuple verification, constant velocity" if glide_only else "tuple verification"


def pretrain_digits(clips: MovingDigits, sizes: Sizes, seed: int = 0, progress: bool = True):
    """Supervised pretraining: name the digit in single frames of ``clips``; returns (backbone, history)."""
    frames = clips.frames
    digits = clips.digit.to(frames.device).repeat_interleave(clips.videos.shape[1])
    with config.isolated_rng(seed):  # the classifier layer's initialisation
        model = nets.Classifier(initial_backbone(sizes, seed, frames.device), 10).to(frames.device)
        history = pretrained.load_or_train(
            model, f"{NOTEBOOK}/digit labels",
            lambda: train.train_classifier(model, frames, digits, steps=sizes.digit_steps,
                                           batch_size=sizes.tuple_batch * 3, seed=seed, progress=progress,
                                           max_seconds=sizes.pretrain_seconds, desc="digit labels"),
            sizes=sizes, seed=seed, loss="cross-entropy")
    return model.backbone.eval(), history


class ActionNet(nn.Module):
    """A clip classifier that reads a clip as the downstream protocol does: every frame's code (``frame_codes``),
    the frames and their differences (``frames_and_differences``), one linear layer."""

    def __init__(self, backbone: nets.Backbone, n_actions: int, frames: int = FRAMES):
        super().__init__()
        self.backbone = backbone
        code = backbone.out_dim * temporal_order.CODE_SIDE ** 2
        self.classify = nn.Linear((2 * frames - 1) * code, n_actions)

    def forward(self, videos: torch.Tensor) -> torch.Tensor:
        return self.classify(frames_and_differences(frame_codes(self.backbone, videos)))


def other_motion_labels(clips: MovingDigits) -> torch.Tensor:
    """Each clip's motion as an index into ``OTHER_MOTIONS``."""
    return torch.tensor([OTHER_MOTIONS.index(clips.names[m]) for m in clips.motion.tolist()],
                        device=clips.videos.device)


def pretrain_other_motions(clips: MovingDigits, sizes: Sizes, seed: int = 0, progress: bool = True):
    """Supervised pretraining on action labels of other motions (``make_other_motion_clips``): name the motion of
    whole clips, with the steps and clips per step of tuple verification; returns (backbone, history)."""
    with config.isolated_rng(seed):  # the linear layer's initialisation and the batches drawn
        model = ActionNet(initial_backbone(sizes, seed, clips.videos.device), len(OTHER_MOTIONS))
        model = model.to(clips.videos.device)
        history = pretrained.load_or_train(
            model, f"{NOTEBOOK}/other motion labels",
            lambda: train.train_classifier(model, clips.videos, other_motion_labels(clips), steps=sizes.tuple_steps,
                                           batch_size=sizes.tuple_batch, seed=seed, progress=progress,
                                           max_seconds=sizes.pretrain_seconds, desc="other motion labels"),
            sizes=sizes, seed=seed, loss="cross-entropy", clips=OTHER_MOTIONS)
    return model.backbone.eval(), history
