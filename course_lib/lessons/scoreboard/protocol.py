"""The protocol, the same for every row: one frozen extractor, every layer conv1 ... conv5 average-pooled to at most
``sizes.probe_dim`` numbers (features computed once); at each label budget ``sizes.draws`` labelled subsets, the same
for every row; a linear probe and a weighted k-nearest-neighbour classifier, each at the layer (and the kNN at the
k) that is best on the validation split at the smallest budget; mean ± std over the draws."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from torch import nn

from course_lib import evaluate, nets, pretrained, train
from course_lib.lessons.scoreboard.datasets import BUDGETS, NEIGHBOURS, NOTEBOOK, RANDOM_ROWS, Sizes, Split

AS_INITIALISED, RECALIBRATED = evaluate.AS_INITIALISED, evaluate.RECALIBRATED


@dataclass
class Row:
    """One row under the protocol, at every budget: the linear probe (``evaluate.LayerScores``: every layer at the
    smallest budget, the chosen layer at the others) and the kNN classifier, and the layer each read-out chose on
    validation at the smallest budget (the kNN its k, ``knn_k``, too); ``knn_val`` the kNN's mean validation
    accuracy there. ``reads``: which weights each read-out used, for random init (``at_its_best``)."""

    linear: dict[int, evaluate.LayerScores]
    knn: dict[int, evaluate.Spread]
    knn_layer: str
    knn_k: int
    knn_val: float = float("nan")
    reads: dict[str, str] = field(default_factory=dict)
    read_val: dict[str, dict[str, float]] = field(default_factory=dict)  # {read: {read-out: validation accuracy}}
    val_labels: int = 0  # the labelled validation images the choices read: labels the budget does not count

    @property
    def linear_layer(self) -> str:
        return self.linear[min(self.linear)].best_layer

    @property
    def linear_val(self) -> float:
        """The linear probe's mean validation accuracy at its chosen layer, at the smallest budget."""
        return self.linear[min(self.linear)].best_val


def knn_read(features, labels, per_class: int, draws: int, seed: int, choices=None
             ) -> tuple[evaluate.Spread, str, int, float]:
    """kNN accuracy (%) on the test set at the layer and k (of ``choices``, (layer, k) pairs, default every layer
    with every k of ``NEIGHBOURS``) whose mean validation accuracy over the draws is best, that layer and k, and its
    mean validation accuracy (nan when one choice is given: nothing is chosen). The labelled subsets are those
    ``evaluate.probe_layers`` draws (seeds seed, seed + 1000, ...), so both read-outs see the same labelled images."""
    (train_f, val_f, test_f), (y, val_y, test_y) = features, labels
    subsets = [evaluate.few_labels(y, per_class, seed + 1000 * d) for d in range(draws)]

    def per_draw(layer: str, ks: tuple[int, ...], x, x_y) -> dict[int, list[float]]:
        by_draw = [evaluate.knn_scores_by_k(train_f[layer][idx], y[idx], [(x[layer], x_y)], ks) for idx in subsets]
        return {k: [scores[k][0] for scores in by_draw] for k in ks}

    choices = list(choices or [(layer, k) for layer in train_f for k in NEIGHBOURS])
    if len(choices) == 1:  # nothing to choose (a larger budget reads the choice of the smallest): no validation
        (layer, k), val = choices[0], float("nan")
    else:
        val = {(layer, k): float(np.mean(scores)) for layer in dict.fromkeys(lay for lay, _ in choices)
               for k, scores in per_draw(layer, tuple(k for lay, k in choices if lay == layer), val_f, val_y).items()}
        (layer, k), val = max(val.items(), key=lambda item: item[1])
    return evaluate.Spread.of(per_draw(layer, (k,), test_f, test_y)[k]), layer, k, val


