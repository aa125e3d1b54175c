"""Shuffle and Learn (notebook 03): temporal order verification on moving digits, transferred to action recognition.

The pretext task itself -- tuples, high-motion sampling, the triplet network -- is ``course_lib.pretext.temporal_order``
(Misra, Zitnick & Hebert, ECCV 2016). This package runs the notebook's experiment around it:

* four initialisations of one backbone, all from the *same* initial weights: ``random`` (those weights, frozen),
  ``tuple`` (temporal order verification on unlabelled clips), ``supervised on other motions`` (``ActionNet``
  trained to name the motion of clips of three motions that are none of the six actions, ``OTHER_MOTIONS``: the
  paper's "UCF101-supervised" row, trained on UCF101's action labels and transferred to HMDB51's actions) and
  ``supervised on digit labels`` (trained to name the *digit* in single frames of the same clips: labels for
  another task altogether);
* the downstream task: action recognition = which of the six motions a clip shows, from few labelled clips
  (``sizes.label_draws`` labelled draws averaged per point, mean and spread), with each backbone **frozen** and a
  linear classifier on top (``evaluate.linear_probe``), each backbone read at the layer where it does best on
  validation clips, random init also with its BatchNorm statistics recalibrated (``read_at_layers``);
* ``HEADS``: how a clip's frame codes become one feature vector. A per-frame encoder cannot see motion in one
  frame, so the head must combine frames. The protocol (the same for every initialisation; chosen while the
  notebook was developed, not blind) is ``PROTOCOL``: the frame codes in order *and* the absolute differences of
  consecutive ones; the other heads are shown beside it, because the ranking depends on them;
* what the features encode: linear probes for where the digit is (our stand-in for the paper's *pose*) and for its
  *identity*;
* the constant-velocity shortcut: the same pretext training on clips that glide at constant speed.

A module each: ``pretraining`` (the sizes, the clips, the four initialisations), ``transfer`` (action recognition
with ``HEADS``, pose and identity probes, the shortcut table), ``pictures``, ``claims`` (``check_claims`` and the
orderings the notebook states, ``ORDERINGS``) and ``exercises`` (the checkers of the tuple sampler and of the
motion-energy warm-up, and the short run a student's sampler trains).
"""

from course_lib.data.moving_digits import ACTIONS, OTHER_MOTIONS
from course_lib.lessons.temporal_order.claims import MIN_GAIN, ORDER_MARGIN, ORDERINGS, check_claims
from course_lib.lessons.temporal_order.exercises import (
    YOUR_RUN_CLIPS,
    YOUR_RUN_STEPS,
    YOUR_RUN_TUPLES,
    YourRun,
    check_draw_tuples,
    check_motion_energy,
    probe_clips,
    show_your_run,
    strength_clips,
    train_with_your_sampler,
)
from course_lib.lessons.temporal_order.pictures import (
    majority_share,
    show_clips,
    show_real_tuples,
    show_training_accuracy,
    show_tuples,
)
from course_lib.lessons.temporal_order.pretraining import (
    DIGITS,
    LABELS_PER_ACTION,
    NOTEBOOK,
    OTHERS,
    RANDOM,
    SIZES,
    TUPLE_LR,
    TUPLES,
    VALIDATION_PER_ACTION,
    ActionNet,
    Sizes,
    held_out_digits,
    initial_backbone,
    make_glide_splits,
    make_other_motion_clips,
    make_splits,
    other_motion_labels,
    pretrain_digits,
    pretrain_other_motions,
    pretrain_tuples,
    tuples_desc,
)
from course_lib.lessons.temporal_order.transfer import (
    CODE_STAGE,
    HEADS,
    PROBE_ITERATIONS,
    PROTOCOL,
    RECALIBRATION_CLIPS,
    LayerReads,
    action_accuracy,
    action_scores,
    action_table,
    clip_codes,
    encode,
    few_label_accuracy,
    frames_and_differences,
    frames_in_order,
    layer_scores,
    mean_of_frames,
    pose_and_identity,
    pose_classes,
    read_at_layers,
    shortcut_comparison,
    shortcut_table,
    stage_codes,
)

__all__ = [
    "NOTEBOOK", "TUPLE_LR", "LABELS_PER_ACTION", "RANDOM", "TUPLES", "DIGITS", "OTHERS", "Sizes", "SIZES",
    "make_splits", "held_out_digits", "VALIDATION_PER_ACTION", "CODE_STAGE", "stage_codes", "layer_scores",
    "read_at_layers", "RECALIBRATION_CLIPS", "LayerReads",
    "make_glide_splits", "initial_backbone", "pretrain_tuples", "tuples_desc", "pretrain_digits", "clip_codes",
    "frames_and_differences", "frames_in_order", "mean_of_frames", "HEADS", "PROTOCOL", "PROBE_ITERATIONS", "encode",
    "action_accuracy", "few_label_accuracy", "action_scores", "action_table", "pose_classes", "pose_and_identity",
    "shortcut_table", "shortcut_comparison", "majority_share", "show_training_accuracy", "show_tuples", "show_clips",
    "show_real_tuples", "MIN_GAIN", "ORDER_MARGIN", "ORDERINGS", "check_claims", "check_draw_tuples",
    "check_motion_energy", "probe_clips", "strength_clips", "YOUR_RUN_STEPS", "YOUR_RUN_CLIPS", "YOUR_RUN_TUPLES",
    "YourRun", "train_with_your_sampler", "show_your_run", "ACTIONS", "OTHER_MOTIONS", "ActionNet",
    "make_other_motion_clips", "other_motion_labels", "pretrain_other_motions",
]
