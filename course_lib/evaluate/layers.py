"""Layer-wise probes: features of every stage, a linear probe at each, and the papers' layer-wise table."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.evaluate.labels import label_subsets
from course_lib.evaluate.probes import PROBE_C, PROBE_ITERATIONS, LinearProbe, _n_classes, linear_probe
from course_lib.evaluate.spread import Spread
from course_lib.nets import STAGES, Backbone, recalibrated
from course_lib.train import History, Trained, always_train


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
    accuracy per layer (mean over the same draws) that picks its best layer; ``read``, for a random-init baseline,
    the read of its weights chosen on validation too (``random_at_its_best``); ``C``, where the probe's
    regularisation was chosen on validation as well (``probe_layers(Cs=...)``), the C chosen at each layer."""

    test: dict[str, Spread]
    val: dict[str, float]
    read: str = ""
    val_labels: int = 0  # labelled validation images that chose the layer (and the read): labels beside the budget
    C: dict[str, float] = field(default_factory=dict)

    @property
    def best_layer(self) -> str:
        return max(self.val, key=self.val.get)

    @property
    def best(self) -> Spread:
        """Test accuracy at the layer chosen on validation data (not the row's maximum on the test set)."""
        return self.test[self.best_layer]

    @property
    def best_C(self) -> float:
        """The probe's C at the chosen layer (the one fixed C where none was chosen)."""
        return self.C.get(self.best_layer, PROBE_C)

    @property
    def best_val(self) -> float:
        """The validation accuracy that chose the layer (what ``better_on_validation`` compares)."""
        return self.val[self.best_layer]


AS_INITIALISED, RECALIBRATED = "as initialised", "BatchNorm recalibrated"


def random_reads(backbone: nn.Module, unlabelled: torch.Tensor) -> dict[str, nn.Module]:
    """A random-init baseline at its best is read twice: {``AS_INITIALISED``: the weights as they are, whose
    BatchNorm layers hold the statistics of no data (mean 0, variance 1), ``RECALIBRATED``: a copy with the statistics
    re-estimated on unlabelled training images (``nets.recalibrated``)}. Score both and keep the read that is better
    on validation (``better_on_validation``), as a layer is kept: a baseline gets every choice its rivals get."""
    return {AS_INITIALISED: backbone, RECALIBRATED: recalibrated(backbone, unlabelled)}


def better_on_validation(val: Mapping[str, float]) -> str:
    """The key (a read, a layer, a method) whose validation score is highest: chosen there, graded on the test set."""
    return max(val, key=val.get)


def probe_each(networks: Mapping[str, nn.Module], probed: Callable[[nn.Module, str], LayerScores],
               unlabelled: torch.Tensor | None = None, random_row: str | None = None) -> dict[str, LayerScores]:
    """{row: ``probed(network, row)``} of every network; ``random_row``, a random-init network, at its best read
    (``random_at_its_best``, recalibrated on ``unlabelled``), its second read probed as "<row>, <read>"."""
    def scores(name: str, network: nn.Module) -> LayerScores:
        if name != random_row:
            return probed(network, name)
        return random_at_its_best(network, unlabelled, lambda net, read: probed(
            net, name if read == AS_INITIALISED else f"{name}, {read}"))

    return {name: scores(name, network) for name, network in networks.items()}


def random_at_its_best(backbone: nn.Module, unlabelled: torch.Tensor,
                       score: Callable[[nn.Module, str], LayerScores]) -> LayerScores:
    """``score(network, read)`` of both ``random_reads`` of a random-init network; the one better on validation (at
    its best layer), with its read named. ``score`` names its runs after the read, so both can be kept."""
    reads = {read: score(network, read) for read, network in random_reads(backbone, unlabelled).items()}
    best = better_on_validation({read: scores.best_val for read, scores in reads.items()})
    return dataclasses.replace(reads[best], read=best)


