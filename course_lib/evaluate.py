"""The evaluation protocol every notebook shares.

Features are taken from a frozen network and judged by what a simple classifier can read off them:

* ``linear_probe``  multinomial logistic regression (L2, like scikit-learn's) on standardised features (``LinearProbe``
  is the same as a module, so the fitted probes of a layer-wise table can be shipped like trained weights);
* ``stage_features`` + ``layerwise_probe``: every stage conv1..conv5 pooled to equal size (one pass), as in the
  papers' layer-wise tables, and the linear probe at each; ``probe_layers`` / ``probe_table`` / ``layer_table``: one
  row per network, one column per layer, each row's best layer *chosen on a validation split* (never on the test
  set), and the test accuracy there as mean ± std over several labelled draws;
* ``Spread``  a mean that carries the spread of the draws it averages (``few_labels`` draws differ a lot);
* ``cluster_purity``  how well clusters found without labels agree with the classes;
* ``few_labels`` + ``label_efficiency``: accuracy against the number of labelled examples per class;
* fine-tuning a whole network on few labels is ``train.train_classifier`` followed by ``accuracy``;
* ``recall_at_k``  retrieval (e.g. cross-modal: audio queries, image gallery) judged by class agreement;
* ``mean_average_precision``  the same retrieval graded over the whole ranking (every relevant item's rank).
* ``knn_scores``  a weighted k-nearest-neighbour classifier on frozen features (nothing trained; ``knn_vote``).

Accuracies are percentages on the test set. Anything *chosen* (a layer, a method, a stopping point) is chosen on a
validation split carved from the training data (``split_validation``), so the test set only ever grades.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.metrics.cluster import contingency_matrix
from torch import nn

from course_lib import checkpoints
from course_lib.nets import STAGES, Backbone
from course_lib.train import History, train_classifier


class Spread(float):
    """The mean of several draws (a float, so it sorts, compares and formats as the mean) that keeps their spread.

    ``Spread.of([71.0, 73.5, 72.1])`` is 72.2 with ``.std`` 1.0 (population std) and ``.draws`` 3; ``.text()`` is
    "72.2 ± 1.0". With few labels, *which* examples are labelled moves accuracy by points, so a number without its
    spread cannot say whether two methods differ.
    """

    std: float
    draws: int

    def __new__(cls, mean: float, std: float = 0.0, draws: int = 1) -> Spread:
        value = super().__new__(cls, mean)
        value.std, value.draws = float(std), int(draws)
        return value

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        values = [float(v) for v in values]
        return cls(float(np.mean(values)), float(np.std(values)), len(values))

    def text(self, digits: int = 1) -> str:
        return f"{float(self):.{digits}f} ± {self.std:.{digits}f}" if self.draws > 1 else f"{float(self):.{digits}f}"

    def __repr__(self) -> str:
        return f"Spread({float(self):.4g} ± {self.std:.2g}, draws={self.draws})"


def spread_of(value: float) -> float:
    """The std over draws of a ``Spread`` (0 for a plain number: one draw has no spread)."""
    return value.std if isinstance(value, Spread) else 0.0  # numpy floats have a .std method, not a spread


def differ(a: float, b: float) -> bool:
    """Whether two means differ by more than their spreads (|a - b| > std_a + std_b): otherwise "no difference"."""
    return abs(float(a) - float(b)) > spread_of(a) + spread_of(b)


def beats(a: float, b: float) -> bool:
    """``a`` is higher than ``b`` by more than the spread of their draws (``differ``)."""
    return a > b and differ(a, b)


def compare_text(a: float, b: float, names: tuple[str, str] = ("a", "b"), unit: str = " %",
                 lower_is_better: bool = False) -> str:
    """"a 72.2 ± 1.0 % vs b 70.1 ± 0.8 %: a higher" (or "a lower" for errors, ``lower_is_better``), or "...: no
    difference at this scale" when the gap is inside the spread of the draws."""
    def show(x):
        return x.text() if isinstance(x, Spread) else f"{float(x):.1f}"

    head = f"{names[0]} {show(a)}{unit} vs {names[1]} {show(b)}{unit}"
    if not differ(a, b):
        return f"{head}: no difference at this scale (the gap is inside the spread)"
    if lower_is_better:
        return f"{head}: {names[0] if a < b else names[1]} lower"
    return f"{head}: {names[0] if a > b else names[1]} higher"


