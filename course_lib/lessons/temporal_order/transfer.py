"""Action recognition from frozen frame codes (heads, few labels, each row read at the layer chosen on validation
clips), what they encode, the constant-velocity shortcut."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import torch

from course_lib import evaluate, nets
from course_lib.data.moving_digits import MovingDigits
from course_lib.pretext import temporal_order
from course_lib.pretext.temporal_order import CODE_SIDE, TupleNet

CODE_STAGE = "conv5"  # the stage the tuple head reads (``temporal_order.frame_codes``): every row's default

# ---------------------------------------------------------------- the downstream heads


@torch.no_grad()
def clip_codes(backbone: nets.Backbone, clips: MovingDigits, batch_size: int = 32, stage: str = CODE_STAGE
               ) -> torch.Tensor:
    """Every frame's code at ``stage``, (N, T, D) on the CPU: at conv5 the pooled map the tuple head reads
    (``temporal_order.frame_codes``); an earlier stage average-pooled to at most as many numbers, so that layers
    compare at (about) one size."""
    return stage_codes(backbone, clips, (stage,), batch_size)[stage]


@torch.no_grad()
def stage_codes(backbone: nets.Backbone, clips: MovingDigits, stages=nets.STAGES, batch_size: int = 32
                ) -> dict[str, torch.Tensor]:
    """{stage: every frame's code there, (N, T, D)} from one pass of the frames through the network."""
    n, t = clips.videos.shape[:2]
    code_size = backbone.out_dim * CODE_SIDE ** 2  # conv5 pooled to CODE_SIDE x CODE_SIDE, as frame_codes pools it
    codes = evaluate.stage_features(backbone, clips.frames, stages, code_size, batch_size * t)
    return {stage: code.unflatten(0, (n, t)) for stage, code in codes.items()}


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
    """{name: (codes of each clip set)}: every frame through every frozen backbone once (conv5, the code the tuple
    head reads), for all the probes; ``read_at_layers`` gives the codes at each row's chosen layer instead."""
    return {name: tuple(clip_codes(backbone, clips) for clips in clip_sets) for name, backbone in backbones.items()}


def action_accuracy(train_codes: torch.Tensor, train_y: torch.Tensor, test_codes: torch.Tensor,
                    test_y: torch.Tensor, head: str = PROTOCOL, C: float = evaluate.PROBE_C) -> float:
    """Accuracy (%) of a linear classifier (regularisation ``C``) on one head's clip features (frozen backbone)."""
    combine = HEADS[head]
    return evaluate.linear_probe(combine(train_codes), train_y.cpu(), combine(test_codes), test_y.cpu(), C=C,
                                 max_iter=PROBE_ITERATIONS)


def few_label_accuracy(codes: torch.Tensor, labelled: MovingDigits, test_codes: torch.Tensor, test: MovingDigits,
                       head: str, per_class: int, draws: int = 1, seed: int = 0,
                       C: float = evaluate.PROBE_C) -> evaluate.Spread:
    """Action accuracy (%) with ``per_class`` labelled clips per action drawn from ``labelled``: the mean and spread
    over ``draws`` labelled subsets (which clips get labels moves the accuracy by points)."""
    def run(idx: torch.Tensor) -> float:
        return action_accuracy(codes[idx], labelled.motion[idx], test_codes, test.motion, head, C)

    return evaluate.label_efficiency(run, labelled.motion, [per_class], seed, draws)[per_class]


def action_scores(encoded: dict[str, tuple[torch.Tensor, torch.Tensor]], labelled: MovingDigits, test: MovingDigits,
                  per_class: int, draws: int = 1, seed: int = 0, heads=tuple(HEADS),
                  C: dict[str, float] | None = None) -> dict[str, dict[str, float]]:
    """{backbone: {head: action accuracy (%) as an ``evaluate.Spread`` over ``draws`` labelled draws}};
    ``encoded`` = ``encode(backbones, labelled, test)``, ``per_class`` labelled clips per action from ``labelled``;
    ``C``: each backbone's probe C (``LayerReads.C``, chosen on validation clips), else the default for all."""
    C = C or {}
    return {name: {head: few_label_accuracy(codes, labelled, test_codes, test, head, per_class, draws, seed,
                                            C.get(name, evaluate.PROBE_C))
                   for head in heads}
            for name, (codes, test_codes) in encoded.items()}


def action_table(scores: dict[str, dict[str, float]]) -> pd.DataFrame:
    """``action_scores`` as a table: a row per backbone, a column per head, "mean ± std" over the labelled draws."""
    return pd.DataFrame({name: {head: value.text() if isinstance(value, evaluate.Spread) else f"{value:.1f}"
                                for head, value in row.items()}
                         for name, row in scores.items()}).T


# ---------------------------------------------------------------- the layer each row is read at


RECALIBRATION_CLIPS = 128  # unlabelled clips (every frame) that re-estimate a random network's BatchNorm statistics


def layer_scores(codes: dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]], labelled: MovingDigits,
                 validation: MovingDigits, test: MovingDigits, per_class: int, draws: int = 1, seed: int = 0,
                 Cs=evaluate.PROBE_CS) -> evaluate.LayerScores:
    """Action accuracy (%) with the protocol's head at every stage of a frozen backbone, on validation clips (which
    choose the stage, and at each stage the probe's C among ``Cs``) and on test clips, from the same ``draws``
    labelled draws of ``per_class`` clips per action; ``codes``: {stage: (labelled, validation, test) frame codes},
    from ``stage_codes``."""
    combine = HEADS[PROTOCOL]
    y = [clips.motion.cpu() for clips in (labelled, validation, test)]
    subsets = evaluate.label_subsets(y[0], per_class, draws, seed)
    val, scores, chosen = {}, {}, {}
    for stage, (train_codes, val_codes, test_codes) in codes.items():
        train_x, graded = combine(train_codes), [(combine(val_codes), y[1]), (combine(test_codes), y[2])]
        by_C = {C: [evaluate.probe_scores(train_x[idx], y[0][idx], graded, C, PROBE_ITERATIONS) for idx in subsets]
                for C in Cs}
        mean_val = {C: sum(v for v, _ in val_test) / len(val_test) for C, val_test in by_C.items()}
        chosen[stage] = max(mean_val, key=mean_val.get)  # the C best on validation, as the stage is chosen
        val[stage] = mean_val[chosen[stage]]
        scores[stage] = evaluate.Spread.of([t for _, t in by_C[chosen[stage]]])
    return evaluate.LayerScores(test=scores, val=val, val_labels=len(validation), C=chosen)