def probe_layers(train: Mapping[str, torch.Tensor], train_y: torch.Tensor, val: Mapping[str, torch.Tensor],
                 val_y: torch.Tensor, test: Mapping[str, torch.Tensor], test_y: torch.Tensor, *,
                 per_class: int | None = None, draws: int = 1, seed: int = 0,
                 subsets: list[torch.Tensor] | None = None, desc: str = "linear probes",
                 trained: Trained = always_train, Cs: Sequence[float] = (PROBE_C,)) -> LayerScores:
    """Linear probe at every layer of precomputed features ``{layer: features}``, graded on validation and test.

    With ``per_class``, each of ``draws`` probes is trained on ``few_labels`` of the training features (seeds
    ``seed``, ``seed + 1000``, ...); without, on all of them (then one draw is all there is). ``subsets`` gives the
    draws' indices instead (``probe_network`` does, having embedded only the images they use). With several ``Cs``
    (e.g. ``PROBE_CS``) each layer's probes are fitted at every C and the C best on validation (mean over the draws)
    is kept, as the layer itself is: the regularisation is a choice too (``fit_probes``). The fitted probes are one
    run named "<desc>, <labels> labels x <draws> draws[, C <grid>]" (the budget is in the name: probes fitted on other
    labels must not stand in for these), fitted through ``trained`` (``pretrained.Runs`` loads them instead: the
    solver is most of a layer-wise table's time).
    """
    train_y, val_y, test_y = train_y.cpu(), val_y.cpu(), test_y.cpu()
    subsets = label_subsets(train_y, per_class, draws, seed) if subsets is None else subsets
    Cs = sorted(Cs)
    probes = _layer_probes(train, _n_classes(train_y, val_y, test_y), len(subsets))
    grid = _grid_name(Cs)
    history = trained(probes, f"{desc}, {len(subsets[0])} labels x {len(subsets)} draws{grid}",
                      lambda: fit_probes(probes, train, train_y, subsets, Cs, (val, val_y)))
    val_scores: dict[str, list[float]] = {layer: [] for layer in train}
    test_scores: dict[str, list[float]] = {layer: [] for layer in train}
    for draw, idx in enumerate(subsets):
        for layer in train:
            probe = probes[layer][draw].to(train[layer].device).standardise_as(train[layer][idx])
            val_scores[layer].append(probe.accuracy(val[layer], val_y))
            test_scores[layer].append(probe.accuracy(test[layer], test_y))
    return LayerScores(test={layer: Spread.of(s) for layer, s in test_scores.items()},
                       val={layer: float(np.mean(s)) for layer, s in val_scores.items()}, val_labels=len(val_y),
                       C={layer: history.last(_C_OF + layer) for layer in train} if grid else {})


_C_OF = "C chosen at "  # a fitted probe run's history records each layer's C under this name


def _grid_name(Cs: Sequence[float]) -> str:
    """", C 0.3 1 3": what a run of probes fitted at other than the one default C adds to its name."""
    return "" if list(Cs) == [PROBE_C] else ", C " + " ".join(f"{C:g}" for C in Cs)


def fit_probes(probes: nn.ModuleDict, train: Mapping[str, torch.Tensor], train_y: torch.Tensor,
               subsets: list[torch.Tensor], Cs: Sequence[float] = (PROBE_C,),
               validation: tuple[Mapping[str, torch.Tensor], torch.Tensor] | None = None) -> History:
    """Fit every layer's probe of every draw (``_layer_probes``) on its labelled subset. With several ``Cs``, each
    draw is fitted at every C (from the strongest regularisation up, each fit starting from the one before: the same
    optimum, fewer solver steps) and each layer keeps the fits at the C whose mean accuracy on ``validation`` is best;
    only those are kept, so a shipped run is no larger for the choice. A ``History`` that says how many, how long and
    which C each layer chose, so fitted probes can be kept (and their choice read back) like a training run."""
    if len(Cs) > 1 and validation is None:
        raise ValueError("choosing the probes' C needs validation features and labels: fit_probes(..., validation=)")
    started = time.perf_counter()
    chosen: dict[str, float] = {}
    for layer, features in train.items():
        n_classes = probes[layer][0].linear.out_features
        fits = [_fit_path(features[idx], train_y[idx], Cs, n_classes) for idx in subsets]  # fits[draw][C index]
        best = 0
        if len(Cs) > 1:
            val, val_y = validation
            scores = [np.mean([fit[c].accuracy(val[layer], val_y) for fit in fits]) for c in range(len(Cs))]
            best = int(np.argmax(scores))
        chosen[_C_OF + layer] = Cs[best]
        for draw, fit in enumerate(fits):
            probes[layer][draw].load_state_dict(fit[best].state_dict())
    return _probe_history(probes, time.perf_counter() - started, chosen if _grid_name(Cs) else {})


def _fit_path(x: torch.Tensor, y: torch.Tensor, Cs: Sequence[float], n_classes: int) -> list[LinearProbe]:
    """A probe of ``x`` fitted at each C in turn, each fit starting from the one before (a warm start)."""
    fits: list[LinearProbe] = []
    for C in Cs:
        start = fits[-1] if fits else None
        fits.append(LinearProbe(x.shape[1], n_classes).to(x.device).fit(x, y, C, PROBE_ITERATIONS, start=start))
    return fits


def _layer_probes(train: Mapping[str, torch.Tensor], n_classes: int, draws: int) -> nn.ModuleDict:
    """One unfitted ``LinearProbe`` per layer and draw: {layer: [draw 0, draw 1, ...]}."""
    return nn.ModuleDict({layer: nn.ModuleList([LinearProbe(f.shape[1], n_classes) for _ in range(draws)])
                          for layer, f in train.items()})


def _probe_history(probes: nn.ModuleDict, seconds: float, chosen: Mapping[str, float] | None = None) -> History:
    """What a checkpoint of probes says of how they were made: how many, the time the solver took and, where the
    probes' C was chosen on validation, each layer's (``fit_probes``)."""
    history = History(stopped_by="L-BFGS converged or stopped at its budget")
    history.log(PROBE_ITERATIONS, seconds, {"probes": sum(len(draws) for draws in probes.values()), **(chosen or {})})
    return history