def split_validation(x: torch.Tensor, y: torch.Tensor, size: int, seed: int = 0):
    """``((x_train, y_train), (x_val, y_val))``: ``size`` random examples held out of the training data to choose
    layers, methods and stopping points on, so that the test set is never used to choose anything."""
    if not 0 < size < len(x):
        raise ValueError(f"a validation split of {size} needs more than {size} training examples (got {len(x)})")
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed)).to(x.device)
    train, val = order[size:], order[:size]
    return (x[train], y[train.to(y.device)]), (x[val], y[val.to(y.device)])


def _network_of(fn: Callable) -> nn.Module | None:
    """The network behind a feature extractor: the module itself, or the one a bound method belongs to."""
    owner = fn if isinstance(fn, nn.Module) else getattr(fn, "__self__", None)
    return owner if isinstance(owner, nn.Module) else None


@torch.no_grad()
def embed(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """Apply a frozen feature extractor to ``x`` in chunks; flat features as a float tensor on the CPU.

    The network (``fn`` itself, or the one a bound method such as ``backbone.embed`` belongs to) is put in eval mode
    first: BatchNorm then normalises with its running statistics, so an image's features do not depend on its
    batch-mates, train and test images are normalised alike, and the statistics are left as they were. A plain
    function (a lambda around a network) must be handed a network that is already in eval mode.
    """
    network = _network_of(fn)
    if network is not None:
        network.eval()
    return torch.cat([fn(x[i:i + batch_size]).flatten(1).float().cpu() for i in range(0, len(x), batch_size)])


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 500) -> float:
    """Top-1 accuracy (%) of a classifier."""
    predictions = embed(model, x, batch_size).argmax(1)
    return 100.0 * (predictions == y.cpu()).float().mean().item()


PROBE_ITERATIONS = 300  # the L-BFGS budget of a probe (on our features it converges in 150-250 iterations)


def linear_probe(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor,
                 C: float = 1.0, max_iter: int = PROBE_ITERATIONS) -> float:
    """Accuracy (%) of L2-regularised multinomial logistic regression trained on frozen features.

    Same objective as ``sklearn.linear_model.LogisticRegression(C=C)``: sum of cross-entropies + ||W||^2 / 2C,
    solved with L-BFGS, but in torch so that it runs where the features are (a GPU too).
    """
    return probe_scores(train_x, train_y, [(test_x, test_y)], C, max_iter)[0]


