"""Relative position, judged by detection (notebook 02): pretrain four ways, then detect objects in CIFAR scenes.

Doersch, Gupta & Efros (ICCV 2015) pretrained on unlabelled ImageNet by predicting where one patch lies relative to
another (``course_lib.pretext.relative_position``), then plugged the network into R-CNN for PASCAL VOC detection.
The laptop version, in parts:

* ``pretraining``: four initialisations of one backbone (**supervised** on CIFAR-10 labels, an in-domain oracle;
  **supervised on other classes**, the animals; **relative position**; **random**), and the pretext's own accuracy;
* ``detection_transfer``: the notebook's sizes and splits; the four starts judged by detection on scenes of other
  CIFAR-10 photos with known boxes (mAP@0.5, over all classes and over the vehicles no start but the oracle saw
  labelled), frozen and fine-tuned; random init at its better read (as
  initialised, or with BatchNorm recalibrated on the scenes), chosen on validation scenes;
* ``claims``: the table beside the paper, the claim check and ``ORDERINGS``, the orderings the notebook states, on
  the numbers it records;
* ``exercises``: the checkers of the pair sampler and of box IoU, and the short pretext run a student's sampler
  trains;
* ``shortcuts``: the shortcut lab, the same pretext task on photos with a synthetic chromatic aberration, with and
  without colour dropping, judged by pretext accuracy, by how well a patch's *absolute* position can be read from its
  code, and by a linear probe of the class;
* ``pictures``: the patch grid, patch pairs, detections (drawn above a threshold chosen on the training scenes).

``course_lib.seeds`` shows each of ``ORDERINGS`` over pretraining seeds 0, 1 and 2 (``python -m course_lib.results
seeds 02`` runs the notebook on seeds 1 and 2).
"""

from course_lib.detection import Detector, detect, make_scenes  # the tests make scenes and detectors
from course_lib.lessons.relative_position.claims import (
    MIN_ABOVE_CHANCE,
    MIN_ABOVE_PRIOR,
    ORDERINGS,
    PAPER_INITS,
    beside_the_paper,
    check_claims,
)
from course_lib.lessons.relative_position.detection_transfer import (
    ABERRATION,
    FINETUNE_LR,
    GRID,
    INITS,
    NAMES,
    NOTEBOOK,
    OBJECT_SIZES,
    OTHER_CLASSES,
    PLACE_PRIOR,
    SIZES,
    STAGE,
    UNSEEN_CLASSES,
    VALIDATION_SCENES,
    Sizes,
    Split,
    Transfer,
    finetune,
    finetuned_map,
    frozen_map,
    place_prior_map,
    random_at_its_best,
    random_read_table,
    split,
    transfer,
    transfer_table,
    unseen_map,
)
from course_lib.lessons.relative_position.exercises import (
    YOUR_RUN_STEPS,
    YourRun,
    check_box_iou,
    check_patch_pairs,
    coordinate_photos,
    show_your_run,
    train_with_your_sampler,
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
from course_lib.lessons.relative_position.pretraining import (
    Pretrained,
    only_classes,
    pretext_accuracy,
    pretrain_all,
    pretrain_relative_position,
    pretrain_supervised,
)
from course_lib.lessons.relative_position.shortcuts import (
    SHORTCUT_RUNS,
    absolute_position,
    class_probe,
    shortcut_lab,
)

__all__ = [
    "NOTEBOOK", "ORDERINGS", "ABERRATION", "FINETUNE_LR", "GRID", "INITS", "MIN_ABOVE_CHANCE", "MIN_ABOVE_PRIOR",
    "NAMES", "OBJECT_SIZES", "OTHER_CLASSES", "PAPER_INITS", "PLACE_PRIOR", "SIZES", "STAGE", "UNSEEN_CLASSES",
    "Pretrained", "Sizes", "Split", "Transfer", "only_classes", "unseen_map",
    "beside_the_paper", "check_box_iou", "check_claims", "check_patch_pairs", "finetune", "finetuned_map",
    "frozen_map", "place_prior_map", "pretext_accuracy", "pretrain_all", "pretrain_relative_position",
    "pretrain_supervised", "random_at_its_best", "random_read_table", "VALIDATION_SCENES",
    "split", "transfer", "transfer_table", "correct_detections", "f1_threshold",
    "one_box_per_place", "show_detections", "show_found", "show_grid", "show_pairs", "SHORTCUT_RUNS",
    "absolute_position", "class_probe", "shortcut_lab", "Detector", "detect", "make_scenes", "YOUR_RUN_STEPS",
    "YourRun", "coordinate_photos", "show_your_run", "train_with_your_sampler",
]
