"""Shuffle and Learn (notebook 03): temporal order verification on moving digits, transferred to action recognition.

The pretext task itself -- tuples, high-motion sampling, the triplet network -- is ``course_lib.pretext.temporal_order``
(Misra, Zitnick & Hebert, ECCV 2016). This module runs the notebook's experiment around it:

* three initialisations of one backbone, all from the *same* initial weights: ``random`` (those weights, frozen),
  ``tuple`` (temporal order verification on unlabelled clips) and ``supervised`` (trained to name the *digit* in
  single frames of the same clips: digit labels, not action labels -- so it is not the paper's "UCF101-supervised"
  row, which was trained with UCF101's action labels and transferred to HMDB51's actions);
* the downstream task: action recognition = which of the six motions a clip shows, from few labelled clips
  (``sizes.label_draws`` labelled draws averaged per point, mean and spread), with each backbone **frozen** and a
  linear classifier on top (``evaluate.linear_probe``);
* ``HEADS``: how a clip's frame codes become one feature vector. A per-frame encoder cannot see motion in one
  frame, so the head must combine frames. The protocol (fixed before any number was looked at, the same for every
  initialisation) is ``PROTOCOL``: the frame codes in order *and* the absolute differences of consecutive ones;
  the other heads are shown beside it, because the ranking depends on them;
* what the features encode: linear probes for the digit's *pose* (where it is) and for its *identity*;
* the constant-velocity shortcut: the same pretext training on clips that glide at constant speed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from course_lib import checks, config, evaluate, nets, show, train
from course_lib.data import ImageData
from course_lib.data.moving_digits import ACTIONS, MOTIONS, SHORTCUT, MovingDigits, make_moving_digits
from course_lib.pretext import temporal_order
from course_lib.pretext.temporal_order import TupleNet, frame_codes

TUPLE_LR = 5e-3  # AdamW's rate for tuple verification: with the default 2e-3 order was learned too slowly for a lab
LABELS_PER_ACTION = 20  # labelled clips per action for action recognition (drawn from a pool of twice as many)
RANDOM, TUPLES, DIGITS = "random", "tuple verification", "supervised on digit labels"  # the three backbones


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


def make_splits(train_digits: ImageData, test_digits: ImageData, sizes: Sizes, seed: int = 0,
                device: torch.device | str = "cpu"):
    """(unlabelled, labelled, test) clips of the six actions. Unlabelled clips show training-set digits; the
    labelled pool (twice ``LABELS_PER_ACTION`` per action, so which ones get labels depends on the seed) and the test
    clips (``test_per_action`` per action) show test-set digits, so no digit is seen both in pretraining and in test."""
    n_pool, n_test = 2 * len(ACTIONS) * LABELS_PER_ACTION, len(ACTIONS) * sizes.test_per_action
    unlabelled = make_moving_digits(train_digits.x, train_digits.y, sizes.unlabelled_clips, seed=seed)
    labelled = make_moving_digits(test_digits.x[:n_pool], test_digits.y[:n_pool], n_pool, seed=seed + 1)
    test = make_moving_digits(test_digits.x[n_pool:], test_digits.y[n_pool:], n_test, seed=seed + 2)
    return unlabelled.to(device), labelled.to(device), test.to(device)


def make_glide_splits(train_digits: ImageData, test_digits: ImageData, sizes: Sizes, seed: int = 0,
                      device: torch.device | str = "cpu"):
    """(unlabelled, test) clips of the same digits gliding at constant velocity: the shortcut's training data."""
    glide = make_moving_digits(train_digits.x, train_digits.y, sizes.unlabelled_clips, motions=(SHORTCUT,),
                               seed=seed + 3)
    n_test = len(ACTIONS) * sizes.test_per_action
    test = make_moving_digits(test_digits.x[-n_test:], test_digits.y[-n_test:], n_test, motions=(SHORTCUT,),
                              seed=seed + 4)
    return glide.to(device), test.to(device)


# ---------------------------------------------------------------- the three initialisations


def initial_backbone(sizes: Sizes, seed: int, device: torch.device | str = "cpu") -> nets.Backbone:
    """The initial weights every pretraining starts from; frozen as they are, the random-init baseline.

    Stored channels-last: about 1.6 times faster on a CPU for these small convolutions (measured).
    """
    return nets.random_backbone(1, sizes.backbone_width, seed, device).to(memory_format=torch.channels_last)


