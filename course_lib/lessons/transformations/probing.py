"""The probe of notebook 05: every layer of a frozen backbone, the layer chosen on validation, test error at every
label budget on the labelled subsets every row shares."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch

from course_lib import evaluate, nets, train
from course_lib.lessons.transformations.pretraining import GLOBAL, ONE_DRAW_FROM, Sizes
from course_lib.pretext import transformations


def layer_features(backbone: nets.Backbone, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """{layer: features} of a frozen backbone, one pass: conv1 ... conv5 average-pooled to the size of the code
    the egomotion head reads (conv5 at 3 x 3, ``EgomotionNet.code_side``), and conv5 averaged globally."""
    side = transformations.EgomotionNet.code_side
    features = evaluate.stage_features(backbone, x, nets.STAGES, target_dim=backbone.channels["conv5"] * side**2)
    cells = features["conv5"].view(len(x), backbone.channels["conv5"], -1)
    # the mean of the 3 x 3 cells is the global average: conv5 of a 28 x 28 digit is 3 x 3, so the cells are its pixels
    features[GLOBAL] = cells.mean(2)
    return features


def labelled_subset(y: torch.Tensor, budget: int, seed: int = 0, draw: int = 0) -> torch.Tensor:
    """Indices of ``budget`` labelled images, ``budget / 10`` of each digit; draw d uses seed + 1000 d, the
    subsets ``evaluate.probe_layers`` draws, so every row sees the same labelled images."""
    return evaluate.few_labels(y, budget // 10, seed + 1000 * draw)


def draws_at(budget: int, sizes: Sizes) -> int:
    """Labelled subsets averaged at one budget: ``label_draws``, one from ``ONE_DRAW_FROM`` labels on."""
    return 1 if budget >= ONE_DRAW_FROM else sizes.label_draws


def as_error(accuracy: evaluate.Spread) -> evaluate.Spread:
    """Test error (%) from test accuracy, keeping the spread of the draws."""
    return evaluate.Spread(100.0 - float(accuracy), accuracy.std, accuracy.draws)


@dataclass
class Probed:
    """One frozen backbone under the protocol: the layer-wise probe at the smallest budget (which chooses the
    layer and the probe's C, on validation), the chosen layer, and the test error there at every budget; for random
    features also the read (as initialised or BatchNorm recalibrated) chosen on validation."""

    layers: evaluate.LayerScores
    errors: dict[int, evaluate.Spread]

    @property
    def layer(self) -> str:
        return self.layers.best_layer

    @property
    def C(self) -> float:
        """The probe's regularisation chosen on validation with the layer (``evaluate.PROBE_CS``)."""
        return self.layers.best_C

    @property
    def read(self) -> str:
        """Random features: the read kept on validation (``evaluate.random_reads``); "" for trained rows."""
        return self.layers.read


def probe(backbone: nets.Backbone, train_xy, val_xy, test_xy, sizes: Sizes, seed: int = 0,
          desc: str = "backbone", trained: train.Trained = train.always_train) -> Probed:
    """Embed once; probe every layer at the smallest budget at each C of ``sizes.probe_cs``, keep the layer and the
    probe's C best on validation, and probe that layer with that C at the other budgets (choosing again at every
    budget would cost a probe per layer, C and budget). The fitted probes are runs named "probe of <desc>", fitted
    through ``trained`` (``benchmark`` loads them)."""
    (x, y), (x_val, y_val), (x_test, y_test) = train_xy, val_xy, test_xy
    features = [layer_features(backbone, images) for images in (x, x_val, x_test)]
    labels = (y.cpu(), y_val.cpu(), y_test.cpu())

    def probe_at(budget: int, layers, Cs) -> evaluate.LayerScores:
        train_f, val_f, test_f = ({layer: f[layer] for layer in layers} for f in features)
        return evaluate.probe_layers(train_f, labels[0], val_f, labels[1], test_f, labels[2], per_class=budget // 10,
                                     draws=draws_at(budget, sizes), seed=seed, desc=f"probe of {desc}",
                                     trained=trained, Cs=Cs)

    first, *rest = sorted(sizes.label_budgets)
    chosen = probe_at(first, features[0], sizes.probe_cs)
    errors = {first: as_error(chosen.best)}
    errors.update({budget: as_error(probe_at(budget, [chosen.best_layer], [chosen.best_C]).best) for budget in rest})
    return Probed(chosen, errors)


def layer_errors(probes: dict[str, Probed]) -> pd.DataFrame:
    """The layer-wise table at the smallest budget, as test error (%): one column per layer, then each row's layer
    chosen on validation, the error there and its std over the labelled draws."""
    table = evaluate.layer_table({name: p.layers for name, p in probes.items()})
    not_accuracy = (evaluate.BEST_LAYER, evaluate.PROBE_C_COLUMN, evaluate.READ, evaluate.STD, evaluate.VAL_LABELS)
    numeric = [c for c in table.columns if c not in not_accuracy]
    table[numeric] = 100.0 - table[numeric].astype(float)
    return table.rename(columns={evaluate.AT_BEST: "error at that layer"}).round(2)