def score(extractor: nn.Module, split: Split, sizes: Sizes, seed: int = 0, budgets: tuple[int, ...] | None = None,
          desc: str = "extractor", trained: train.Trained = train.always_train) -> Row:
    """The protocol for one frozen extractor: features of every layer once; at the smallest budget (of ``budgets``,
    default the dataset's ``BUDGETS``) every layer is read and each read-out keeps the layer that is best on
    validation; the larger budgets read that layer only (choosing again at every budget would cost a probe per
    layer and budget, and the choice rarely moves). The fitted probes are runs named "linear probe of <desc>",
    fitted through ``trained`` (``score_all`` loads shipped ones)."""
    features = [evaluate.stage_features(extractor, x, target_dim=sizes.probe_dim)
                for x in (split.x, split.val_x, split.test_x)]
    labels = (split.y.cpu(), split.val_y.cpu(), split.test_y.cpu())
    first, *rest = sorted(budgets or BUDGETS[split.dataset])

    def probe(budget: int, layers) -> evaluate.LayerScores:
        train_f, val_f, test_f = ({layer: f[layer] for layer in layers} for f in features)
        return evaluate.probe_layers(train_f, labels[0], val_f, labels[1], test_f, labels[2], per_class=budget // 10,
                                     draws=sizes.draws, seed=seed, desc=f"linear probe of {desc}",
                                     trained=trained)

    linear = {first: probe(first, nets.STAGES)}
    knn_first, knn_layer, knn_k, knn_val = knn_read(features, labels, first // 10, sizes.draws, seed)
    knn = {first: knn_first}
    for budget in rest:
        linear[budget] = probe(budget, [linear[first].best_layer])
        knn[budget] = knn_read(features, labels, budget // 10, sizes.draws, seed, [(knn_layer, knn_k)])[0]
    return Row(linear, knn, knn_layer, knn_k, knn_val, val_labels=len(split.val_y))


def at_its_best(as_initialised: Row, recalibrated: Row) -> Row:
    """Random init at its best: per read-out, the read of the random weights (as initialised, or with BatchNorm
    statistics recalibrated on the unlabelled pretraining images) that is better on validation at the smallest
    budget, as the layer is chosen. A baseline gets every choice its rivals get."""
    reads = {AS_INITIALISED: as_initialised, RECALIBRATED: recalibrated}
    linear = reads[evaluate.better_on_validation({read: row.linear_val for read, row in reads.items()})]
    knn = reads[evaluate.better_on_validation({read: row.knn_val for read, row in reads.items()})]
    return Row(linear.linear, knn.knn, knn.knn_layer, knn.knn_k, knn.knn_val,
               reads={"linear": RECALIBRATED if linear is recalibrated else AS_INITIALISED,
                      "kNN": RECALIBRATED if knn is recalibrated else AS_INITIALISED},
               read_val={read: {"linear": row.linear_val, "kNN": row.knn_val} for read, row in reads.items()},
               val_labels=as_initialised.val_labels)


def score_all(extractors: dict[str, nn.Module], split: Split, sizes: Sizes, seed: int = 0) -> dict[str, Row]:
    """``score`` of every row; random init (each of ``RANDOM_ROWS``) is read twice, as initialised and with its
    BatchNorm statistics recalibrated on the pretraining images (no labels; ``evaluate.random_reads``), and keeps the
    better read per read-out on validation (``at_its_best``)."""
    with pretrained.Runs(NOTEBOOK, f"{split.dataset} linear probes", sizes=sizes, seed=seed) as runs:
        def scored(name: str, extractor: nn.Module) -> Row:
            return score(extractor, split, sizes, seed, desc=f"{split.dataset}: {name}", trained=runs)

        def random_at_its_best(name: str, extractor: nn.Module) -> Row:
            plain, recalibrated = (scored(name if read == AS_INITIALISED else f"{name}, {read}", network)
                                   for read, network in evaluate.random_reads(extractor, split.x).items())
            return at_its_best(plain, recalibrated)

        return {name: random_at_its_best(name, extractor) if name in RANDOM_ROWS else scored(name, extractor)
                for name, extractor in extractors.items()}


READOUTS = ("linear", "kNN")


def accuracy(row: Row, budget: int, readout: str = "linear") -> evaluate.Spread:
    """A row's test accuracy at ``budget`` under one read-out ("linear" or "kNN"), at its layer chosen on validation."""
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
    return row.linear[budget].best if readout == "linear" else row.knn[budget]


def spread(row: Row, budget: int, readout: str) -> float:
    return accuracy(row, budget, readout).std
