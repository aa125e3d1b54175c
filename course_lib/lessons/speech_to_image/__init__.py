"""Speech to image (notebook 10): draw the spoken digit in a writer's style, then lip motion and sound in GRID.

The method -- styles, the Speech2Image network, the L1 loss, the pairs -- is ``course_lib.pretext.speech2image``
(after Chung, Jamaludin & Zisserman, "You said that?", BMVC 2017). This package runs the notebook's experiment:

* ``Sizes`` / ``SIZES``  how big the experiment is in each profile (``sizes = SIZES[session.profile.name]``);
* ``load``           FSDD recordings split by speaker as in notebook 08 (``audio.by_speaker``: one whole speaker
                     held out, so every test recording is a voice never heard in training) as log-mel spectrograms,
                     MNIST training images to pair them with, MNIST test images as the identities of the evaluation;
* ``train_generators``  Speech2Image networks with and without skip connections (the ablation), each trained from
                     ``sizes.seeds`` seeds, so that the ablation is read against the spread between seeds;
* ``train_judge``    an MNIST classifier (digit labels, written in random styles) that reads the generated images;
* ``score_generators`` / ``results_table``  every test recording with a test image of some digit in some style: how
                     often the judge reads the spoken digit (chance 10 %), how often it reads the identity image's
                     digit instead (copying), and whether the drawn digit takes on the identity's slant and ink, as
                     mean ± std over the seeds;
* ``headline_decomposed``  where "recognised %" loses, link by link: the audio encoder's own read of the digit
                     (``audio_encoder_reads``), the judge on real digits and on the L1 optimum of the right digit
                     (``l1_optimum_reads``), the judge on the drawings;
* ``ORDERINGS``      the ordering the notebook states (with skips vs without), on its recorded numbers
                     (``seeds.table`` measures it on pretraining seeds 0, 1 and 2);
* ``show_l1_optimum``  why the drawings are blurred: the L1-optimal drawing is the per-pixel median of every image of
                     the spoken digit in that hand (``speech2image.l1_optimum``);
* ``l1_optimal`` / ``show_your_l1_optimal``  the exercise's L1-optimal image of a stack (the per-pixel median), taken
                     per digit over its styled training targets (``digit_targets``, ``per_digit``): what a network that
                     knows only the spoken digit would draw, beside the generator's drawings and the mean, with how
                     many of them the judge reads (``judge_reads``);
* the GRID part: ``motion_energy`` in a fixed mouth box (temporal order's motion energy, on the crop), the
  loudness ``audio.envelope`` per video frame, ``sync_curve`` (their correlation at every offset) and
  ``sync_table`` (the best offset per clip), and its control, ``mismatched_curves`` (one clip's sound against
  another's mouth; ``matched_and_mismatched`` sets the two side by side, ``shuffled_pairings`` tests them).

A module each: ``training`` (the sizes, ``load``, the generators and the judge), ``evaluation`` (``score_generators``,
``results_table``, ``metrics``, ``ORDERINGS``, the L1-optimal images), ``pictures``, ``grid_sync`` (the GRID part),
``exercises`` (the checkers: the L1-optimal image, the best offset, the training loss as a warm-up) and ``paper``
(``DESIGN_VS_PAPER``).
"""

from course_lib import data  # the tests stand in for its loaders: lesson.data.load_fsdd
from course_lib.data.grid import load_grid
from course_lib.lessons.speech_to_image.evaluation import (
    ORDERINGS,
    TARGETS_PER_DIGIT,
    TestPairs,
    audio_encoder_reads,
    digit_targets,
    evaluate_generated,
    generate,
    headline_decomposed,
    judge_accuracy,
    judge_reads,
    l1_optimal,
    l1_optimum_reads,
    metrics,
    per_digit,
    results_table,
    score_generators,
    test_pairs,
)
from course_lib.lessons.speech_to_image.exercises import (
    check_best_offset,
    check_l1_optimal,
    check_training_loss,
)
from course_lib.lessons.speech_to_image.grid_sync import (
    MAX_OFFSET,
    MOUTH_BOX,
    best_offset,
    loudness,
    matched_and_mismatched,
    mismatched_curves,
    motion_energy,
    show_mouth_box,
    show_sync_curves,
    shuffled_pairings,
    sync_curve,
    sync_table,
)
from course_lib.lessons.speech_to_image.paper import DESIGN_VS_PAPER
from course_lib.lessons.speech_to_image.pictures import (
    show_generated,
    show_l1_optimum,
    show_one_voice_many_writers,
    show_task,
    show_your_l1_optimal,
)
from course_lib.lessons.speech_to_image.training import (
    CHANCE,
    LR,
    NOTEBOOK,
    SIZES,
    VARIANTS,
    Experiment,
    Sizes,
    capped_runs,
    generator_seeds,
    load,
    named_runs,
    train_generator,
    train_generators,
    train_judge,
)

__all__ = [
    "NOTEBOOK", "LR", "CHANCE", "Sizes", "SIZES", "VARIANTS", "Experiment", "load", "train_generator",
    "generator_seeds", "train_generators", "named_runs", "capped_runs", "train_judge", "TestPairs", "test_pairs",
    "generate", "evaluate_generated", "score_generators", "results_table", "judge_accuracy", "metrics", "ORDERINGS",
    "audio_encoder_reads", "l1_optimum_reads", "headline_decomposed",
    "show_task", "show_generated", "show_one_voice_many_writers", "show_l1_optimum", "MOUTH_BOX", "MAX_OFFSET",
    "motion_energy", "loudness", "sync_curve", "best_offset", "sync_table", "mismatched_curves",
    "matched_and_mismatched", "shuffled_pairings", "show_mouth_box", "show_sync_curves", "check_training_loss",
    "check_best_offset", "DESIGN_VS_PAPER", "data", "load_grid", "l1_optimal", "TARGETS_PER_DIGIT", "digit_targets",
    "per_digit", "judge_reads", "show_your_l1_optimal", "check_l1_optimal",
]
