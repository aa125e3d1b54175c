"""Reading the board: one table and one label-efficiency plot per dataset; ``verdicts`` says, budget by budget,
which rows beat random init, which lose to it and where the gap is inside the spread; ``reading`` says it in
sentences; ``ranks`` shows where the read-out, not the method alone, decides the order."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from course_lib import evaluate, show
from course_lib.lessons.scoreboard.board import methods
from course_lib.lessons.scoreboard.datasets import BUDGETS, DATASETS, FENCES, RANDOM, SUPERVISED
from course_lib.lessons.scoreboard.protocol import Row, accuracy


def table(rows: dict[str, Row], dataset: str) -> pd.DataFrame:
    """The scoreboard of one dataset: test accuracy (%) as mean ± std over the labelled draws, linear probe and kNN at
    every budget, each at the layer it chose on validation (named in the last columns, with the read random init
    chose on validation: its weights as initialised or with BatchNorm recalibrated), the number of labelled
    validation images that chose them, and the labels the row's pretraining used, if any."""
    registry = {m.name: m for m in methods(dataset)}
    out = {}
    for name, row in rows.items():
        cells = {"notebook": registry[name].notebook if name in registry else "-"}
        cells.update({f"linear, {b:,} labels": row.linear[b].best.text() for b in BUDGETS[dataset]})
        cells.update({f"kNN, {b:,} labels": row.knn[b].text() for b in BUDGETS[dataset]})
        cells["layer (linear)"] = _with_read(row.linear_layer, row.reads.get("linear"))
        cells["layer and k (kNN)"] = _with_read(f"{row.knn_layer}, k = {row.knn_k}", row.reads.get("kNN"))
        cells["validation labels"] = f"{row.val_labels:,}"  # what chose the layers: labels too, beside the budget
        cells["labels in pretraining"] = registry[name].labels if name in registry else "none"
        out[name] = cells
    frame = pd.DataFrame(out).T
    frame.attrs["caption"] = (f"{DATASETS[dataset]}: test accuracy (%), mean ± std over the labelled draws; layers "
                              f"and random init's read chosen on {_validation_labels(rows)} labelled validation "
                              "images, labels beside the budget")
    return frame


def _validation_labels(rows: dict[str, Row]) -> str:
    counts = {row.val_labels for row in rows.values()}
    return f"{counts.pop():,}" if len(counts) == 1 else " / ".join(f"{n:,}" for n in sorted(counts))


def random_reads(rows: dict[str, Row], dataset: str) -> pd.DataFrame:
    """Random init's two reads side by side: the validation accuracy (%) each read-out reached at the smallest
    budget (at its best layer), and the read it kept. Validation numbers: they chose, the test set did not."""
    row, budget = rows[RANDOM], min(BUDGETS[dataset])
    frame = pd.DataFrame({f"{readout}, validation": {read: f"{scores[readout]:.1f}" for read, scores in
                                                      row.read_val.items()} for readout in ("linear", "kNN")})
    frame.loc["kept"] = [row.reads["linear"], row.reads["kNN"]]
    frame.attrs["caption"] = (f"{DATASETS[dataset]}, {budget:,} labels: random init read as initialised and with "
                              "BatchNorm recalibrated on the unlabelled pretraining images")
    return frame


def _with_read(layer: str, read: str | None) -> str:
    return f"{layer}, {read}" if read else layer


def linear(rows: dict[str, Row], budget: int) -> dict[str, evaluate.Spread]:
    """{row: linear-probe accuracy at its validation-chosen layer} at one budget."""
    return {name: row.linear[budget].best for name, row in rows.items()}


def best_pretext(rows: dict[str, Row], budget: int, readout: str = "linear") -> str:
    """The pretext row (not a fence) with the highest test accuracy at ``budget`` under ``readout`` (each row at its
    layer chosen on validation; the rows themselves are ranked on the test mean, which is what the board shows)."""
    return max((name for name in rows if name not in FENCES),
               key=lambda name: float(accuracy(rows[name], budget, readout)))


