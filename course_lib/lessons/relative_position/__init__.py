"""Relative position, judged by detection (notebook 02): pretrain three ways, then detect objects in CIFAR scenes.

Doersch, Gupta & Efros (ICCV 2015) pretrained on unlabelled ImageNet by predicting where one patch lies relative to
another (``course_lib.pretext.relative_position``), then plugged the network into R-CNN for PASCAL VOC detection.
The laptop version, in three parts:

* ``detection_transfer``: the notebook's sizes; three initialisations of one backbone (**supervised** on CIFAR-10
  labels, **relative position**, **random**) judged by detection on scenes of other CIFAR-10 photos with known boxes
  (mAP@0.5), frozen and fine-tuned; the table beside the paper; the exercise checkers;
* ``shortcuts``: the shortcut lab, the same pretext task on photos with a synthetic chromatic aberration, with and
  without colour dropping, judged by pretext accuracy, by how well a patch's *absolute* position can be read from its
  code, and by a linear probe of the class;
* ``pictures``: the patch grid, patch pairs, detections (drawn above a threshold chosen on the training scenes);
* ``seeds``: the detection transfer over seeds 0, 1, 2, measured by the same functions
  (``python -m course_lib.lessons.relative_position seeds``), and the notebook's table of it.
"""

from course_lib.detection import Detector, detect, make_scenes  # the tests make scenes and detectors
from course_lib.lessons.relative_position.detection_transfer import (
    ABERRATION,
    FINETUNE_LR,
    GRID,
    INITS,
    MIN_ABOVE_CHANCE,
    MIN_ABOVE_PRIOR,
    NAMES,
    OBJECT_SIZES,
    PLACE_PRIOR,
    SIZES,
    STAGE,
    Pretrained,
    Sizes,
    Split,
    Transfer,
    beside_the_paper,
    check_box_iou,
    check_claims,
    check_neighbour_label,
    finetune,
    finetuned_map,
    frozen_map,
    place_prior_map,
    pretext_accuracy,
    pretrain_all,
    pretrain_relative_position,
    pretrain_supervised,
    split,
    transfer,
    transfer_table,
)
from course_lib.lessons.relative_position.pictures import (
    correct_detections,
    f1_threshold,
    one_box_per_place,
    show_detections,
    show_found,
    show_grid,
    show_pairs,
)
from course_lib.lessons.relative_position.seeds import COMMAND as SEEDS_COMMAND
from course_lib.lessons.relative_position.seeds import measure, run_seeds, seed_table, seeds_file
from course_lib.lessons.relative_position.shortcuts import (
    SHORTCUT_RUNS,
    absolute_position,
    class_probe,
    shortcut_lab,
)

__all__ = [
    "ABERRATION", "FINETUNE_LR", "GRID", "INITS", "MIN_ABOVE_CHANCE", "MIN_ABOVE_PRIOR", "NAMES", "OBJECT_SIZES",
    "PLACE_PRIOR", "SIZES", "STAGE", "Pretrained", "Sizes", "Split", "Transfer", "beside_the_paper", "check_box_iou",
    "check_claims", "check_neighbour_label", "finetune", "finetuned_map", "frozen_map", "place_prior_map",
    "pretext_accuracy", "pretrain_all", "pretrain_relative_position", "pretrain_supervised", "split", "transfer",
    "transfer_table", "correct_detections", "f1_threshold", "one_box_per_place", "show_detections", "show_found",
    "show_grid", "show_pairs", "SEEDS_COMMAND", "measure", "run_seeds", "seed_table", "seeds_file", "SHORTCUT_RUNS",
    "absolute_position", "class_probe", "shortcut_lab", "Detector", "detect", "make_scenes",
]
