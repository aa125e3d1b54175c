"""Objects that sound (notebook 09): where in the picture is the digit that was spoken?

The method -- canvases, the AVOL-Net, the losses, pointing -- is ``course_lib.pretext.objects_that_sound``
(Arandjelović & Zisserman, ECCV 2018). This package runs the notebook's experiment:

* ``Sizes`` / ``SIZES``  how big the experiment is in each profile (``sizes = SIZES[session.profile.name]``);
* ``load``            MNIST digits (train / test) and real FSDD recordings, split by speaker (the test voice is never
                      heard in training), log-mel spectrograms standardised with training statistics, and the
                      simulated videos: every digit image with one recording of its digit, drawn once
                      (``av.simulate_videos``), so that a canvas sounds like the digit whose soundtrack it carries;
* ``video_batches``   the paper's setting: fresh canvases, each with the soundtrack of one of its digits, and nothing
                      else -- recording i belongs to canvas i and to no other canvas of the batch;
* ``labelled_batches``  the weakly labelled variant: the same canvases and recordings, *plus* the digits on each
                      canvas and the digit spoken, from which ``ots.all_pairs_loss`` reads its targets;
* ``train_label_free``  the AVOL-Net trained label-free: first on single-digit videos (08's setting, 28 x 28 frames),
                      then on the canvases, both with diagonal-only targets (``ots.video_loss``); the model after
                      each phase is kept, to see what training on the scenes changes;
* ``train_avol``      the AVOL-Net trained with the weak labels, with either sampling (``LOSSES``);
* ``test_scenes`` and ``pointing_table``  fixed test canvases (MNIST test digits) with the held-out voice, and pointing
                      accuracy of each model beside three baselines: the centre of the canvas, a random point, a
                      random digit;
* ``ORDERINGS``       every ordering the notebook states, on its recorded numbers (``seeds.table`` measures them on
                      pretraining seeds 0, 1 and 2);
* pictures, the "say a digit" demo (``widgets.say_a_digit``, one colour scale for every map) and the exercise checkers.

A module each: ``canvases`` (the sizes, ``load``, the scenes and their batches), ``training`` (``train_label_free``,
``train_avol``, ``heat_maps``), ``pointing`` (``pointing_table``, ``sampling_table``, ``metrics``, ``ORDERINGS``,
and ``pointing_with``: the test canvases evaluated through a student's ``point``, the exercise), ``pictures`` (the
pictures and ``demo``) and ``exercises`` (the exercise checkers).
"""

from course_lib import widgets  # the tests read lesson.widgets.Demo
from course_lib.lessons.objects_that_sound.canvases import (
    BASELINES,
    DIGITS,
    LABEL_FREE,
    LOSSES,
    METRICS,
    NOTEBOOK,
    SINGLE,
    SIZES,
    TEST_SPEAKERS,
    VIDEO_SEED,
    WEAK,
    Scenes,
    Sizes,
    SoundsAndDigits,
    labelled_batches,
    load,
    scenes,
    single_digit_videos,
    test_scenes,
    video_batches,
)
from course_lib.lessons.objects_that_sound.exercises import check_point, check_similarity_map, check_targets
from course_lib.lessons.objects_that_sound.pictures import (
    demo,
    recording_of,
    show_every_word,
    show_heat_maps,
    show_scenes,
    show_task,
    show_training,
    wav_bytes,
)
from course_lib.lessons.objects_that_sound.pointing import (
    COLUMN,
    CORRESPONDENCE,
    ORDERINGS,
    SAMPLINGS,
    correspondence_accuracy,
    metrics,
    pointing_table,
    pointing_with,
    rows_and_columns,
    sampling_table,
)
from course_lib.lessons.objects_that_sound.training import _fresh_model as _fresh_model
from course_lib.lessons.objects_that_sound.training import (
    capped_runs,
    heat_maps,
    single_digit_recall,
    train_avol,
    train_label_free,
)
from course_lib.pretext import audio_visual as av
from course_lib.pretext import objects_that_sound as ots

__all__ = [
    "NOTEBOOK", "DIGITS", "SINGLE", "LABEL_FREE", "WEAK", "LOSSES", "TEST_SPEAKERS", "VIDEO_SEED", "BASELINES",
    "METRICS", "Sizes", "SIZES", "SoundsAndDigits", "load", "Scenes", "scenes", "video_batches", "single_digit_videos",
    "labelled_batches", "test_scenes", "train_label_free", "train_avol", "capped_runs", "heat_maps",
    "single_digit_recall", "COLUMN", "CORRESPONDENCE", "SAMPLINGS", "ORDERINGS", "pointing_table",
    "correspondence_accuracy", "sampling_table", "metrics",
    "show_scenes", "show_task", "show_heat_maps", "recording_of", "show_every_word", "show_training", "wav_bytes",
    "demo", "check_targets", "check_similarity_map", "check_point", "pointing_with", "rows_and_columns", "av", "ots",
    "widgets",
]
