"""Notebook 06's numbers: the ablation panel (how colourful, how right), the transfer probe, the recorded metrics
and every ordering the notebook states."""

from __future__ import annotations

import pandas as pd
import torch

from course_lib import evaluate, nets, pretrained, seeds, show
from course_lib.lessons.colorization.training import KEYS, METHODS, NOTEBOOK, TEMPERATURES, ColourSpace, colorize
from course_lib.pretext import colorization as col

# --- the ablation panel ----------------------------------------------------------------------------------------

def panel(models: dict, rgb: torch.Tensor, space: ColourSpace) -> dict[str, torch.Tensor]:
    """{row name: colorized images}: each method at T = 0.38, the rebalanced one at every temperature."""
    rows = {m: colorize(models, m, rgb, space) for m in METHODS}
    for t in TEMPERATURES:
        rows[f"rebalanced, T = {t:g}"] = colorize(models, METHODS[-1], rgb, space, t)
    return rows


COLOURFUL, AUC, AUC_PER_COLOUR = "colourfulness M", "AuC (%)", "AuC per colour (%)"


def colour_table(models: dict, rgb: torch.Tensor, space: ColourSpace) -> pd.DataFrame:
    """The test images as the truth, grey (the input) and every panel row colour them, measured two ways:

    * how colourful: the mean colourfulness M (Hasler & Suesstrunk), which a wrong but vivid colour raises too;
    * how right: the AuC of the ab error (``col.ab_auc``) over all pixels, where grey is a strong answer because
      most pixels are nearly grey, and per colour (``col.per_colour_weights``: every true colour counts the same),
      where the rare saturated colours count as much as the greys.

    Both are measured on the pictures as shown (colours outside the sRGB gamut clipped)."""
    rows = {"ground truth": rgb, "grey (the input)": col.grey(rgb), **panel(models, rgb, space)}
    _, truth = col.split_lab(rgb)
    per_colour = col.per_colour_weights(truth, space.centres)

    def measured(images):
        _, ab = col.split_lab(images)
        return {COLOURFUL: col.colourfulness(images).mean().item(), AUC: col.ab_auc(ab, truth),
                AUC_PER_COLOUR: col.ab_auc(ab, truth, per_colour)}

    return pd.DataFrame({name: measured(images) for name, images in rows.items()}).T


def show_panel(models: dict, rgb: torch.Tensor, space: ColourSpace):
    """The ablation as pictures: the truth, the grey input, and each panel row, for the same test images."""
    rows = {"ground truth": rgb, "input X_L": col.grey(rgb), **panel(models, rgb, space)}
    return show.image_rows(rows)


# --- the transfer probe ------------------------------------------------------------------------------------------

def lightness_input(rgb: torch.Tensor) -> torch.Tensor:
    """What the colorization backbone takes: X_L scaled to [-1, 1]."""
    return col.network_input(col.split_lab(rgb)[0])


RANDOM_ROW = "random init"  # the probe table's random-init row, read at its best (``evaluate.random_at_its_best``)


def probe_table(backbones: dict[str, nets.Backbone], labelled, validation, test, stages=nets.STAGES, *,
                per_class: int | None = None, draws: int = 1, seed: int = 0, Cs=evaluate.PROBE_CS) -> pd.DataFrame:
    """Linear-probe accuracy (%) of CIFAR-10 labels at every stage of each frozen backbone (rows) from X_L
    (``evaluate.probe_table``): ``draws`` probes of ``per_class`` labelled photos per class drawn from ``labelled``,
    each row's best layer and the probe's C there (of ``Cs``) chosen on ``validation``, the test
    accuracy there as mean ± std over the draws; the ``RANDOM_ROW`` at its best read (as initialised or BatchNorm
    recalibrated, chosen on validation too). The fitted probes are runs named "transfer probe: <row>" (shipped
    weights with COURSE_PRETRAINED=1)."""
    (x, y), (x_val, y_val), (x_test, y_test) = labelled, validation, test
    with pretrained.Runs(NOTEBOOK, "linear probes", per_class=per_class, draws=draws, seed=seed) as runs:
        return evaluate.probe_table(backbones, (lightness_input(x), y), (lightness_input(x_val), y_val),
                                    (lightness_input(x_test), y_test), stages, per_class=per_class, draws=draws,
                                    seed=seed, desc="transfer probe", trained=runs, random_row=RANDOM_ROW,
                                    Cs=Cs)


