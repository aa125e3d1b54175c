"""The course scoreboard (notebook 12): every pretext task of the course under one protocol, on MNIST and CIFAR-10.

Each notebook judged its method with its own protocol (its labels, its layers, its pooling, its baselines). Here every
method gets the same one, so that their numbers can stand in one table. In parts:

* ``datasets``  the board's sizes and ``load``: the profile's training images, a validation split carved from them (it
                chooses, the test set only grades), and test images; every method pretrains on the same images,
                without their labels;
* ``recipes``   how each row pretrains: by the recipe function of the notebook that teaches it (02, 04, 05, 06, 07,
                08, 11), called -- one recipe per pretext, never a copy of its constants -- at the board's width, batch
                size, steps and time cap, and named under "12_scoreboard/"; and the fences, **random init** (the
                weights every run starts from, trained by nothing; on CIFAR-10 also a random network that reads the
                lightness only, as colorization does) and **supervised** (02's supervised pretraining on
                the labels of every pretraining image: crop + flip on photos, 05's contrastive views on digits;
                up to ``sizes.fence_steps`` steps, stopped at its validation optimum);
* ``board``     the registry ``METHODS``: one entry per (method, dataset), and ``pretrain_all``;
* ``protocol``  ``score``: one backbone (``nets.Backbone``, the profile's width), frozen; every layer conv1 ... conv5
                average-pooled to at most ``sizes.probe_dim`` numbers (features computed once); at each label budget
                (MNIST 100 and 1,000 labels, CIFAR-10 1,000 and 5,000, a tenth per class) ``sizes.draws`` labelled
                subsets, the same for every row; a **linear probe** (``evaluate.probe_layers``) and a weighted
                **k-nearest-neighbour** classifier (``evaluate.knn_scores_by_k``), each at the layer (the kNN also
                at the k, of ``NEIGHBOURS``) that is best on the validation split at the smaller budget; mean ± std
                over the draws; random init at its best (``at_its_best``): read as initialised and with BatchNorm
                recalibrated on the unlabelled pretraining images, the better read on validation kept per read-out;
* ``tables``    one table and one label-efficiency plot per dataset; ``verdicts`` says, budget by budget, which rows
                beat random init, which lose to it and where the gap is inside the spread; ``reading``, ``ranks``;
* ``beside``    ``beside_the_notebooks``: each method's number here beside the one its own notebook recorded
                (``results/lab/*.json``), and what differs between the two protocols;
* ``claims``    the claim checks and the recorded metrics (``draw_scores``: each one's labelled draws);
                ``exercises``: the exercise checker;
* ``over_seeds`` the board over pretraining seeds 0, 1, 2 (``python -m course_lib.results seeds 12``): ``ORDERINGS``,
                every ordering the notebook states, for ``seeds.table`` (paired per-seed differences, a verdict), and
                ``ranks_over_seeds``, each row's rank averaged over the seeds beside the spread of its accuracy;
* ``fence_longer`` the photo fence given ten times the steps, on each seed (one command; ``fence_longer_table``).

Pretraining is shorter than in the notebooks (``sizes.mnist_steps`` / ``sizes.cifar_steps`` optimiser steps per
method, the same for every method of a dataset), so that the whole board fits one notebook's budget.
"""

from course_lib.lessons.scoreboard.beside import REPORTED, Reported, beside_the_notebooks
from course_lib.lessons.scoreboard.board import (
    METHODS,
    NOT_ON_THE_BOARD,
    Method,
    capped,
    methods,
    not_on_the_board,
    pretrain_all,
    registry,
)
from course_lib.lessons.scoreboard.claims import (
    check_claim_pretext_beats_random,
    check_claim_supervised_beats_random,
    check_every_pretext_beats_random,
    draw_scores,
    metric_name,
    metrics,
)
from course_lib.lessons.scoreboard.datasets import (
    BUDGETS,
    DATASETS,
    FENCES,
    NEIGHBOURS,
    NOTEBOOK,
    RANDOM,
    RANDOM_LIGHTNESS,
    RANDOM_ROWS,
    SIZES,
    SUPERVISED,
    Sizes,
    Split,
    load,
)
from course_lib.lessons.scoreboard.exercises import check_knn_vote
from course_lib.lessons.scoreboard.over_seeds import (
    ORDERINGS,
    against_random,
    beats,
    best,
    every_pretext_beats_random,
    ranks_over_seeds,
)
from course_lib.lessons.scoreboard.protocol import (
    AS_INITIALISED,
    READOUTS,
    RECALIBRATED,
    Row,
    accuracy,
    at_its_best,
    knn_read,
    score,
    score_all,
    spread,
)
from course_lib.lessons.scoreboard.recipes import (
    HALVES,
    MASKED,
    Reads,
    classes_from_sound,
    colorization,
    contrastive,
    correspondence,
    denoising_autoencoder,
    egomotion,
    infonce,
    own_sizes,
    random_init,
    random_lightness,
    relative_position,
    split_brain,
    supervised,
    together,
)
from course_lib.lessons.scoreboard.tables import (
    best_pretext,
    linear,
    plot,
    random_reads,
    ranks,
    reading,
    table,
    verdicts,
)

__all__ = [
    "REPORTED", "Reported", "beside_the_notebooks", "METHODS", "NOT_ON_THE_BOARD", "Method", "capped", "methods",
    "not_on_the_board", "pretrain_all", "registry", "check_claim_pretext_beats_random",
    "check_claim_supervised_beats_random", "check_every_pretext_beats_random", "metric_name", "metrics", "draw_scores",
    "BUDGETS",
    "DATASETS", "FENCES", "NEIGHBOURS", "NOTEBOOK", "RANDOM", "RANDOM_LIGHTNESS", "RANDOM_ROWS", "SIZES",
    "SUPERVISED", "Sizes", "Split", "load",
    "check_knn_vote", "AS_INITIALISED", "READOUTS", "RECALIBRATED", "Row",
    "at_its_best", "accuracy", "knn_read", "score", "score_all", "spread", "HALVES", "MASKED",
    "Reads", "classes_from_sound", "colorization", "contrastive", "correspondence", "denoising_autoencoder",
    "egomotion", "infonce", "own_sizes",
    "random_init", "random_lightness", "relative_position", "split_brain", "supervised", "together",
    "best_pretext", "linear", "plot", "random_reads",
    "ranks", "reading", "table", "verdicts", "ORDERINGS", "against_random", "beats", "best",
    "every_pretext_beats_random", "ranks_over_seeds", "fence_longer_table",
]


def __getattr__(name: str):
    # ``fence_longer`` is also a command (``python -m``): imported on first use, not above, so that
    # the command does not run a module its package has already imported
    if name in ("fence_longer_table",):
        from course_lib.lessons.scoreboard import fence_longer

        return getattr(fence_longer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
