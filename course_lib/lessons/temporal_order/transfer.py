"""Action recognition from frozen frame codes (heads, few labels), what they encode, the constant-velocity shortcut."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import torch

from course_lib import evaluate, nets
from course_lib.data.moving_digits import MovingDigits
from course_lib.pretext import temporal_order
from course_lib.pretext.temporal_order import TupleNet, frame_codes

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
