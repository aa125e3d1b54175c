"""The board over pretraining seeds: every ordering the notebook states, on the numbers it records (``ORDERINGS``,
shown by ``seeds.table`` as paired per-seed differences with a verdict), and each row's rank averaged over the seeds
beside the spread of its accuracy over them (``ranks_over_seeds``). The per-seed numbers are what
``python -m course_lib.results seeds 12`` wrote (``seeds.load``); nothing here trains."""

from __future__ import annotations

import numpy as np
import pandas as pd

from course_lib import config, seeds
from course_lib.lessons.scoreboard.board import methods
from course_lib.lessons.scoreboard.claims import metric_name
from course_lib.lessons.scoreboard.datasets import BUDGETS, DATASETS, FENCES, NOTEBOOK, RANDOM, RANDOM_LIGHTNESS
from course_lib.lessons.scoreboard.protocol import READOUTS


def _keys(dataset: str) -> dict[str, str]:
    return {m.name: m.key for m in methods(dataset)}


def _at(dataset: str, budget: int, readout: str) -> str:
    return f"{DATASETS[dataset]}, {budget:,} labels, {readout}"


def _name(dataset: str, budget: int, row: str, readout: str) -> str:
    return metric_name(dataset, budget, _keys(dataset)[row], readout)


def _pretext(dataset: str) -> tuple[str, ...]:
    return tuple(row for row in _keys(dataset) if row not in FENCES)


def beats(row: str, than: str | tuple[str, ...], dataset: str, budget: int, readout: str = "linear",
          says: str | None = None) -> seeds.Ordering:
    """``row`` above ``than``: a row, or several (the best of them on each seed); ``says``: the words after the row's
    name (default "beats <than>")."""
    others = (than,) if isinstance(than, str) else than
    return seeds.Ordering(f"{row} {says or 'beats ' + ' and '.join(others)} ({_at(dataset, budget, readout)})",
                          _name(dataset, budget, row, readout),
                          tuple(_name(dataset, budget, other, readout) for other in others))


def best(row: str, dataset: str, budget: int, readout: str = "linear") -> seeds.Ordering:
    """``row`` above every other pretext row."""
    others = tuple(other for other in _pretext(dataset) if other != row)
    return beats(row, others, dataset, budget, readout, says="is the best pretext task")


def every_pretext_beats_random(dataset: str, budget: int, readout: str = "kNN") -> seeds.Ordering:
    """Every pretext row above random init: on each seed the weakest pretext row counts."""
    return seeds.Ordering(f"every pretext task beats random init ({_at(dataset, budget, readout)})",
                          tuple(_name(dataset, budget, row, readout) for row in _pretext(dataset)),
                          _name(dataset, budget, RANDOM, readout))


def against_random(dataset: str) -> list[seeds.Ordering]:
    """Every row against random init, for both read-outs and budgets: the board's verdicts (``verdicts``)."""
    return [beats(row, RANDOM, dataset, budget, readout) for readout in READOUTS for budget in BUDGETS[dataset]
            for row in _keys(dataset) if row != RANDOM]


ORDERINGS = [
    # what the notebook says in words ("What the board says", the claim check, the summary)
    best("classes from sound", "mnist", 100),
    best("classes from sound", "mnist", 1000),
    best("image-sound InfoNCE (CLIP)", "mnist", 100),
    best("image-sound InfoNCE (CLIP)", "mnist", 1000),
    beats("contrastive (SimCLR)", ("denoising autoencoder", "egomotion"), "mnist", 100),
    beats("contrastive (SimCLR)", "egomotion", "mnist", 100, says="beats egomotion, as in 05"),
    *(every_pretext_beats_random(dataset, budget) for dataset in DATASETS for budget in BUDGETS[dataset]),
    # the two towers that learn from the soundtracks: picking a frame's sound out of a batch (11) against telling a
    # frame's own sound from another video's (08)
    *(beats("image-sound InfoNCE (CLIP)", "audio-visual correspondence (L3-Net)", "mnist", budget)
      for budget in BUDGETS["mnist"]),
    # colorization against the random network that reads what it reads: the lightness only
    *(beats("colorization", RANDOM_LIGHTNESS, "cifar", budget, readout, says="beats random init on lightness only")
      for readout in READOUTS for budget in BUDGETS["cifar"]),
    # every row against random init, as the verdict tables say it (the supervised-fence claim is one of them)
    *against_random("mnist"),
    *against_random("cifar"),
]


def ranks_over_seeds(runs: dict[int, dict] | None = None) -> pd.DataFrame:
    """Per dataset, budget and read-out: each row's rank on every seed (1 = best), averaged over the seeds, and its
    accuracy (%) over the seeds, mean ± std (n - 1). ``runs``: ``seeds.load(NOTEBOOK)``'s {seed: run}."""
    runs = seeds.load(NOTEBOOK) if runs is None else runs
    every = {_name(dataset, budget, row, readout) for dataset in DATASETS for budget in BUDGETS[dataset]
             for readout in READOUTS for row in _keys(dataset)}
    missing = [seed for seed, run in runs.items() if not every <= set(run["metrics"])]
    if missing:
        message = f"{NOTEBOOK}: seed(s) {missing} lack numbers of the board: run `{seeds.COMMAND} {NOTEBOOK[:2]}` again"
        if not config.claims_reported():
            raise KeyError(message)
        print(message)  # a seeds run is what makes those numbers: it must reach the end (its table is not kept)
        runs = {seed: run for seed, run in runs.items() if seed not in missing}
    if not runs:
        print(f"no runs over seeds yet: `{seeds.COMMAND} {NOTEBOOK[:2]} --seeds 0 1 2` makes them")
        return pd.DataFrame()
    out = {}
    for dataset in DATASETS:
        for budget in BUDGETS[dataset]:
            for readout in READOUTS:
                names = {row: _name(dataset, budget, row, readout) for row in _keys(dataset)}
                scores = pd.DataFrame({seed: {row: run["metrics"][name] for row, name in names.items()}
                                       for seed, run in runs.items()})  # rows x seeds
                ranks = scores.rank(ascending=False, method="min").mean(axis=1)
                for row in names:
                    values = scores.loc[row].to_numpy(dtype=float)
                    spread = f" ± {np.std(values, ddof=1):.1f}" if len(values) > 1 else ""
                    cells = out.setdefault((DATASETS[dataset], f"{budget:,}", row), {})
                    cells[f"mean rank ({readout})"] = f"{ranks[row]:.1f}"
                    cells[f"{readout} (%) over seeds"] = f"{values.mean():.1f}{spread}"
    frame = pd.DataFrame(out).T.rename_axis(["dataset", "labels", "row"])
    frame.attrs["caption"] = (f"rank on each of pretraining seeds {', '.join(map(str, runs))} (1 = best test mean), "
                              "averaged; accuracy mean ± std over the seeds")
    return frame