def probe_network(network: Backbone, labelled: tuple[torch.Tensor, torch.Tensor],
                  validation: tuple[torch.Tensor, torch.Tensor], test: tuple[torch.Tensor, torch.Tensor],
                  stages: Iterable[str] = STAGES, target_dim: int = 2048, *, per_class: int | None = None,
                  draws: int = 1, seed: int = 0, desc: str = "linear probes",
                  trained: Trained = always_train, Cs: Sequence[float] = (PROBE_C,)) -> LayerScores:
    """``probe_layers`` of one frozen network at ``stages`` (each pooled to about ``target_dim`` numbers). Only the
    labelled images some draw uses go through the network: with few labels that is a fraction of them. ``desc``,
    ``trained`` and ``Cs``: as in ``probe_layers``."""
    (x, y), (x_val, y_val), (x_test, y_test) = labelled, validation, test
    subsets = label_subsets(y.cpu(), per_class, draws, seed)
    used = torch.cat(subsets).unique()  # sorted, so each draw's indices map into it by searchsorted
    train, val, test_features = (stage_features(network, images, stages, target_dim)
                                 for images in (x[used.to(x.device)], x_val, x_test))
    return probe_layers(train, y.cpu()[used], val, y_val, test_features, y_test,
                        subsets=[torch.searchsorted(used, s) for s in subsets], desc=desc, trained=trained,
                        Cs=Cs)


BEST_LAYER, READ, AT_BEST, STD = "best layer (val)", "read (val)", "at best layer", "± (draws)"
VAL_LABELS, PROBE_C_COLUMN = "validation labels", "probe C (val)"


def layer_table(scores: Mapping[str, LayerScores]) -> pd.DataFrame:
    """{network: LayerScores} as the papers' table: one row per network, one column per layer (mean test accuracy),
    then the layer chosen on validation data (with the probe's C chosen there, ``PROBE_C_COLUMN``, where it was;
    and, where a random-init row was read at its best, the read chosen on validation: ``READ``), the test accuracy
    there, its std over the labelled draws, and how many labelled validation images chose the layer (``VAL_LABELS``:
    labels spent beside the probe's own)."""
    table = pd.DataFrame({name: {layer: float(v) for layer, v in s.test.items()} for name, s in scores.items()}).T
    table[BEST_LAYER] = [s.best_layer for s in scores.values()]
    if any(s.C for s in scores.values()):  # the probes' regularisation was chosen on validation too: which C
        table[PROBE_C_COLUMN] = [s.best_C for s in scores.values()]
    if any(s.read for s in scores.values()):  # a random-init row read at its best: which read validation chose
        table[READ] = [s.read for s in scores.values()]
    table[AT_BEST] = [float(s.best) for s in scores.values()]
    table[STD] = [s.best.std for s in scores.values()]
    if any(s.val_labels for s in scores.values()):
        table[VAL_LABELS] = [s.val_labels for s in scores.values()]
    # how many draws each row averages, so best_of can rebuild its Spread (a std of 0 over 3 draws is still 3 draws)
    table.attrs["draws"] = {name: s.best.draws for name, s in scores.items()}
    return table


def best_of(table: pd.DataFrame, row: str) -> Spread:
    """A row's test accuracy at its validation-chosen layer, as a ``Spread`` (for claims and ``compare_text``)."""
    draws = table.attrs.get("draws", {}).get(row, 2 if table.loc[row, STD] > 0 else 1)
    return Spread(table.loc[row, AT_BEST], table.loc[row, STD], draws)


def read_of(table: pd.DataFrame, row: str) -> str:
    """The read a random-init row was chosen at (``layer_table``'s ``READ`` column), or "" for other rows."""
    return str(table.loc[row, READ]) if READ in table.columns else ""


def probe_table(backbones: dict[str, Backbone], labelled: tuple[torch.Tensor, torch.Tensor],
                validation: tuple[torch.Tensor, torch.Tensor], test: tuple[torch.Tensor, torch.Tensor],
                stages: Iterable[str] = STAGES, target_dim: int = 2048, *, per_class: int | None = None,
                draws: int = 1, seed: int = 0, desc: str = "linear probes", trained: Trained = always_train,
                random_row: str | None = None, Cs: Sequence[float] = (PROBE_C,)) -> pd.DataFrame:
    """The layer-wise table of the papers: a linear probe of every frozen backbone (rows) at every stage, the best
    stage chosen on ``validation`` (held out of the training data), mean ± std over ``draws`` labelled subsets of
    ``per_class`` examples per class drawn from ``labelled``. Each row's probes are one run named "<desc>: <row>",
    fitted through ``trained`` (``probe_layers``). ``random_row``: the row of a random-init network, read at its best
    (``random_at_its_best``, recalibrated on the labelled images without their labels). ``Cs``: the probe's C,
    chosen on validation at each layer when there are several (``probe_layers``)."""
    def probed(network: nn.Module, name: str) -> LayerScores:
        return probe_network(network, labelled, validation, test, list(stages), target_dim, per_class=per_class,
                             draws=draws, seed=seed, desc=f"{desc}: {name}", trained=trained, Cs=Cs)

    return layer_table(probe_each(backbones, probed, labelled[0], random_row))