class LinearProbe(nn.Module):
    """``linear_probe`` as a module: standardise with the training features' statistics, then one linear layer.

    A module, so a fitted probe can be kept and loaded like any trained network (``probe_layers``' ``desc``); only
    the linear layer is kept: the statistics are those of the training features, which a loaded probe is given
    again (``standardise_as``)."""

    def __init__(self, dim: int, n_classes: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim), persistent=False)
        self.register_buffer("std", torch.ones(dim), persistent=False)
        self.linear = nn.Linear(dim, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear((x - self.mean) / self.std)

    def standardise_as(self, x: torch.Tensor) -> LinearProbe:
        """Standardise inputs with the statistics of the training features ``x`` (and only theirs)."""
        self.mean, self.std = x.mean(0), x.std(0, unbiased=False) + 1e-6
        return self

    def fit(self, x: torch.Tensor, y: torch.Tensor, C: float = 1.0, max_iter: int = PROBE_ITERATIONS
            ) -> LinearProbe:
        a = (x - self.standardise_as(x).mean) / self.std
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        optimizer = torch.optim.LBFGS(self.linear.parameters(), max_iter=max_iter, line_search_fn="strong_wolfe",
                                      tolerance_grad=1e-6, tolerance_change=1e-9)
        # the sklearn objective divided by (n C): mean cross-entropy + ||W||^2 / (2 n C); the bias is not penalised
        penalty = 1.0 / (2 * len(a) * C)

        def objective():
            optimizer.zero_grad()
            loss = F.cross_entropy(self.linear(a), y) + penalty * self.linear.weight.pow(2).sum()
            loss.backward()
            return loss

        with torch.enable_grad():
            optimizer.step(objective)
        return self

    @torch.no_grad()
    def accuracy(self, x: torch.Tensor, y: torch.Tensor) -> float:
        return 100.0 * (self(x).argmax(1) == y).float().mean().item()


def _n_classes(*labels: torch.Tensor) -> int:
    return int(max(y.max() for y in labels)) + 1


def probe_scores(train_x: torch.Tensor, train_y: torch.Tensor, graded: list[tuple[torch.Tensor, torch.Tensor]],
                 C: float = 1.0, max_iter: int = PROBE_ITERATIONS) -> list[float]:
    """``linear_probe`` trained once and graded on several sets (e.g. validation and test): one accuracy (%) each."""
    probe = LinearProbe(train_x.shape[1], _n_classes(train_y, *[y for _, y in graded])).to(train_x.device)
    probe.fit(train_x, train_y, C, max_iter)
    return [probe.accuracy(x, y) for x, y in graded]


def _pooled_side(backbone: Backbone, stage: str, target_dim: int) -> int:
    """The side of the average-pooled map that keeps a stage at no more than ``target_dim`` numbers."""
    return max(1, int(math.sqrt(target_dim / backbone.channels[stage])))


def pooled_stage(backbone: Backbone, stage: str, target_dim: int = 2048) -> Callable:
    """The features of one stage, average-pooled to at most ``target_dim`` numbers so stages compare fairly."""
    side = _pooled_side(backbone, stage, target_dim)

    def features(x: torch.Tensor) -> torch.Tensor:
        fmap = backbone(x, stage)
        return F.adaptive_avg_pool2d(fmap, min(side, fmap.shape[-1]))

    return features


@torch.no_grad()
def stage_features(backbone: Backbone, x: torch.Tensor, stages: Iterable[str] = STAGES, target_dim: int = 2048,
                   batch_size: int = 500) -> dict[str, torch.Tensor]:
    """{stage: features on the CPU}, each pooled as ``pooled_stage`` pools it, from one pass through the network."""
    backbone.eval()
    stages = list(stages)
    sides = {stage: _pooled_side(backbone, stage, target_dim) for stage in stages}
    parts: dict[str, list[torch.Tensor]] = {stage: [] for stage in stages}
    for start in range(0, len(x), batch_size):
        for stage, fmap in backbone.features(x[start:start + batch_size], stages).items():
            pooled = F.adaptive_avg_pool2d(fmap, min(sides[stage], fmap.shape[-1]))
            parts[stage].append(pooled.flatten(1).float().cpu())
    return {stage: torch.cat(chunks) for stage, chunks in parts.items()}


def layerwise_probe(backbone: Backbone, train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor,
                    test_y: torch.Tensor, stages: Iterable[str] = STAGES, target_dim: int = 2048,
                    **probe_options) -> dict[str, float]:
    """Linear-probe accuracy (%) at every named stage of a frozen backbone."""
    train_f = stage_features(backbone, train_x, stages, target_dim)
    test_f = stage_features(backbone, test_x, stages, target_dim)
    return {stage: linear_probe(train_f[stage], train_y.cpu(), test_f[stage], test_y.cpu(), **probe_options)
            for stage in train_f}


@dataclass
class LayerScores:
    """One network's layer-wise probe: test accuracy per layer (mean ± std over labelled draws) and the validation
    accuracy per layer (mean over the same draws) that picks its best layer."""

    test: dict[str, Spread]
    val: dict[str, float]

    @property
    def best_layer(self) -> str:
        return max(self.val, key=self.val.get)

    @property
    def best(self) -> Spread:
        """Test accuracy at the layer chosen on validation data (not the row's maximum on the test set)."""
        return self.test[self.best_layer]


def probe_layers(train: Mapping[str, torch.Tensor], train_y: torch.Tensor, val: Mapping[str, torch.Tensor],
                 val_y: torch.Tensor, test: Mapping[str, torch.Tensor], test_y: torch.Tensor, *,
                 per_class: int | None = None, draws: int = 1, seed: int = 0,
                 subsets: list[torch.Tensor] | None = None, desc: str | None = None) -> LayerScores:
    """Linear probe at every layer of precomputed features ``{layer: features}``, graded on validation and test.

    With ``per_class``, each of ``draws`` probes is trained on ``few_labels`` of the training features (seeds
    ``seed``, ``seed + 1000``, ...); without, on all of them (then one draw is all there is). ``subsets`` gives the
    draws' indices instead (``probe_network`` does, having embedded only the images they use). With ``desc`` (unique
    in its notebook), the fitted probes are a checkpointed run like a ``train.fit``: with COURSE_PRETRAINED=1 they
    are loaded, not solved again (the solver is most of a layer-wise table's time).
    """
    train_y, val_y, test_y = train_y.cpu(), val_y.cpu(), test_y.cpu()
    subsets = label_subsets(train_y, per_class, draws, seed) if subsets is None else subsets
    probes = _layer_probes(train, _n_classes(train_y, val_y, test_y), len(subsets))
    if desc is not None:  # the budget is part of the name: probes fitted on other labels must not load here
        desc = f"{desc}, {len(subsets[0])} labels x {len(subsets)} draws"
    loaded = desc is not None and checkpoints.restore(probes, desc, PROBE_ITERATIONS) is not None
    started = time.perf_counter()
    val_scores: dict[str, list[float]] = {layer: [] for layer in train}
    test_scores: dict[str, list[float]] = {layer: [] for layer in train}
    for draw, idx in enumerate(subsets):
        for layer in train:
            probe = probes[layer][draw].to(train[layer].device)
            if loaded:
                probe.standardise_as(train[layer][idx])
            else:
                probe.fit(train[layer][idx], train_y[idx], max_iter=PROBE_ITERATIONS)
            val_scores[layer].append(probe.accuracy(val[layer], val_y))
            test_scores[layer].append(probe.accuracy(test[layer], test_y))
    if desc is not None and not loaded:
        checkpoints.keep(probes.cpu(), desc, _probe_history(probes, time.perf_counter() - started),
                         PROBE_ITERATIONS)
    return LayerScores(test={layer: Spread.of(s) for layer, s in test_scores.items()},
                       val={layer: float(np.mean(s)) for layer, s in val_scores.items()})


def _layer_probes(train: Mapping[str, torch.Tensor], n_classes: int, draws: int) -> nn.ModuleDict:
    """One unfitted ``LinearProbe`` per layer and draw: {layer: [draw 0, draw 1, ...]}."""
    return nn.ModuleDict({layer: nn.ModuleList([LinearProbe(f.shape[1], n_classes) for _ in range(draws)])
                          for layer, f in train.items()})


def _probe_history(probes: nn.ModuleDict, seconds: float) -> History:
    """What a checkpoint of probes says of how they were made: how many, and the time the solver took."""
    history = History(stopped_by="L-BFGS converged or stopped at its budget")
    history.log(PROBE_ITERATIONS, seconds, {"probes": sum(len(draws) for draws in probes.values())})
    return history


def label_subsets(y: torch.Tensor, per_class: int | None, draws: int = 1, seed: int = 0) -> list[torch.Tensor]:
    """The labelled subsets of a few-label protocol: draw d is ``few_labels(y, per_class, seed + 1000 d)``;
    without ``per_class``, all of ``y`` (one draw)."""
    if not per_class:
        return [torch.arange(len(y))]
    return [few_labels(y.cpu(), per_class, seed + 1000 * d) for d in range(draws)]


def probe_network(network: Backbone, labelled: tuple[torch.Tensor, torch.Tensor],
                  validation: tuple[torch.Tensor, torch.Tensor], test: tuple[torch.Tensor, torch.Tensor],
                  stages: Iterable[str] = STAGES, target_dim: int = 2048, *, per_class: int | None = None,
                  draws: int = 1, seed: int = 0, desc: str | None = None) -> LayerScores:
    """``probe_layers`` of one frozen network at ``stages`` (each pooled to about ``target_dim`` numbers). Only the
    labelled images some draw uses go through the network: with few labels that is a fraction of them. ``desc``
    names the fitted probes as a checkpointed run (``probe_layers``)."""
    (x, y), (x_val, y_val), (x_test, y_test) = labelled, validation, test
    subsets = label_subsets(y.cpu(), per_class, draws, seed)
    used = torch.cat(subsets).unique()  # sorted, so each draw's indices map into it by searchsorted
    train, val, test_features = (stage_features(network, images, stages, target_dim)
                                 for images in (x[used.to(x.device)], x_val, x_test))
    return probe_layers(train, y.cpu()[used], val, y_val, test_features, y_test,
                        subsets=[torch.searchsorted(used, s) for s in subsets], desc=desc)


BEST_LAYER, AT_BEST, STD = "best layer (val)", "at best layer", "± (draws)"


def layer_table(scores: Mapping[str, LayerScores]) -> pd.DataFrame:
    """{network: LayerScores} as the papers' table: one row per network, one column per layer (mean test accuracy),
    then the layer chosen on validation data, the test accuracy there, and its std over the labelled draws."""
    table = pd.DataFrame({name: {layer: float(v) for layer, v in s.test.items()} for name, s in scores.items()}).T
    table[BEST_LAYER] = [s.best_layer for s in scores.values()]
    table[AT_BEST] = [float(s.best) for s in scores.values()]
    table[STD] = [s.best.std for s in scores.values()]
    # how many draws each row averages, so best_of can rebuild its Spread (a std of 0 over 3 draws is still 3 draws)
    table.attrs["draws"] = {name: s.best.draws for name, s in scores.items()}
    return table


def best_of(table: pd.DataFrame, row: str) -> Spread:
    """A row's test accuracy at its validation-chosen layer, as a ``Spread`` (for claims and ``compare_text``)."""
    draws = table.attrs.get("draws", {}).get(row, 2 if table.loc[row, STD] > 0 else 1)
    return Spread(table.loc[row, AT_BEST], table.loc[row, STD], draws)


def probe_table(backbones: dict[str, Backbone], labelled: tuple[torch.Tensor, torch.Tensor],
                validation: tuple[torch.Tensor, torch.Tensor], test: tuple[torch.Tensor, torch.Tensor],
                stages: Iterable[str] = STAGES, target_dim: int = 2048, *, per_class: int | None = None,
                draws: int = 1, seed: int = 0, desc: str | None = None) -> pd.DataFrame:
    """The layer-wise table of the papers: a linear probe of every frozen backbone (rows) at every stage, the best
    stage chosen on ``validation`` (held out of the training data), mean ± std over ``draws`` labelled subsets of
    ``per_class`` examples per class drawn from ``labelled``. With ``desc``, each row's probes are a checkpointed
    run named "<desc>: <row>" (loaded with COURSE_PRETRAINED=1)."""
    with checkpoints.one_line_for("linear probes"):
        return layer_table({name: probe_network(backbone, labelled, validation, test, list(stages), target_dim,
                                                per_class=per_class, draws=draws, seed=seed,
                                                desc=desc and f"{desc}: {name}")
                            for name, backbone in backbones.items()})


def few_labels(y: torch.Tensor, per_class: int, seed: int = 0) -> torch.Tensor:
    """Indices of ``per_class`` randomly chosen examples of every class (the labelled subset of a run)."""
    generator = torch.Generator().manual_seed(seed)
    y = y.cpu()
    chosen = []
    for c in torch.unique(y):
        members = torch.nonzero(y == c).flatten()
        if len(members) < per_class:
            raise ValueError(f"class {int(c)} has only {len(members)} examples, {per_class} asked for")
        chosen.append(members[torch.randperm(len(members), generator=generator)[:per_class]])
    return torch.cat(chosen).sort().values


def label_efficiency(run: Callable[[torch.Tensor], float], y: torch.Tensor, labels_per_class: Iterable[int],
                     seed: int = 0, draws: int = 1) -> dict[int, Spread]:
    """{labels per class: accuracy}, where ``run(indices)`` trains on those labelled examples and tests.

    With few labels, *which* examples are labelled matters as much as the method: ``draws`` > 1 averages
    over that many labelled subsets (seeds ``seed``, ``seed + 1000``, ...); each point is a ``Spread`` (mean, std).
    """
    return {k: Spread.of(run(few_labels(y, k, seed + 1000 * d)) for d in range(draws)) for k in labels_per_class}


def labels_needed(curve: dict[int, float], accuracy: float) -> float:
    """Labels per class a method needs to reach ``accuracy`` (log-linear interpolation; inf if never)."""
    points = sorted(curve.items())
    if points[0][1] >= accuracy:
        return float(points[0][0])
    for (k0, a0), (k1, a1) in zip(points, points[1:], strict=False):
        if a1 >= accuracy:
            t = (accuracy - a0) / (a1 - a0)
            return float(np.exp(np.log(k0) + t * (np.log(k1) - np.log(k0))))
    return math.inf


def probe_curve(features: Callable, train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor,
                test_y: torch.Tensor, labels_per_class: Iterable[int], seed: int = 0, draws: int = 1
                ) -> dict[int, Spread]:
    """Label efficiency of frozen features: embed once, then a linear probe per labelled subset."""
    train_f, test_f = embed(features, train_x), embed(features, test_x)
    train_y, test_y = train_y.cpu(), test_y.cpu()
    return label_efficiency(lambda idx: linear_probe(train_f[idx], train_y[idx], test_f, test_y),
                            train_y, labels_per_class, seed, draws)


def finetune_curve(make_model: Callable[[], nn.Module], train_x: torch.Tensor, train_y: torch.Tensor,
                   test_x: torch.Tensor, test_y: torch.Tensor, labels_per_class: Iterable[int], *, steps: int,
                   augment: Callable | None = None, seed: int = 0, draws: int = 1, desc: str = "fine-tuning",
                   **fit_options) -> dict[int, Spread]:
    """Label efficiency of training a whole network (a fresh ``make_model()`` per point) on few labels.

    Each run is named "<desc>, <k> per class, draw <d>": its own checkpoint (``course_lib.checkpoints``).
    """
    def run(per_class: int, draw: int) -> float:
        idx = few_labels(train_y, per_class, seed + 1000 * draw)  # the subsets label_efficiency draws
        model = make_model().to(train_x.device)
        train_classifier(model, train_x[idx.to(train_x.device)], train_y[idx.to(train_y.device)], steps=steps,
                         augment=augment, seed=seed, progress=False,
                         desc=f"{desc}, {per_class} per class, draw {draw + 1}", **fit_options)
        return accuracy(model, test_x, test_y)

    with checkpoints.one_line_for(f"{desc!r} fine-tuned"):
        return {k: Spread.of([run(k, d) for d in range(draws)]) for k in labels_per_class}


def cluster_purity(clusters, truth) -> float:
    """The fraction of items whose cluster's most common class is their own (1 = every cluster is one class).

    The classes only grade the clusters, never make them. A random grouping of the same sizes scores about the
    share of the commonest class.
    """
    counts = contingency_matrix(np.asarray(truth), np.asarray(clusters))  # classes x clusters
    return float(counts.max(axis=0).sum() / counts.sum())


def recall_at_k(scores: torch.Tensor, query_labels: torch.Tensor, gallery_labels: torch.Tensor, k: int = 1) -> float:
    """Retrieval recall@k: the fraction of queries with an item of their own class among their ``k`` best-scored
    gallery items. ``scores`` is queries x gallery, higher = more alike (a similarity, a negative distance, or a
    model's score of every pair); e.g. audio queries against an image gallery for cross-modal retrieval.

    A random ranking gets about sum_c q_c g_c at k = 1 (q, g: the class frequencies of queries and gallery).
    """
    if scores.shape != (len(query_labels), len(gallery_labels)):
        raise ValueError(f"scores must be {len(query_labels)} queries x {len(gallery_labels)} gallery items, "
                         f"got shape {tuple(scores.shape)}")
    top = scores.topk(min(k, scores.shape[1]), dim=1).indices  # queries x k
    hits = gallery_labels.to(top.device)[top] == query_labels.to(top.device)[:, None]
    return hits.any(dim=1).float().mean().item()


def mean_average_precision(scores: torch.Tensor, query_labels: torch.Tensor, gallery_labels: torch.Tensor,
                           exclude: torch.Tensor | None = None) -> float:
    """Retrieval mean average precision: for each query, the average over its relevant gallery items (those of its
    class) of the precision of the ranking down to that item; then the mean over queries (queries with no relevant
    item are left out). Unlike recall@k it grades the whole ranking, not only its top. ``scores`` is queries x
    gallery, higher = more alike; ``exclude`` (a boolean matrix of the same shape) leaves pairs out of the ranking,
    e.g. each query itself when a modality searches its own items. Per query it is scikit-learn's
    ``average_precision_score`` (no ties); torchmetrics' ``retrieval_average_precision`` (1.9) is not used because it
    counts an item scored <= 0 as not relevant, and cosines are often negative.
    """
    if scores.shape != (len(query_labels), len(gallery_labels)):
        raise ValueError(f"scores must be {len(query_labels)} queries x {len(gallery_labels)} gallery items, "
                         f"got shape {tuple(scores.shape)}")
    scores = scores.float().cpu()
    relevant = gallery_labels.cpu()[None, :] == query_labels.cpu()[:, None]
    if exclude is not None:
        exclude = exclude.cpu()
        scores = scores.masked_fill(exclude, -math.inf)
        relevant = relevant & ~exclude
    order = scores.argsort(dim=1, descending=True, stable=True)
    hits = relevant.gather(1, order).float()  # queries x gallery, in ranked order
    precision = hits.cumsum(1) / torch.arange(1, hits.shape[1] + 1)
    n_relevant = hits.sum(1)
    present = n_relevant > 0
    ap = (precision * hits).sum(1)[present] / n_relevant[present]
    return ap.mean().item()


def detection_map(predictions: list[dict[str, torch.Tensor]], targets: list[dict[str, torch.Tensor]],
                  iou: float = 0.5) -> float:
    """Mean average precision (%) at one IoU threshold, by torchmetrics' ``MeanAveragePrecision`` (COCO's
    101-point interpolated AP per class, averaged over the classes present).

    ``predictions``: per image {"boxes": (k, 4) x0 y0 x1 y1, "scores": (k,), "labels": (k,)};
    ``targets``: per image {"boxes", "labels"}. mAP@0.5, PASCAL VOC's criterion, is ``iou=0.5``.
    """
    from torchmetrics.detection import MeanAveragePrecision  # imported here: it is slow to import and only 02 needs it

    if len(predictions) != len(targets):
        raise ValueError(f"{len(predictions)} predictions for {len(targets)} images: give one of each per image")
    metric = MeanAveragePrecision(box_format="xyxy", iou_type="bbox", iou_thresholds=[iou])
    metric.update(predictions, targets)
    return 100.0 * float(metric.compute()["map"])


def knn_scores(train_x: torch.Tensor, train_y: torch.Tensor, graded: list[tuple[torch.Tensor, torch.Tensor]],
               k: int = 20, temperature: float = 0.07, batch_size: int = 2000) -> list[float]:
    """Accuracy (%) of a weighted k-nearest-neighbour classifier on frozen features, graded on several sets.

    The protocol of instance discrimination (Wu, Xiong, Yu & Lin, CVPR 2018): features centred on the labelled set's
    mean and scaled to unit length, so that a dot product is a cosine similarity s; the ``k`` most similar labelled
    examples vote for their class with weight exp(s / ``temperature``). Nothing is trained: it asks whether images of
    a class lie near each other, where ``linear_probe`` asks whether the classes can be cut apart by planes.
    """
    mean = train_x.mean(0)
    bank = F.normalize(train_x - mean, dim=1)
    n_classes = int(max([train_y.max(), *[y.max() for _, y in graded]])) + 1
    k = min(k, len(bank))
    scores = []
    for x, y in graded:
        right = 0
        for start in range(0, len(x), batch_size):
            query = F.normalize(x[start:start + batch_size] - mean, dim=1)
            similarity, nearest = (query @ bank.T).topk(k, dim=1)
            predicted = knn_vote(similarity, train_y[nearest], n_classes, temperature)
            right += (predicted == y[start:start + batch_size]).sum().item()
        scores.append(100.0 * right / len(x))
    return scores


def knn_vote(similarity: torch.Tensor, labels: torch.Tensor, n_classes: int, temperature: float = 0.07
             ) -> torch.Tensor:
    """The class each query's neighbours vote for: ``similarity`` and ``labels`` are queries x k (the cosine
    similarity and the class of each of the k nearest labelled examples); each votes with weight
    exp(similarity / ``temperature``), and the class with the largest total wins."""
    votes = torch.zeros(len(similarity), n_classes, dtype=similarity.dtype, device=similarity.device)
    votes.scatter_add_(1, labels, (similarity / temperature).exp())
    return votes.argmax(1)
