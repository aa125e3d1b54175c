"""The evaluation protocol every notebook shares.

Features are taken from a frozen network and judged by what a simple classifier can read off them:

* ``linear_probe``  multinomial logistic regression (L2, like scikit-learn's) on standardised features (``LinearProbe``
  is the same as a module, so the fitted probes of a layer-wise table can be shipped like trained weights); its
  regularisation C is scikit-learn's default (``PROBE_C``) or, in ``probe_layers(Cs=PROBE_CS)``, chosen on
  validation with the layer;
* ``stage_features`` + ``layerwise_probe``: every stage conv1..conv5 pooled to equal size (one pass), as in the
  papers' layer-wise tables, and the linear probe at each; ``probe_layers`` / ``probe_table`` / ``layer_table``: one
  row per network, one column per layer, each row's best layer *chosen on a validation split* (never on the test
  set), and the test accuracy there as mean ± std over several labelled draws; ``random_reads`` +
  ``better_on_validation``: a random-init baseline read as initialised and with BatchNorm recalibrated, the better
  read kept on validation;
* ``Spread``  a mean that carries the spread of the draws it averages (``few_labels`` draws differ a lot);
* ``cluster_purity``  how well clusters found without labels agree with the classes;
* ``few_labels`` + ``label_efficiency``: accuracy against the number of labelled examples per class;
* ``finetune_curve``: the same for a whole network fine-tuned on few labels (``train.train_classifier``, then
  ``accuracy``);
* ``recall_at_k``  retrieval (e.g. cross-modal: audio queries, image gallery) judged by class agreement;
* ``mean_average_precision``  the same retrieval graded over the whole ranking (every relevant item's rank).
* ``knn_scores``  a weighted k-nearest-neighbour classifier on frozen features (nothing trained; ``knn_vote``);
  ``knn_scores_by_k`` the same for several k from one search (to choose k on validation).

Accuracies are percentages on the test set. Anything *chosen* (a layer, a method, a stopping point) is chosen on a
validation split carved from the training data (``split_validation``), so the test set only ever grades.

In five parts: ``spread`` (``Spread``, ``differ``, ``beats``, ``compare_text``), ``probes`` (``embed``, ``accuracy``,
the linear probe), ``labels`` (``split_validation``, few-label subsets, label-efficiency curves), ``layers`` (stage
features, layer-wise probes and their table) and ``retrieval`` (cluster purity, recall@k, mAP, detection mAP, kNN).
Everything is read from here: ``from course_lib import evaluate``, then ``evaluate.linear_probe(...)``.
"""

from course_lib.config import PROBE_CS  # the probe's C grid, shared by every profile's sizes
from course_lib.evaluate.labels import (
    few_labels,
    finetune_curve,
    label_efficiency,
    label_subsets,
    labels_needed,
    split_validation,
)
from course_lib.evaluate.layers import (
    AS_INITIALISED,
    AT_BEST,
    BEST_LAYER,
    PROBE_C_COLUMN,
    READ,
    RECALIBRATED,
    STD,
    VAL_LABELS,
    LayerScores,
    best_of,
    better_on_validation,
    fit_probes,
    layer_table,
    layerwise_probe,
    pooled_stage,
    probe_each,
    probe_layers,
    probe_network,
    probe_table,
    random_at_its_best,
    random_reads,
    read_of,
    stage_features,
)
from course_lib.evaluate.layers import _layer_probes as _layer_probes
from course_lib.evaluate.layers import _pooled_side as _pooled_side
from course_lib.evaluate.layers import _probe_history as _probe_history
from course_lib.evaluate.probes import (
    PROBE_C,
    PROBE_ITERATIONS,
    LinearProbe,
    accuracy,
    embed,
    linear_probe,
    probe_scores,
)
from course_lib.evaluate.probes import _n_classes as _n_classes
from course_lib.evaluate.probes import _network_of as _network_of
from course_lib.evaluate.retrieval import (
    cluster_purity,
    detection_map,
    knn_scores,
    knn_scores_by_k,
    knn_vote,
    mean_average_precision,
    recall_at_k,
)
from course_lib.evaluate.spread import Spread, beats, compare_text, differ, spread_of

__all__ = [
    "Spread", "spread_of", "differ", "beats", "compare_text", "split_validation", "embed", "accuracy",
    "PROBE_ITERATIONS", "PROBE_C", "PROBE_CS", "PROBE_C_COLUMN", "linear_probe", "LinearProbe", "probe_scores",
    "pooled_stage", "stage_features",
    "layerwise_probe", "LayerScores", "probe_layers", "fit_probes", "label_subsets", "probe_network", "BEST_LAYER",
    "VAL_LABELS", "AT_BEST", "STD", "layer_table", "best_of", "probe_table", "few_labels", "label_efficiency",
    "labels_needed",
    "finetune_curve", "cluster_purity", "recall_at_k", "mean_average_precision", "detection_map",
    "knn_scores", "knn_scores_by_k", "knn_vote", "AS_INITIALISED", "RECALIBRATED", "random_reads",
    "better_on_validation",
    "random_at_its_best", "read_of", "probe_each", "READ",
]
