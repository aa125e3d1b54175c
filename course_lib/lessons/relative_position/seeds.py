"""Notebook 02 over several seeds: the detection transfer measured by the notebook's own code, seed by seed.

At this scale relative position does not beat random init on every seed, so the notebook *reports* that comparison,
as a table over seeds 0, 1 and 2 at the profile's sizes, instead of asserting it. The table comes from

    python -m course_lib.lessons.relative_position seeds [--profile lab] [--seeds 0 1 2]

which loads the data, pretrains and judges detection with the very functions the notebook calls (``split``,
``pretrain_all``, ``transfer``, ``pretext_accuracy``), and writes ``results/<profile>/seeds/02_relative_position.json``:
per seed the numbers the notebook records, then their mean and std. (A sub-folder, because ``results/<profile>/*.json``
holds exactly one entry per notebook.) It takes about three times the notebook's detection part.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from course_lib import config, data
from course_lib.lessons.relative_position.detection_transfer import (
    INITS,
    NAMES,
    NOTEBOOK,
    SIZES,
    Sizes,
    place_prior_map,
    pretext_accuracy,
    pretrain_all,
    split,
    transfer,
)

COMMAND = "python -m course_lib.lessons.relative_position seeds"
PRETEXT_PHOTOS = 2000  # held-out test photos the pretext accuracy is measured on (as in the notebook)


def seeds_file(profile: str, root: Path | None = None) -> Path:
    """Where the seeds command writes (and the notebook reads) the table of one profile."""
    return (root or config.results_root()) / profile / "seeds" / f"{NOTEBOOK}.json"


def measure(sizes: Sizes, seed: int, device: torch.device | str = "cpu", progress: bool = False) -> dict:
    """One seed of the notebook's detection experiment, cell for cell: {metric: number} and "capped" (the runs that
    stopped at their time cap) and "seconds"."""
    started = time.perf_counter()
    config.seed_everything(seed)  # as config.setup does at the top of the notebook
    train_set = data.load_cifar10(train=True, n=sizes.n_train).to(device)
    test_set = data.load_cifar10(train=False, n=sizes.n_test).to(device)
    scenes = split(train_set, test_set, sizes, seed)
    pretrained = pretrain_all(scenes, sizes, seed, progress)
    pretext = pretext_accuracy(pretrained.relpos, test_set.x[:PRETEXT_PHOTOS], colour_dropping=False, seed=seed)
    result = transfer(pretrained.backbones, scenes, sizes, seed, progress)
    return {**{f"map_{name}": result.frozen[name] for name in INITS},
            **{f"map_finetuned_{name}": result.finetuned[name] for name in INITS},
            "pretext_accuracy": pretext, "map_place_prior": place_prior_map(scenes.test_scenes),
            "capped": pretrained.capped + result.capped, "seconds": round(time.perf_counter() - started, 1)}


def summarise(runs: dict[int, dict]) -> dict:
    """The seeds file's content: every seed's numbers, then the mean and std (population) of each metric."""
    metrics = [key for key, value in next(iter(runs.values())).items() if key not in ("capped", "seconds")]
    values = {key: [run[key] for run in runs.values()] for key in metrics}
    return {"notebook": NOTEBOOK, "command": COMMAND, "seeds": {str(seed): run for seed, run in runs.items()},
            "mean": {key: float(np.mean(v)) for key, v in values.items()},
            "std": {key: float(np.std(v)) for key, v in values.items()}}


def run_seeds(profile: str = "lab", seeds=(0, 1, 2), root: Path | None = None, progress: bool = False) -> Path:
    """Measure every seed at the sizes of ``profile`` and write the seeds file; returns its path."""
    sizes, device = SIZES[profile], config.device()
    runs = {}
    for seed in seeds:
        runs[seed] = measure(sizes, seed, device, progress)
        print(f"seed {seed}: relative position {runs[seed]['map_relative_position']:.1f}, random init "
              f"{runs[seed]['map_random']:.1f} mAP@0.5 (frozen), {runs[seed]['seconds']:.0f} s", flush=True)
    path = seeds_file(profile, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"profile": profile, **summarise(runs)}, indent=2) + "\n")
    return path


# ---------------------------------------------------------------- the notebook's table

COLUMNS = {"map_supervised": NAMES["supervised"], "map_relative_position": NAMES["relative_position"],
           "map_random": NAMES["random"]}
GAP, GAP_FINETUNED = "relative position - random (frozen)", "relative position - random (fine-tuned)"


def _row(run: dict) -> dict[str, float]:
    row = {label: run[key] for key, label in COLUMNS.items()}
    row[GAP] = run["map_relative_position"] - run["map_random"]
    row[GAP_FINETUNED] = run["map_finetuned_relative_position"] - run["map_finetuned_random"]
    row["pretext accuracy (%)"] = run["pretext_accuracy"]
    return row


def seed_table(this_run: dict, seed: int, profile: str, root: Path | None = None) -> pd.DataFrame:
    """Frozen-backbone mAP@0.5 per seed from the seeds file, their mean ± std, and this run's numbers (``this_run``:
    the metrics the notebook records) as the last row. Without the file, says how to make it and shows this run."""
    path = seeds_file(profile, root)
    rows = {}
    if path.exists():
        saved = json.loads(path.read_text())
        runs = {int(s): run for s, run in saved["seeds"].items()}
        rows = {f"seed {s}" + (" (stopped at the time cap)" if run.get("capped") else ""): _row(run)
                for s, run in sorted(runs.items())}
        table = pd.DataFrame(rows).T
        spread = {column: f"{table[column].mean():.1f} ± {table[column].std(ddof=0):.1f}" for column in table}
        print(f"{len(runs)} seeds measured at {profile} size by `{saved['command']} --profile {profile}` "
              f"({path.relative_to(config.REPO_ROOT) if path.is_relative_to(config.REPO_ROOT) else path})")
    else:
        print(f"No seeds table for profile {profile!r} yet ({path} is missing): make it with `{COMMAND} --profile "
              f"{profile}` (about three times this notebook's detection part). Showing this run only.")
    formatted = {name: {column: f"{value:+.1f}" if column.startswith("relative position -") else f"{value:.1f}"
                        for column, value in row.items()} for name, row in rows.items()}
    if rows:
        formatted["mean ± std"] = spread
    formatted[f"this run (seed {seed})"] = {column: f"{value:+.1f}" if column.startswith("relative position -")
                                             else f"{value:.1f}" for column, value in _row(this_run).items()}
    return pd.DataFrame(formatted).T