def pretrain_tuples(clips: MovingDigits, sizes: Sizes, seed: int = 0, progress: bool = True,
                    min_gap: int = temporal_order.MIN_GAP, desc: str | None = None):
    """Temporal order verification on unlabelled ``clips`` (their device), negatives at least ``min_gap`` frames
    from the ends (tau_min); returns (backbone, TupleNet, history). The run is named ``desc`` (default:
    ``tuples_desc(clips)``), its progress label and its checkpoint's name."""
    torch.manual_seed(seed)  # the head's initialisation and the tuples drawn: the same for every run with this seed
    model = TupleNet(initial_backbone(sizes, seed, clips.videos.device)).to(clips.videos.device)
    loss = functools.partial(temporal_order.tuple_loss, min_gap=min_gap)
    history = train.fit(model, train.batches(clips.videos, batch_size=sizes.tuple_batch, seed=seed), loss,
                        steps=sizes.tuple_steps, max_seconds=sizes.pretrain_seconds, lr=TUPLE_LR,
                        desc=desc or tuples_desc(clips), progress=progress)
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
    torch.manual_seed(seed)  # the classifier layer's initialisation
    model = nets.Classifier(initial_backbone(sizes, seed, frames.device), 10).to(frames.device)
    history = train.train_classifier(model, frames, digits, steps=sizes.digit_steps,
                                     batch_size=sizes.tuple_batch * 3, seed=seed, progress=progress,
                                     max_seconds=sizes.pretrain_seconds, desc="digit labels")
    return model.backbone.eval(), history


# ---------------------------------------------------------------- the downstream heads


@torch.no_grad()
def clip_codes(backbone: nets.Backbone, clips: MovingDigits, batch_size: int = 32) -> torch.Tensor:
    """Every frame's code (``temporal_order.frame_codes``), (N, T, D) on the CPU."""
    backbone.eval()
    videos = clips.videos
    return torch.cat([frame_codes(backbone, videos[i:i + batch_size]).cpu() for i in range(0, len(videos), batch_size)])


def frames_and_differences(codes: torch.Tensor) -> torch.Tensor:
    """[f_1, ..., f_T, |f_2 - f_1|, ..., |f_T - f_(T-1)|]: where the digit is and how much it changes, step by step."""
    return torch.cat([codes.flatten(1), (codes[:, 1:] - codes[:, :-1]).abs().flatten(1)], 1)


def frames_in_order(codes: torch.Tensor) -> torch.Tensor:
    """[f_1, ..., f_T]: a linear head must then compare frames through fixed weights per position."""
    return codes.flatten(1)


def mean_of_frames(codes: torch.Tensor) -> torch.Tensor:
    """The average frame code: order is thrown away, only what is seen on average is left."""
    return codes.mean(1)


HEADS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "frames + differences": frames_and_differences,
    "frames in order": frames_in_order,
    "mean of frames": mean_of_frames,
}
PROTOCOL = "frames + differences"


PROBE_ITERATIONS = 100  # L-BFGS steps of each linear probe: enough for a few hundred examples, and fast


def encode(backbones: dict[str, nets.Backbone], *clip_sets: MovingDigits) -> dict[str, tuple[torch.Tensor, ...]]:
    """{name: (codes of each clip set)}: every frame through every frozen backbone once, for all the probes."""
    return {name: tuple(clip_codes(backbone, clips) for clips in clip_sets) for name, backbone in backbones.items()}


def action_accuracy(train_codes: torch.Tensor, train_y: torch.Tensor, test_codes: torch.Tensor,
                    test_y: torch.Tensor, head: str = PROTOCOL) -> float:
    """Accuracy (%) of a linear classifier on one head's clip features (frozen backbone)."""
    combine = HEADS[head]
    return evaluate.linear_probe(combine(train_codes), train_y.cpu(), combine(test_codes), test_y.cpu(),
                                 max_iter=PROBE_ITERATIONS)


def few_label_accuracy(codes: torch.Tensor, labelled: MovingDigits, test_codes: torch.Tensor, test: MovingDigits,
                       head: str, per_class: int, draws: int = 1, seed: int = 0) -> evaluate.Spread:
    """Action accuracy (%) with ``per_class`` labelled clips per action drawn from ``labelled``: the mean and spread
    over ``draws`` labelled subsets (which clips get labels moves the accuracy by points)."""
    def run(idx: torch.Tensor) -> float:
        return action_accuracy(codes[idx], labelled.motion[idx], test_codes, test.motion, head)

    return evaluate.label_efficiency(run, labelled.motion, [per_class], seed, draws)[per_class]