def verdicts(rows: dict[str, Row], dataset: str) -> pd.DataFrame:
    """Every pretext row against random init, budget by budget and for both classifiers: "higher", "lower" or "no
    difference" (the gap inside the spread of the draws, ``evaluate.differ``), with the gap in points."""
    def word(a: evaluate.Spread, b: evaluate.Spread) -> str:
        gap = float(a) - float(b)
        return f"{gap:+.1f} " + ("no difference" if not evaluate.differ(a, b) else "higher" if gap > 0 else "lower")

    out = {}
    for name, row in rows.items():
        if name == RANDOM:
            continue
        base = rows[RANDOM]
        cells = {f"linear, {b:,}": word(row.linear[b].best, base.linear[b].best) for b in BUDGETS[dataset]}
        cells.update({f"kNN, {b:,}": word(row.knn[b], base.knn[b]) for b in BUDGETS[dataset]})
        out[name] = cells
    frame = pd.DataFrame(out).T
    frame.attrs["caption"] = f"{DATASETS[dataset]}: each row minus random init, in points"
    return frame


def reading(rows: dict[str, Row], dataset: str) -> str:
    """The board in sentences, budget by budget (linear probe): the best pretext row, and which pretext rows beat
    random init, lose to it, or are within the spread of it."""
    lines = []
    for budget in BUDGETS[dataset]:
        base = rows[RANDOM].linear[budget].best
        groups: dict[str, list[str]] = {"beat random init": [], "no difference from it": [], "lose to it": []}
        for name, row in rows.items():
            if name in FENCES:
                continue
            value = row.linear[budget].best
            group = ("no difference from it" if not evaluate.differ(value, base)
                     else "beat random init" if value > base else "lose to it")
            groups[group].append(f"{name} ({float(value) - float(base):+.1f})")
        best = best_pretext(rows, budget)
        said = "; ".join(f"{group}: {', '.join(names)}" for group, names in groups.items() if names)
        lines.append(f"{DATASETS[dataset]}, {budget:,} labels: best pretext {best} "
                     f"{rows[best].linear[budget].best.text()} % (random init {base.text()} %, supervised "
                     f"{rows[SUPERVISED].linear[budget].best.text()} %); {said}")
    return "\n".join(lines)


def plot(rows: dict[str, Row], dataset: str):
    """The label-efficiency plot of one dataset: accuracy against the number of labels (log axis), linear probe on
    the left, kNN on the right, ± one std over the draws as error bars; the fences dashed."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    budgets = BUDGETS[dataset]
    for i, (name, row) in enumerate(rows.items()):
        style = "--" if name in FENCES else "-"
        shift = np.array(budgets) * (1 + 0.015 * (i - len(rows) / 2))  # a little apart: error bars stay visible
        for ax, points in ((axes[0], [row.linear[b].best for b in budgets]), (axes[1], [row.knn[b] for b in budgets])):
            ax.errorbar(shift, [float(p) for p in points], [p.std for p in points], fmt=style, marker="o",
                        markersize=4, capsize=2, label=name, color=f"C{i}")
    for ax, what in zip(axes, ("linear probe", "kNN (k chosen on validation)"), strict=True):
        ax.set_xscale("log")
        ax.set_xticks(budgets, [f"{b:,}" for b in budgets])
        ax.minorticks_off()
        ax.set(title=f"{DATASETS[dataset]}, {what}", xlabel="labelled training images (layer chosen on validation)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test accuracy (%)")
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return show.finish(fig)


def ranks(rows: dict[str, Row], dataset: str) -> pd.DataFrame:
    """The rank of every row (1 = best test mean) under each classifier and budget: where the two columns of a
    budget disagree, the protocol -- not the method alone -- decides the order."""
    out = {}
    for budget in BUDGETS[dataset]:
        for what, values in (("linear", linear(rows, budget)),
                             ("kNN", {name: row.knn[budget] for name, row in rows.items()})):
            order = sorted(values, key=lambda name: -float(values[name]))
            out[f"{what}, {budget:,}"] = {name: order.index(name) + 1 for name in rows}
    return pd.DataFrame(out)
