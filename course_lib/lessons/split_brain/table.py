"""Notebook 07's layer-wise table: every row probed at conv1 ... conv5, head-to-head verdicts, the paper's table
beside ours, the pictures and the recorded metrics."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from torch import nn

from course_lib import evaluate, nets, papers, pretrained, show
from course_lib.lessons.split_brain.training import COLOURS, KEYS, NOTEBOOK, PAPER_ROWS, PROBE_DIM, RANDOM
from course_lib.pretext import colorization as col


def probe_rows(rows: dict, labelled, validation, test, *, per_class: int | None = None, draws: int = 1,
               seed: int = 0) -> dict[str, evaluate.LayerScores]:
    """The layer-wise probe of every row: {name: ``evaluate.LayerScores``} at conv1 ... conv5, each layer pooled to
    ``PROBE_DIM`` numbers (``feature_sizes`` shows what the probes see). ``draws`` probes of ``per_class`` labelled
    images per class, drawn from ``labelled``; ``validation`` chooses each row's best layer (and random init's read:
    as initialised or BatchNorm recalibrated, ``evaluate.random_at_its_best``); ``test`` grades. The fitted probes
    are runs named "layer-wise probe: <row>" (shipped weights with COURSE_PRETRAINED=1)."""
    with pretrained.Runs(NOTEBOOK, "layer-wise probes", per_class=per_class, draws=draws, seed=seed) as runs:
        def probed(extractor: nn.Module, name: str) -> evaluate.LayerScores:
            return evaluate.probe_network(extractor, labelled, validation, test, target_dim=PROBE_DIM,
                                          per_class=per_class, draws=draws, seed=seed,
                                          desc=f"layer-wise probe: {name}", trained=runs)

        return evaluate.probe_each(rows, probed, labelled[0], random_row=RANDOM)


def head_to_head(scores: dict[str, evaluate.LayerScores], pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """Layer by layer, for each pair (a, b): the gap a - b in points (means over the draws) and who wins, or
    "no difference" where the gap is inside the spread of the draws (``evaluate.differ``). One row per pair."""
    def verdict(a: str, b: str, stage: str) -> str:
        x, y = scores[a].test[stage], scores[b].test[stage]
        return f"{float(x) - float(y):+.1f} " + ("no difference" if not evaluate.differ(x, y) else a if x > y else b)

    return pd.DataFrame({f"{a} vs {b}": {stage: verdict(a, b, stage) for stage in nets.STAGES}
                         for a, b in pairs}).T


beats = evaluate.beats  # the notebook's claims call lesson.beats


def wins(scores: dict[str, evaluate.LayerScores], first: str, second: str, stage: str) -> bool:
    """``first`` beats ``second`` at ``stage`` by more than the spread of their labelled draws."""
    return beats(scores[first].test[stage], scores[second].test[stage])


def feature_sizes(rows: dict, lab: torch.Tensor) -> pd.DataFrame:
    """Channels and pooled feature size of each row at each layer: the probes compare equal-size features."""
    sample = {name: evaluate.stage_features(extractor, lab[:2], target_dim=PROBE_DIM)
              for name, extractor in rows.items()}
    return pd.DataFrame({name: {stage: f"{extractor.channels[stage]} ch -> {sample[name][stage].shape[1]}"
                                for stage in nets.STAGES} for name, extractor in rows.items()}).T


def paper_table(dataset: str = "ImageNet") -> pd.DataFrame:
    """The paper's rows that stand beside ours (``PAPER_ROWS``), top-1 % at conv1 ... conv5, as the lecture slide
    shows them: linear classifiers on ImageNet (or Places, which lacks some of the rows)."""
    rows = [row for row in PAPER_ROWS if row in papers.SPLIT_BRAIN_TABLES[dataset]]
    table = pd.DataFrame(papers.SPLIT_BRAIN_TABLES[dataset], index=list(nets.STAGES)).T.loc[rows]
    table.insert(0, "ours", [PAPER_ROWS[row] for row in rows])
    table.attrs["caption"] = f"{papers.cite('zhang2017')} {dataset} table, as on the lecture slide"
    return table


def plot_layers(scores: dict[str, evaluate.LayerScores], paper: pd.DataFrame):
    """Accuracy against layer: ours (CIFAR-10, ± one std over the labelled draws as error bars, a ring at each row's
    best layer on validation) on the left, the paper's rows (ImageNet, as on the slide) on the right, each method
    in the same colour on both sides."""
    fig, (ours, theirs) = plt.subplots(1, 2, figsize=(12, 3.8), gridspec_kw={"width_ratios": [1.4, 1]})
    for i, (name, s) in enumerate(scores.items()):
        width_control = "full width" in name or name == "Ensembled L→ab"  # dotted: the controls for width
        style = "--" if name in (RANDOM, "supervised (labels)") else ":" if width_control else "-"
        x = np.arange(len(nets.STAGES)) + 0.03 * (i - len(scores) / 2)  # a little apart: error bars stay visible
        ours.errorbar(x, [float(s.test[stage]) for stage in nets.STAGES], [s.test[stage].std for stage in nets.STAGES],
                      fmt=style, marker="o", markersize=4, capsize=2, label=name, color=COLOURS[name])
        best = nets.STAGES.index(s.best_layer)
        ours.plot(x[best], float(s.best), "o", markersize=11, fillstyle="none", color=COLOURS[name])
    for name, row in paper.iterrows():
        style = "--" if row["ours"] in (RANDOM, "supervised (labels)") else ":" if name == "Ensembled L→ab" else "-"
        theirs.plot(range(len(nets.STAGES)), [row[s] for s in nets.STAGES], style, marker="o", label=name,
                    color=COLOURS[row["ours"]])
    ours.set(title="ours: CIFAR-10, linear probe (ring: best layer on validation)", ylabel="test accuracy (%)")
    theirs.set(title="paper: ImageNet, as on the slide (same colour = same method)", ylabel="top-1 accuracy (%)")
    for ax in (ours, theirs):
        ax.set_xticks(range(len(nets.STAGES)), nets.STAGES)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return show.finish(fig)


@torch.no_grad()
def show_task(rgb: torch.Tensor):
    """The two cross-channel tasks as pictures: the photo, L (F_1's input, F_2's target), ab at constant lightness
    (F_1's target, F_2's input)."""
    lightness, ab = col.split_lab(rgb)
    rows = {"photo X": rgb, "X_1 = L": col.grey(rgb), "X_2 = ab": col.to_rgb(torch.full_like(lightness, 65.0), ab)}
    return show.image_rows(rows)


def metrics(scores: dict[str, evaluate.LayerScores]) -> dict[str, float]:
    """probe_<method>_<layer> for every cell of the table (mean over the labelled draws), and probe_<method>_best
    and probe_<method>_best_std: the test accuracy at the layer chosen on validation, and its std over the draws;
    probe_random_recalibrated: which read of random init validation kept (1: BatchNorm recalibrated)."""
    out = {}
    for name, s in scores.items():
        out.update({f"probe_{KEYS[name]}_{stage}": float(s.test[stage]) for stage in nets.STAGES})
        out[f"probe_{KEYS[name]}_best"] = float(s.best)
        out[f"probe_{KEYS[name]}_best_std"] = s.best.std
        if s.read:  # random init: 1 where its BatchNorm-recalibrated read was the better on validation
            out[f"probe_{KEYS[name]}_recalibrated"] = float(s.read == evaluate.RECALIBRATED)
    return out