def action_scores(encoded: dict[str, tuple[torch.Tensor, torch.Tensor]], labelled: MovingDigits, test: MovingDigits,
                  per_class: int, draws: int = 1, seed: int = 0, heads=tuple(HEADS)) -> dict[str, dict[str, float]]:
    """{backbone: {head: action accuracy (%) as an ``evaluate.Spread`` over ``draws`` labelled draws}};
    ``encoded`` = ``encode(backbones, labelled, test)``, ``per_class`` labelled clips per action from ``labelled``."""
    return {name: {head: few_label_accuracy(codes, labelled, test_codes, test, head, per_class, draws, seed)
                   for head in heads}
            for name, (codes, test_codes) in encoded.items()}


def action_table(scores: dict[str, dict[str, float]]) -> pd.DataFrame:
    """``action_scores`` as a table: a row per backbone, a column per head, "mean ± std" over the labelled draws."""
    return pd.DataFrame({name: {head: value.text() if isinstance(value, evaluate.Spread) else f"{value:.1f}"
                                for head, value in row.items()}
                         for name, row in scores.items()}).T


# ---------------------------------------------------------------- what the features encode


def pose_classes(clips: MovingDigits, cells: int = 3) -> torch.Tensor:
    """Each frame's pose as a class: which of ``cells`` x ``cells`` canvas cells the digit's centre is in."""
    cell = ((clips.centre.flatten(0, 1) + 1) / 2 * cells).long().clamp(0, cells - 1)
    return cell[:, 1] * cells + cell[:, 0]


def pose_and_identity(encoded: dict[str, tuple[torch.Tensor, torch.Tensor]], train_clips: MovingDigits,
                      test_clips: MovingDigits, frames_per_clip: int = 2) -> pd.DataFrame:
    """Linear-probe accuracy (%) of single frame codes for the digit's pose (its cell) and its identity;
    ``encoded`` = ``encode(backbones, train_clips, test_clips)``."""
    keep = torch.linspace(0, train_clips.videos.shape[1] - 1, frames_per_clip).round().long()

    def targets(clips: MovingDigits):
        t = clips.videos.shape[1]
        pose = pose_classes(clips).view(-1, t)[:, keep].flatten()
        return pose, clips.digit.repeat_interleave(frames_per_clip)

    (pose, digit), (test_pose, test_digit) = targets(train_clips), targets(test_clips)
    rows = {}
    for name, (train_codes, test_codes) in encoded.items():
        frames, test_frames = train_codes[:, keep].flatten(0, 1), test_codes[:, keep].flatten(0, 1)
        rows[name] = {target: evaluate.linear_probe(frames, y, test_frames, test_y, max_iter=PROBE_ITERATIONS)
                      for target, y, test_y in (("pose (3 x 3 cell)", pose, test_pose),
                                                ("digit identity", digit, test_digit))}
    return pd.DataFrame(rows).T.round(1)


def shortcut_table(nets_by_data: dict[str, TupleNet], tuple_tests: dict[str, MovingDigits], labelled: MovingDigits,
                   test: MovingDigits, per_class: int, draws: int = 1, seed: int = 0) -> pd.DataFrame:
    """For tuple networks pretrained on different clips: order-verification accuracy (%, balanced) on each set of
    held-out clips, and the action accuracy (%) their frozen backbones give with the protocol's head (mean over
    ``draws`` labelled draws, and its spread)."""
    rows = {}
    for name, net in nets_by_data.items():
        row = {f"tuple accuracy: {clips_name}": temporal_order.tuple_accuracy(net, clips.videos, seed=seed)
               for clips_name, clips in tuple_tests.items()}
        action = action_scores(encode({name: net.backbone}, labelled, test), labelled, test, per_class, draws, seed,
                               heads=(PROTOCOL,))[name][PROTOCOL]
        row["action accuracy"], row[evaluate.STD] = float(action), evaluate.spread_of(action)
        rows[name] = row
    return pd.DataFrame(rows).T.round(1)


def shortcut_comparison(table: pd.DataFrame) -> str:
    """The action accuracy of the two rows of a ``shortcut_table`` compared, spread included (first row first)."""
    first, second = (evaluate.Spread(row["action accuracy"], row[evaluate.STD], 2 if row[evaluate.STD] > 0 else 1)
                     for _, row in table.iterrows())
    return "action accuracy, " + evaluate.compare_text(first, second, names=tuple(table.index))


# ---------------------------------------------------------------- what the pretext task asks


