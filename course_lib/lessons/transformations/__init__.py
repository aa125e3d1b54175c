"""Learning by transforming images (notebook 05): pretext tasks on unlabelled MNIST, judged at 100 ... 10,000 labels.

Two ways to learn from the unlabelled training digits, one backbone each:

* ``egomotion``    predict the transformation between two views (Agrawal, Carreira & Malik 2015);
* ``contrastive``  recognise the other view of the same image among the batch (SimCLR, Chen et al. 2020).

The protocol, the same for every row: a validation split is carved from the training digits (it chooses, the test set
only grades). Each backbone is frozen; its layers conv1 ... conv5 are average-pooled to the size of the code the
egomotion head reads (conv5 at 3 x 3), plus conv5 averaged globally; a linear probe is trained on ``label_draws``
labelled subsets of 100 images (10 per digit) at each C of ``evaluate.PROBE_CS``, and the layer and C with the best
*validation* accuracy are the row's for every label budget. Test error is the mean ± std over the draws. Two
baselines frame it: the same protocol on the frozen *random-init* backbone every pretext run starts from, and the
same network trained end to end *from scratch* on each labelled subset, with the augmentation the contrastive views
use, stopped early on the validation split.

The parts, a module each:

* ``pretraining``: the notebook's sizes, ``pretrain`` (one pretext task; the scoreboard, 12, calls it too),
  ``pretext_accuracy`` (each pretext's own accuracy beside its chance level), ``random_features``, the validation
  ``split``;
* ``probing``: the layer-wise probe at the smallest budget (its C chosen too), the chosen layer and C at every budget
  (``probe``);
* ``from_scratch``: the scratch baseline, stopped on validation (``EarlyStopping``, ``scratch_run``, ``scratch``),
  and by the same recipe a pretrained network fine-tuned end to end (``finetuned``);
* ``scratch_recipe``: whether that recipe is scratch's best: its learning rate and steps against their neighbours,
  chosen on validation (one command writes the sweep, ``scratch_recipe_table`` shows it);
* ``comparison``: ``benchmark``, the error tables, the rows beside the slide, the metrics, the claim and
  ``ORDERINGS`` (every ordering the notebook states, for ``course_lib.seeds``);
* ``exercises``: the exercise checkers; ``pictures``: what each pretext task asks.
"""

from course_lib import evaluate, train  # the tests patch evaluate.accuracy and read train.History here
from course_lib.lessons.transformations.comparison import (
    CHANCE_ERROR,
    FINETUNED,
    ORDERINGS,
    Benchmark,
    benchmark,
    best_method,
    check_claim,
    compare_errors,
    contrastive_on_every_seed,
    error_table,
    headline_metrics,
    nt_xent_code,
    slide_rows,
)
from course_lib.lessons.transformations.exercises import check_nt_xent, check_rotation_bins
from course_lib.lessons.transformations.from_scratch import (
    EarlyStopping,
    ScratchRun,
    finetuned,
    scratch,
    scratch_errors,
    scratch_run,
    show_scratch_curves,
)
from course_lib.lessons.transformations.pictures import show_pretexts
from course_lib.lessons.transformations.pretraining import (
    GLOBAL,
    METHODS,
    NOTEBOOK,
    ONE_DRAW_FROM,
    RANDOM,
    SCRATCH,
    SIZES,
    YOUR_RUN_STEPS,
    Sizes,
    capped_runs,
    pretext_accuracy,
    pretext_model,
    pretrain,
    random_features,
    show_your_run,
    split,
    train_with_your_loss,
)
from course_lib.lessons.transformations.probing import (
    Probed,
    as_error,
    draws_at,
    labelled_subset,
    layer_errors,
    layer_features,
    probe,
)
from course_lib.pretext.transformations import nt_xent  # the course's, beside a student's own (the exercise)

__all__ = [
    "evaluate", "train", "CHANCE_ERROR", "FINETUNED", "ORDERINGS", "Benchmark", "benchmark", "best_method",
    "check_claim", "compare_errors", "contrastive_on_every_seed", "error_table", "headline_metrics", "nt_xent_code",
    "slide_rows", "check_nt_xent",
    "check_rotation_bins", "EarlyStopping", "ScratchRun", "finetuned", "scratch", "scratch_errors", "scratch_run",
    "show_scratch_curves", "show_pretexts", "scratch_recipe_table",
    "GLOBAL", "METHODS", "NOTEBOOK", "ONE_DRAW_FROM", "RANDOM", "SCRATCH",
    "SIZES", "YOUR_RUN_STEPS", "Sizes", "capped_runs", "pretext_accuracy",
    "pretext_model", "pretrain", "random_features", "show_your_run",
    "split", "train_with_your_loss", "Probed", "as_error", "draws_at", "labelled_subset", "layer_errors",
    "layer_features", "probe", "nt_xent",
]


def __getattr__(name: str):
    # ``scratch_recipe`` is also a command (``python -m``): imported on first use, not above, so that
    # the command does not run a module its package has already imported
    if name in ("scratch_recipe_table",):
        from course_lib.lessons.transformations import scratch_recipe

        return getattr(scratch_recipe, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
