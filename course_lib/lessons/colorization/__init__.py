"""Colorization (notebook 06): train colorizers on CIFAR-10, ablate the loss and the temperature, probe, demo.

The method itself -- Lab, the quantised ab bins, soft encoding, rebalancing, the annealed mean, colourfulness -- is
``course_lib.pretext.colorization`` (Zhang, Isola & Efros, ECCV 2016). This module runs the notebook's experiment:

* ``ColourSpace.fit``  the Q ab bins and the rebalancing weights w, from the training images' colours;
* ``train``            one colorizer per loss (``METHODS``), all from the *same* initial weights, which are also the
                       random-init baseline of the transfer probe;
* ``colour_table``     the ablation panel in numbers, for the test images as each method colours them (and the
                       rebalanced classifier decoded at T = 1, 0.38, 0.1): how colourful (Hasler & Suesstrunk 2003)
                       and how right (the paper's AuC of the ab error, over all pixels and per colour);
* ``probe_table``      the transfer probe: a linear probe of CIFAR-10 labels on frozen features, layer by layer,
                       of the colorization backbone and of the same network at random init, each row's best layer
                       chosen on a validation split, mean ± std over labelled draws;
* ``ORDERINGS``        every ordering the notebook states, on its recorded metrics, for its table over pretraining
                       seeds (``course_lib.seeds``);
* pictures, the "Let's test it!" demo (``widgets.colorization_demo``);
* the exercise: the checker of the student's annealed mean, and ``show_your_decoding``, the trained colorizer's
  test photos decoded by it at every temperature of the panel.

A module each: ``training`` (the sizes, the colour space, the colorizers), ``evaluation`` (the ablation panel, the
transfer probe, the metrics, ``ORDERINGS``), ``pictures`` (the figures and the demo) and ``exercises``.
"""

from course_lib.lessons.colorization.evaluation import (
    AUC,
    AUC_PER_COLOUR,
    COLOURFUL,
    ORDERINGS,
    RANDOM_ROW,
    beats,
    colour_table,
    lightness_input,
    metrics,
    panel,
    probe_table,
    show_panel,
)
from course_lib.lessons.colorization.exercises import (
    ANNEALED_CASES,
    SMALL_T_CASE,
    annealed_mean,
    check_annealed_mean,
    decode_with,
    show_your_decoding,
)
from course_lib.lessons.colorization.pictures import (
    bundled_photos,
    colorize_any,
    demo,
    show_colour_space,
    show_photos,
    show_task,
    show_training,
)
from course_lib.lessons.colorization.training import (
    COLOURFULNESS_IMAGES,
    KEYS,
    METHODS,
    NOTEBOOK,
    SIZES,
    TEMPERATURES,
    ColourSpace,
    Sizes,
    capped,
    colorize,
    initial_backbone,
    loss_of,
    train_all,
    train_colorizer,
)

__all__ = [
    "ANNEALED_CASES",
    "AUC",
    "AUC_PER_COLOUR",
    "COLOURFUL",
    "COLOURFULNESS_IMAGES",
    "ColourSpace",
    "KEYS",
    "METHODS",
    "NOTEBOOK",
    "ORDERINGS",
    "RANDOM_ROW",
    "SIZES",
    "SMALL_T_CASE",
    "Sizes",
    "TEMPERATURES",
    "annealed_mean",
    "beats",
    "bundled_photos",
    "capped",
    "check_annealed_mean",
    "colorize",
    "colorize_any",
    "colour_table",
    "decode_with",
    "demo",
    "initial_backbone",
    "lightness_input",
    "loss_of",
    "metrics",
    "panel",
    "probe_table",
    "show_colour_space",
    "show_panel",
    "show_photos",
    "show_task",
    "show_training",
    "show_your_decoding",
    "train_all",
    "train_colorizer",
]