def majority_share(videos: torch.Tensor, per_clip: int = 16, seed: int = 0) -> float:
    """The share (%) of negatives among tuples drawn from ``videos`` as in training: the accuracy of always answering
    "shuffled", the level a training accuracy must beat before it means anything."""
    _, labels = temporal_order.draw_tuples(videos, per_clip, generator=torch.Generator().manual_seed(seed))
    return 100.0 * float((labels == 0).float().mean())


def show_training_accuracy(history: train.History, majority: float):
    """Training accuracy (%) of tuple verification against the step, with the majority answer's level drawn."""
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    ax.plot(history.step, 100 * np.asarray(history["acc"]), label="tuple verification (training tuples)")
    ax.axhline(majority, color="gray", linestyle=":",
               label=f'always "shuffled": {majority:.0f} % (the share of negatives)')
    ax.set(xlabel="step", ylabel="training accuracy (%)", title="Order verification while it trains")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    return show.finish(fig)


# ---------------------------------------------------------------- the claims

MIN_GAIN = 5.0  # lab / full: points of action accuracy tuple verification must add to random init (means)
ORDER_MARGIN = 5.0  # ci: points above chance (50 %, balanced) that held-out order verification must reach


def check_claims(accuracy: dict[str, float], order_accuracy: float, profile: str, capped=()) -> None:
    """Assert the claim this profile can carry, on the numbers just measured (``capped``: runs stopped by time).

    ``lab`` / ``full``: frozen tuple-verification features beat frozen random ones on action recognition, the means
    over the labelled draws apart by at least ``MIN_GAIN`` points *and* by more than their spreads. ``ci`` (a few
    dozen steps of pretraining, too short for that): the pretext task itself was learned -- order verification on
    held-out clips at least ``ORDER_MARGIN`` points above chance; weaker, and it can still fail.
    """
    tuples, random = accuracy[TUPLES], accuracy[RANDOM]
    evidence = evaluate.compare_text(tuples, random, names=(TUPLES, RANDOM)) + f" ({PROTOCOL} head)"
    if profile == "ci":
        print(f"ci: the transfer claim is asserted in lab and full only; measured {evidence}")
        checks.check_claim(f"order verification on held-out clips beats chance (50 %) by >= {ORDER_MARGIN:.0f} points",
                           order_accuracy >= 50 + ORDER_MARGIN, f"balanced accuracy {order_accuracy:.1f} %", capped)
        return
    checks.check_claim(f"tuple verification beats random init on action recognition, by >= {MIN_GAIN:.0f} points "
                       "and beyond the spread of the labelled draws",
                       tuples - random >= MIN_GAIN and evaluate.differ(tuples, random), evidence, capped)


# ---------------------------------------------------------------- pictures


def show_tuples(videos: torch.Tensor, n: int = 4, window: int = 12, seed: int = 0):
    """What the network is asked: rows of three frames, each titled in order or shuffled (frame numbers)."""
    generator = torch.Generator().manual_seed(seed)
    clips = videos[:n].cpu()
    tuples, labels = temporal_order.draw_tuples(clips, 1, window, generator)
    tuples, labels = tuples[:, 0], labels[:, 0]
    frames = temporal_order.pick(clips, tuples)
    titles = [f"{'IN ORDER' if labels[i] else 'SHUFFLED'}: t={tuples[i, j]}" if j == 0 else f"t={tuples[i, j]}"
              for i in range(n) for j in range(3)]
    return show.image_grid(frames.flatten(0, 1), titles, ncols=3, size=1.6)


def show_clips(clips: MovingDigits, per_action: int = 1, frames: int = 8):
    """One row per clip (``per_action`` of each action), ``frames`` frames spread over the clip."""
    rows = [i for k in range(len(ACTIONS)) for i in torch.nonzero(clips.motion == k).flatten()[:per_action].tolist()]
    keep = torch.linspace(0, clips.videos.shape[1] - 1, frames).round().long()
    titles = [f"{MOTIONS[int(clips.motion[i])]}" if j == 0 else f"t={int(keep[j])}" for i in rows
              for j in range(frames)]
    return show.image_grid(clips.videos[rows][:, keep].flatten(0, 1).cpu(), titles, ncols=frames, size=1.0)


# ---------------------------------------------------------------- exercise checkers


