"""The protocol, the same for every row: one frozen extractor, every layer conv1 ... conv5 average-pooled to at most
``sizes.probe_dim`` numbers (features computed once); at each label budget ``label_draws`` labelled subsets, the same
for every row; a linear probe and a weighted k-nearest-neighbour classifier, each at the layer that is best on the
validation split at the smallest budget; mean ± std over the draws."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn

from course_lib import evaluate, nets, pretrained, train
from course_lib.lessons.scoreboard.datasets import BUDGETS, NEIGHBOURS, NOTEBOOK, Sizes, Split


@dataclass
class Row:
    """One row under the protocol, at every budget: the linear probe (``evaluate.LayerScores``: every layer at the
    smallest budget, the chosen layer at the others) and the kNN classifier, and the layer each read-out chose on
    validation at the smallest budget."""

    linear: dict[int, evaluate.LayerScores]
    knn: dict[int, evaluate.Spread]
    knn_layer: str

    @property
    def linear_layer(self) -> str:
        return self.linear[min(self.linear)].best_layer


def knn_read(features, labels, per_class: int, draws: int, seed: int, layers=None) -> tuple[evaluate.Spread, str]:
    """kNN accuracy (%) on the test set at the layer (of ``layers``, default all) whose mean validation accuracy
    over the draws is best, and that layer. The labelled subsets are those ``evaluate.probe_layers`` draws (seeds
    seed, seed + 1000, ...), so both read-outs see the same labelled images."""
    (train_f, val_f, test_f), (y, val_y, test_y) = features, labels
    layers = list(layers or train_f)
    subsets = [evaluate.few_labels(y, per_class, seed + 1000 * d) for d in range(draws)]
    if len(layers) == 1:
        layer = layers[0]
    else:
        val = {layer: np.mean([evaluate.knn_scores(train_f[layer][idx], y[idx], [(val_f[layer], val_y)],
                                                   NEIGHBOURS)[0] for idx in subsets]) for layer in layers}
        layer = max(val, key=val.get)
    test = [evaluate.knn_scores(train_f[layer][idx], y[idx], [(test_f[layer], test_y)], NEIGHBOURS)[0]
            for idx in subsets]
    return evaluate.Spread.of(test), layer


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
                                     draws=sizes.label_draws, seed=seed, desc=f"linear probe of {desc}",
                                     trained=trained)

    linear = {first: probe(first, nets.STAGES)}
    knn_first, knn_layer = knn_read(features, labels, first // 10, sizes.label_draws, seed)
    knn = {first: knn_first}
    for budget in rest:
        linear[budget] = probe(budget, [linear[first].best_layer])
        knn[budget] = knn_read(features, labels, budget // 10, sizes.label_draws, seed, [knn_layer])[0]
    return Row(linear, knn, knn_layer)


def score_all(extractors: dict[str, nn.Module], split: Split, sizes: Sizes, seed: int = 0) -> dict[str, Row]:
    with pretrained.Runs(NOTEBOOK, f"{split.dataset} linear probes", sizes=sizes, seed=seed) as runs:
        return {name: score(extractor, split, sizes, seed, desc=f"{split.dataset}: {name}", trained=runs)
                for name, extractor in extractors.items()}


READOUTS = ("linear", "kNN")


def accuracy(row: Row, budget: int, readout: str = "linear") -> evaluate.Spread:
    """A row's test accuracy at ``budget`` under one read-out ("linear" or "kNN"), at its layer chosen on validation."""
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
    return row.linear[budget].best if readout == "linear" else row.knn[budget]


def spread(row: Row, budget: int, readout: str) -> float:
    return accuracy(row, budget, readout).std
