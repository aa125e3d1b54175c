"""Is the scratch baseline of notebook 05 at its best? Its recipe (learning rate, most steps) against its neighbours,
chosen on validation.

A baseline that loses by its recipe is a strawman. The notebook's scratch row trains with the course's one recipe
(AdamW, learning rate ``train.LR``, cosine decay over ``sizes.scratch_steps`` steps, stopped on validation). Here the
same runs, on the same labelled draws, are repeated at half and twice that learning rate and with twice the steps,
and validation accuracy (the best grading of each run, averaged over the draws) picks the recipe at each label
budget; the test error is shown beside it, never used to choose. It costs about ten minutes on two CPU cores (36
runs), so the lab run does not repeat it: one command writes the numbers and the notebook reads them,

    python -m course_lib.lessons.transformations.scratch_recipe      # lab, seed 0

as ``course_lib.seeds`` does for the pretraining seeds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from course_lib import config, data, seeds, train
from course_lib.lessons.transformations.from_scratch import ScratchRun, scratch_run
from course_lib.lessons.transformations.pretraining import NOTEBOOK, SIZES, Sizes, split
from course_lib.lessons.transformations.probing import draws_at, labelled_subset

COMMAND = "python -m course_lib.lessons.transformations.scratch_recipe"
LR_FACTORS = (0.5, 1.0, 2.0)  # times the course's learning rate
STEP_FACTORS = (1, 2)  # times sizes.scratch_steps
BUDGETS = (100, 1000)  # the label budgets the notebook records


def recipes(sizes: Sizes) -> list[tuple[float, int]]:
    """(learning rate, most steps) of every recipe tried; the course's own is (``train.LR``, ``scratch_steps``)."""
    return [(train.LR * f, sizes.scratch_steps * k) for k in STEP_FACTORS for f in LR_FACTORS]


def best_validation(run: ScratchRun) -> float:
    """The validation accuracy (%) of the weights a run keeps: its best grading."""
    return dict(run.curve)[run.best_step]


def sweep(train_xy, val_xy, test_xy, sizes: Sizes, seed: int = 0, budgets=BUDGETS) -> list[dict]:
    """Every recipe on the notebook's labelled draws at each budget: one row per (budget, recipe) with the mean best
    validation accuracy, the mean test error and how many draws stopped before their last step."""
    rows = []
    for budget in budgets:
        draws = [labelled_subset(train_xy[1].cpu(), budget, seed, d) for d in range(draws_at(budget, sizes))]
        for lr, steps in recipes(sizes):
            runs = [scratch_run(train_xy, idx, val_xy, test_xy, sizes, seed, lr=lr, steps=steps) for idx in draws]
            rows.append({"labels": budget, "learning rate": lr, "most steps": steps,
                         "validation accuracy": sum(map(best_validation, runs)) / len(runs),
                         "test error": sum(run.error for run in runs) / len(runs),
                         "stopped early": sum(run.stopped_early for run in runs), "draws": len(runs)})
    return rows


def results_file(profile: str = "lab", root: Path | None = None) -> Path:
    return seeds.check_file(NOTEBOOK, "scratch_recipe", profile, root)


def scratch_recipe_table(profile: str = "lab", root: Path | None = None) -> pd.DataFrame:
    """The sweep as the notebook shows it: per budget and recipe, validation accuracy and test error, the recipe
    validation picks and the course's own (at ``profile``'s sizes) marked. Reads the file ``COMMAND`` wrote (if it is
    absent: an empty table, and how to make it); every profile's notebook shows the lab sweep, as it shows the seeds."""
    path, sizes = results_file(profile, root), SIZES[profile]
    shown = path.relative_to(config.REPO_ROOT) if path.is_relative_to(config.REPO_ROOT) else path
    if not path.exists():  # a course installed without the committed results, or a seeds run's scratch folder
        print(f"no numbers of this check here ({shown}): `{COMMAND}` makes them (about 10 minutes on two cores)")
        return pd.DataFrame()
    saved = json.loads(path.read_text())
    print(f"`{COMMAND}` wrote {shown} ({saved['profile']}, seed {saved['seed']}, {saved['minutes']:.0f} min)")
    frame = pd.DataFrame(saved["rows"])
    chosen = frame.groupby("labels")["validation accuracy"].transform("max") == frame["validation accuracy"]
    ours = (frame["learning rate"] == train.LR) & (frame["most steps"] == sizes.scratch_steps)
    frame["recipe"] = [" + ".join(name for name, on in (("chosen on validation", c), ("the notebook's", o)) if on)
                       for c, o in zip(chosen, ours, strict=True)]
    frame["stopped early"] = [f"{s} of {d}" for s, d in zip(frame["stopped early"], frame["draws"], strict=True)]
    return frame.drop(columns="draws").set_index(["labels", "learning rate", "most steps"]).round(2)


def main(profile: str = "lab", seed: int = 0) -> Path:
    """Load the notebook's data at ``profile`` sizes, run ``sweep`` and write ``results_file``."""
    import time

    sizes = SIZES[profile]
    started = time.perf_counter()
    train_set = data.load_mnist(train=True, n=sizes.train_images)
    test_set = data.load_mnist(train=False, n=sizes.n_test)
    train_xy, val_xy = split(train_set.x, train_set.y, sizes, seed)
    rows = sweep(train_xy, val_xy, (test_set.x, test_set.y), sizes, seed)
    path = results_file(profile)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"notebook": NOTEBOOK, "profile": profile, "seed": seed, "command": COMMAND,
                                "minutes": (time.perf_counter() - started) / 60, "rows": rows}, indent=2) + "\n")
    return path


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="lab", choices=config.PROFILE_NAMES)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"wrote {main(args.profile, args.seed)}")