@dataclass
class LayerReads:
    """What ``read_at_layers`` found: every row's frame codes at every stage (labelled and test clips; random init's
    at the read chosen for it), the layer (and the probe's C) chosen for each row on validation clips, and the
    layer-wise table."""

    codes: dict[str, dict[str, tuple[torch.Tensor, torch.Tensor]]]  # {row: {stage: (labelled, test) codes}}
    layers: dict[str, str]  # {row: the stage chosen on validation}
    C: dict[str, float]  # {row: the probe's C chosen on validation at that stage}: what ``action_scores`` fits at
    table: pd.DataFrame  # ``evaluate.layer_table``: test accuracy per stage, the stage (and read) chosen, ...

    def at_chosen_layers(self) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """{row: (labelled, test) codes at its chosen layer}: what ``action_scores`` reads."""
        return {name: self.codes[name][stage] for name, stage in self.layers.items()}

    def at(self, stage: str) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """{row: (labelled, test) codes at ``stage``}, the same for every row."""
        return {name: codes[stage] for name, codes in self.codes.items()}


def read_at_layers(backbones: dict[str, nets.Backbone], unlabelled: MovingDigits, labelled: MovingDigits,
                   validation: MovingDigits, test: MovingDigits, per_class: int, draws: int = 1, seed: int = 0, *,
                   random_row: str, Cs=evaluate.PROBE_CS) -> LayerReads:
    """Every row's layer (and at each layer the probe's C, of ``Cs``) chosen on ``validation`` clips (the protocol's
    head, ``per_class`` labelled clips per action, the same draws for every row); ``random_row`` also read with its
    BatchNorm statistics recalibrated on unlabelled frames and kept at the better read
    (``evaluate.random_at_its_best``), as 01, 02 and 05 read theirs.
    Every frame goes through every network once: the codes of all stages are kept for the probes that follow."""
    encoded = {}

    def probed(network: nets.Backbone, name: str) -> evaluate.LayerScores:
        per_set = [stage_codes(network, clips) for clips in (labelled, validation, test)]
        encoded[name] = {stage: tuple(codes[stage] for codes in per_set) for stage in per_set[0]}
        return layer_scores(encoded[name], labelled, validation, test, per_class, draws, seed, Cs)

    frames = unlabelled.videos[:RECALIBRATION_CLIPS].flatten(0, 1)
    scores = evaluate.probe_each(backbones, probed, frames, random_row)
    read = scores[random_row].read  # probe_each probed the other read as "<row>, <read>"
    chosen = {name: encoded[name if name != random_row or read == evaluate.AS_INITIALISED else f"{name}, {read}"]
              for name in backbones}
    codes = {name: {stage: (c[0], c[2]) for stage, c in stages.items()} for name, stages in chosen.items()}
    return LayerReads(codes, {name: s.best_layer for name, s in scores.items()},
                      {name: s.best_C for name, s in scores.items()}, evaluate.layer_table(scores))


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