def _row_key(row: str) -> str:
    """The name of a colour-table row in recorded metrics: grey, l2, classification, rebalanced, rebalanced_t0_38."""
    if row.startswith("rebalanced, T = "):
        return "rebalanced_t" + row.removeprefix("rebalanced, T = ").replace(".", "_")
    return {"ground truth": "truth", "grey (the input)": "grey", **KEYS}[row]


def metrics(colours: pd.DataFrame, probes: pd.DataFrame) -> dict[str, float]:
    """The numbers to record: colourfulness and both AuCs of every row, and the probes: each row's test accuracy
    at its validation-chosen layer (``probe_<row>``, mean over the draws), its std, and every stage (and for random
    init, ``probe_random_recalibrated``: 1 where its recalibrated read was chosen)."""
    out = {f"colourfulness_{_row_key(row)}": colours.loc[row, COLOURFUL]
           for row in colours.index if row != "grey (the input)"}
    for row in colours.index.drop("ground truth"):  # the truth's AuC is 100 by definition
        out[f"auc_{_row_key(row)}"] = colours.loc[row, AUC]
        out[f"auc_per_colour_{_row_key(row)}"] = colours.loc[row, AUC_PER_COLOUR]
    stages = [column for column in probes.columns if column in nets.STAGES]
    for name, row in probes.iterrows():
        out[f"probe_{KEYS[name]}"] = float(row[evaluate.AT_BEST])
        out[f"probe_{KEYS[name]}_std"] = float(row[evaluate.STD])
        out.update({f"probe_{KEYS[name]}_{stage}": float(row[stage]) for stage in stages})
        if name == RANDOM_ROW:  # 1 where the BatchNorm-recalibrated read was the better one on validation
            out[f"probe_{KEYS[name]}_recalibrated"] = float(evaluate.read_of(probes, name) == evaluate.RECALIBRATED)
    return {k: float(v) for k, v in out.items()}


beats = evaluate.beats  # the notebook's claims call lesson.beats

# Every ordering the notebook states, on the metrics it records, for its table over pretraining seeds
# (``seeds.table(NOTEBOOK, ORDERINGS)``). The first and the last are the claims it asserts; the rest it reports.
ORDERINGS = [
    seeds.Ordering("rebalanced classification is more colourful than l2 regression (M)",
                   "colourfulness_rebalanced", "colourfulness_l2"),
    seeds.Ordering("plain classification is not more colourful than l2 regression (M)",
                   "colourfulness_l2", "colourfulness_classification"),
    seeds.Ordering("rebalancing brings the colour back: above plain classification (M)",
                   "colourfulness_rebalanced", "colourfulness_classification"),
    seeds.Ordering("the temperature: T = 0.1 more colourful than T = 1 (M)",
                   "colourfulness_rebalanced_t0_1", "colourfulness_rebalanced_t1"),
    seeds.Ordering("l2 regression above grey (AuC)", "auc_l2", "auc_grey"),
    seeds.Ordering("plain classification above grey (AuC)", "auc_classification", "auc_grey"),
    seeds.Ordering("the rebalanced network falls below grey (AuC)", "auc_grey", "auc_rebalanced"),
    seeds.Ordering("l2 regression above grey (AuC per colour)", "auc_per_colour_l2", "auc_per_colour_grey"),
    seeds.Ordering("rebalanced above l2 and plain classification (AuC per colour)",
                   "auc_per_colour_rebalanced", ("auc_per_colour_l2", "auc_per_colour_classification")),
    seeds.Ordering("rebalanced: T = 1 above T = 0.1 (AuC per colour)",
                   "auc_per_colour_rebalanced_t1", "auc_per_colour_rebalanced_t0_1"),
    seeds.Ordering("colorization features beat random init (linear probe, best layer on validation)",
                   "probe_colorization", "probe_random"),
]
