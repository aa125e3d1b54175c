"""Split-brain autoencoders (notebook 07): cross-channel networks on CIFAR-10, probed layer by layer.

The method -- the two halves, their losses, the concatenation -- is ``course_lib.pretext.split_brain`` (Zhang,
Isola & Efros, CVPR 2017). This module runs the notebook's experiment:

* ``NETWORKS``      every network trained, by row name: the half-width halves L -> ab and ab -> L with each loss,
                    a second L -> ab half from other initial weights, the same two tasks at full width, a Lab -> Lab
                    autoencoder and a supervised network;
* ``train_all``     trains them all from unlabelled Lab images (the supervised one from labels), each from
                    its own seeded initial weights, for the same number of steps;
* ``backbones``     the rows of the table, as feature extractors that all read scaled Lab: random init, the
                    halves, the split-brain concatenations (two halves trained independently, side by side, as in
                    the paper), the paper's width control "Ensembled L→ab" (two L -> ab halves side by side), the
                    full-width single-task networks, the autoencoder, supervised;
* ``probe_rows``    the layer-wise linear probe of every row (conv1 ... conv5 pooled to equal size,
                    ``evaluate.probe_layers``): several labelled draws, each row's best layer chosen on a validation
                    split; ``evaluate.layer_table`` prints it, ``plot_layers`` draws it beside the paper's rows as on
                    the slide, ``head_to_head`` says layer by layer which of two rows wins, or that the gap is inside
                    the spread of the draws;
* ``ORDERINGS``     every ordering the notebook states, on its recorded metrics, for its table over pretraining
                    seeds (``course_lib.seeds``);
* the exercises:    ``check_split_brain_loss`` (the loss of both halves, the main one), ``train_with_your_loss`` and
                    ``show_your_run`` (a short run of fresh halves with the student's loss, each half's accuracy
                    against its chance level), ``check_concatenation`` (the optional one).

``SIZES`` holds the notebook's sizes for ``ci``, ``lab`` and ``full``. A module each: ``training`` (the sizes, the
rows, their training and feature extractors), ``table`` (the probes, the head-to-head verdicts, the paper's table,
the pictures, the metrics), ``claims`` (``ORDERINGS``) and ``exercises`` (the checkers and the short run).

Random-init convolutional features are a strong baseline at this scale; the table shows where the methods beat it.
"""

from course_lib.lessons.split_brain.claims import ORDERINGS
from course_lib.lessons.split_brain.exercises import (
    HALVES,
    LOSS_CASES,
    YOUR_RUN_STEPS,
    check_concatenation,
    check_split_brain_loss,
    commonest_bin,
    show_your_run,
    train_with_your_loss,
)
from course_lib.lessons.split_brain.table import (
    beats,
    feature_sizes,
    head_to_head,
    metrics,
    paper_table,
    plot_layers,
    probe_rows,
    show_task,
    wins,
)
from course_lib.lessons.split_brain.training import (
    COLOURS,
    KEYS,
    NETWORKS,
    NOTEBOOK,
    PAPER_ROWS,
    PROBE_DIM,
    RANDOM,
    SECOND_DRAW,
    SECOND_L_AB,
    SIZES,
    Network,
    Sizes,
    backbones,
    capped,
    in_channels,
    out_channels,
    train_all,
    train_network,
)

__all__ = [
    "COLOURS",
    "HALVES",
    "KEYS",
    "LOSS_CASES",
    "NETWORKS",
    "NOTEBOOK",
    "Network",
    "ORDERINGS",
    "PAPER_ROWS",
    "PROBE_DIM",
    "RANDOM",
    "SECOND_DRAW",
    "SECOND_L_AB",
    "SIZES",
    "Sizes",
    "YOUR_RUN_STEPS",
    "backbones",
    "beats",
    "capped",
    "check_concatenation",
    "check_split_brain_loss",
    "commonest_bin",
    "feature_sizes",
    "head_to_head",
    "in_channels",
    "metrics",
    "out_channels",
    "paper_table",
    "plot_layers",
    "probe_rows",
    "show_task",
    "show_your_run",
    "train_all",
    "train_network",
    "train_with_your_loss",
    "wins",
]
