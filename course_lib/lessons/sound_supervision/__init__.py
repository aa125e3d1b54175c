"""Sound as supervision (notebook 08): MNIST images paired with real spoken digits, as simulated videos.

The methods are ``course_lib.pretext.audio_visual``; this package runs the notebook's experiment, a part per module:

* ``videos``        the notebook's sizes; ``load``: MNIST images and FSDD recordings (split by take or by speaker),
                    spectrograms computed once as tensors (centred in the window, and start-aligned for the shortcut
                    lab), and the simulated videos: every image paired *once* with a recording of its digit
                    (``soundtrack``; ``videos_of`` makes them of any digit images: the scoreboard, 12, of its own);
                    ``towers``;
* ``training``      ``train_owens``: classes from sound, k-means on sound statistics, the cluster of each video's
                    soundtrack supervises the image tower (``train_classes_from_sound``: the same on any images and
                    recordings); ``train_avc``: audio-visual correspondence with either fusion (concatenation = L3-Net,
                    distance = AVE-Net) on the fixed videos, negatives = another video's soundtrack drawn at random;
                    and the shortcut run (positives' recordings padded differently from the negatives');
                    ``train_with_your_loss``: a short AVE-Net run on batches of different videos whose negatives and
                    loss come from a student's ``avc_loss`` (the exercise), ``show_your_run`` its test accuracy;
* ``reference``     ``train_supervised``: the reference that *is* told the digits, each tower a digit classifier;
* ``evaluation``    ``image_probes`` / ``audio_probes``: linear probes of digit labels at every stage of every frozen
                    tower, the layer chosen on validation data held out of the training data, the image probe with
                    ``LABELS_PER_CLASS`` labels per digit averaged over ``sizes.label_draws`` labelled draws;
                    ``retrieval_table``: cross-modal recall@1 audio -> image, by each model's own score and by the
                    cosine of the embeddings each model fuses; the shortcut and cluster tables; the metrics;
                    ``ORDERINGS``: the orderings the notebook states, for its table over pretraining seeds;
* ``pictures`` and ``exercises``: the pictures and the exercise checkers.
"""

from course_lib import data  # the tests replace data.load_mnist
from course_lib.audio import VALIDATION_SPEAKER
from course_lib.lessons.sound_supervision.evaluation import (
    LABELS_PER_CLASS,
    ORDERINGS,
    SHORTCUT_ROWS,
    audio_probe_sets,
    audio_probes,
    capped_runs,
    cluster_table,
    compare_rows,
    image_probe_sets,
    image_probes,
    metrics,
    probe_summary,
    retrieval_table,
    shortcut_probes,
    shortcut_table,
)
from course_lib.lessons.sound_supervision.exercises import check_avc_loss, check_distance_logit, check_recall_at_1
from course_lib.lessons.sound_supervision.pictures import _image_and_spectrogram, show_pairs, show_retrieval
from course_lib.lessons.sound_supervision.reference import SupervisedPair, train_supervised
from course_lib.lessons.sound_supervision.training import (
    TEST_PAIRS,
    YOUR_RUN_STEPS,
    avc_accuracy,
    make_model,
    pair_stream,
    show_your_run,
    train_avc,
    train_classes_from_sound,
    train_owens,
    train_with_your_loss,
)
from course_lib.lessons.sound_supervision.videos import (
    AUDIO_SEED,
    FUSIONS,
    NOTEBOOK,
    OWENS,
    OWENS_K,
    RANDOM,
    SIZES,
    SPLITS,
    SUPERVISED,
    VIDEO_SEED,
    Sizes,
    SoundsAndImages,
    load,
    soundtrack,
    split_fsdd,
    towers,
    videos_of,
)
from course_lib.pretext import audio_visual as av
from course_lib.pretext.audio_visual import avc_loss  # the course's, beside a student's own (the exercise)

__all__ = [
    "data", "av", "LABELS_PER_CLASS", "ORDERINGS", "SHORTCUT_ROWS", "audio_probe_sets", "audio_probes", "capped_runs",
    "cluster_table", "compare_rows", "image_probe_sets", "image_probes", "metrics", "probe_summary", "retrieval_table",
    "shortcut_probes", "shortcut_table", "check_avc_loss", "check_distance_logit", "check_recall_at_1",
    "_image_and_spectrogram",
    "show_pairs", "show_retrieval", "SupervisedPair", "train_supervised", "TEST_PAIRS", "avc_accuracy", "make_model",
    "pair_stream", "train_avc", "train_classes_from_sound", "train_owens", "AUDIO_SEED", "FUSIONS", "NOTEBOOK", "OWENS",
    "OWENS_K", "RANDOM", "SIZES", "SPLITS", "SUPERVISED", "VALIDATION_SPEAKER", "VIDEO_SEED", "Sizes",
    "SoundsAndImages", "load", "soundtrack", "split_fsdd", "towers", "videos_of", "YOUR_RUN_STEPS", "show_your_run",
    "train_with_your_loss", "avc_loss",
]
