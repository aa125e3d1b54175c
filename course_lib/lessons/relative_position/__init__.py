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
* ``pictures``: the patch grid, patch pairs, detections.
"""

from course_lib.detection import detect, make_scenes  # the notebook draws detections, the tests make scenes
from course_lib.lessons.relative_position.detection_transfer import (
    ABERRATION,
    FINETUNE_LR,
    GRID,
    INITS,
    NAMES,
    OBJECT_SIZES,
    SIZES,
    STAGE,
    Sizes,
    Split,
    beside_the_paper,
    check_box_iou,
    check_neighbour_label,
    finetune,
    finetuned_map,
    frozen_map,
    pretext_accuracy,
    pretrain_relative_position,
    pretrain_supervised,
    split,
    transfer_table,
)
from course_lib.lessons.relative_position.pictures import show_detections, show_grid, show_pairs
from course_lib.lessons.relative_position.shortcuts import (
    SHORTCUT_RUNS,
    absolute_position,
    class_probe,
    shortcut_lab,
)

__all__ = [
    "ABERRATION", "FINETUNE_LR", "GRID", "INITS", "NAMES", "OBJECT_SIZES", "SIZES", "STAGE", "Sizes", "Split",
    "beside_the_paper", "check_box_iou", "check_neighbour_label", "finetune", "finetuned_map", "frozen_map",
    "pretext_accuracy", "pretrain_relative_position", "pretrain_supervised", "split", "transfer_table",
    "show_detections", "show_grid", "show_pairs", "SHORTCUT_RUNS", "absolute_position", "class_probe", "shortcut_lab",
    "detect", "make_scenes",
]