def _sampled_negatives(indices: torch.Tensor, draws: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """The two negatives of each row a < b < c < d < e as ``temporal_order.order_tuples`` draws them (over ``draws``
    draws, read with b first: it reverses half of all tuples), the one with the smaller middle frame first."""
    generator = torch.Generator().manual_seed(0)
    tuples, labels = temporal_order.order_tuples(indices.expand(draws, *indices.shape), generator)
    b_first = torch.where(tuples[..., :1] == indices[:, 3:4], tuples.flip(-1), tuples)  # a reversed one starts at d
    rows = [sorted({tuple(t) for t, label in zip(b_first[:, row].tolist(), labels[:, row].tolist(), strict=True)
                    if label == 0}, key=lambda t: t[1]) for row in range(len(indices))]
    return torch.tensor([r[0] for r in rows]), torch.tensor([r[-1] for r in rows])


def check_negatives(fn) -> None:
    """Exercise: ``fn(indices)`` makes the two negatives (b, a, d) and (b, e, d) of each row a < b < c < d < e: compared
    with the negatives the library's tuple maker draws (``temporal_order.order_tuples``) from random rows
    (``temporal_order.five_frames``)."""
    with config.isolated_rng(0):  # the same rows every time; the notebook's random stream untouched
        indices = temporal_order.five_frames(torch.randint(0, 5, (3,)), window=12)
    expected = _sampled_negatives(indices)
    answer = tuple(torch.as_tensor(part) for part in fn(indices))
    ok = len(answer) == 2 and all(a.shape == e.shape and torch.equal(a.long(), e) for a, e in zip(answer, expected,
                                                                                                  strict=True))
    checks.exercise("negative tuples", ok, f"for {indices.tolist()} the negatives are "
                    f"{[e.tolist() for e in expected]}: keep b and d at the ends, put a (or e) in the middle")


def check_motion_energy(fn) -> None:
    """Exercise: ``fn(videos)`` = mean absolute difference of consecutive frames, (N, T - 1)."""
    videos = torch.zeros(2, 4, 1, 3, 3)
    videos[0, 2] = 1.0  # clip 0: a flash at frame 2, so steps 1 and 2 change everything
    videos[1, :, :, 0, 0] = torch.arange(4.0)[:, None]  # clip 1: one pixel brightening by 1 per frame
    expected = temporal_order.motion_energy(videos)
    answer = torch.as_tensor(fn(videos)).float()
    checks.exercise("motion energy", answer.shape == expected.shape and torch.allclose(answer, expected),
                    f"expected {expected.tolist()}, got {answer.tolist()}: take |x[:, 1:] - x[:, :-1]|, "
                    "then average over channels and pixels")


def show_real_tuples(clip, window: int = 40, min_gap: int = 10, seed: int = 0):
    """High-motion sampling on a real clip: its motion energy with the window drawn and the five frames a ... e
    (a at least ``min_gap`` frames before b, e at least as far after d), then the positive (b, c, d) and the two
    negatives (b, a, d), (b, e, d) made from them."""
    grey = clip.grey()[None]  # (1, T, 1, H, W)
    generator = torch.Generator().manual_seed(seed)
    start = temporal_order.high_motion_starts(grey, window, 1, generator)
    a, b, c, d, e = temporal_order.five_frames(start, window, generator, min_gap)[0, 0].tolist()
    fig = plt.figure(figsize=(7.5, 8.2))
    grid = fig.add_gridspec(4, 3, height_ratios=(0.8, 1, 1, 1))
    energy = temporal_order.motion_energy(grey)[0]
    top = fig.add_subplot(grid[0, :])
    top.plot(energy.numpy(), color="k", lw=1)
    top.axvspan(int(start), int(start) + window - 1, color="tab:orange", alpha=0.25, label="window drawn")
    for name, t in zip("abcde", (a, b, c, d, e), strict=True):
        top.annotate(name, (t, float(energy[min(t, len(energy) - 1)])), color="tab:blue", fontsize=10)
    top.set(xlabel="frame", ylabel="mean |frame difference|", title=f"{clip.name}: where does it move?")
    top.legend(fontsize=8)
    rows = {"IN ORDER (b, c, d)": (b, c, d), "SHUFFLED (b, a, d)": (b, a, d), "SHUFFLED (b, e, d)": (b, e, d)}
    for r, (label, frames) in enumerate(rows.items(), start=1):
        for j, t in enumerate(frames):
            ax = fig.add_subplot(grid[r, j])
            ax.imshow(clip.frames[t].permute(1, 2, 0).numpy())
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"frame {t}", fontsize=8)
            if j == 0:
                ax.set_ylabel(label, fontsize=8)
    return show.finish(fig)
