"""The supervised fence given ten times the steps. On photos the board's fence runs all ``sizes.fence_steps`` steps
(300 in lab) with validation accuracy still rising: an upper reference lower than labels can make it.

The check trains the same fence, by the same recipe, on the same images and from the same initial weights, for up to
``STEP_FACTOR`` times the steps (and time cap), stopped on validation as on the board, and reads it by the board's
protocol (linear probe and kNN, layer and k chosen on validation, the same labelled draws), on each pretraining seed.
That is about three minutes a seed, which would push the lab run far past its time, so one command writes the numbers
and the notebook reads them beside its seeds runs' own fence:

    python -m course_lib.lessons.scoreboard.fence_longer      # lab, CIFAR-10, seeds 0, 1 and 2
"""

from __future__ import annotations

import dataclasses

from course_lib import config, seeds
from course_lib.lessons.scoreboard import protocol, recipes
from course_lib.lessons.scoreboard.claims import metric_name
from course_lib.lessons.scoreboard.datasets import BUDGETS, DATASETS, NOTEBOOK, SIZES, SUPERVISED, load

COMMAND = "python -m course_lib.lessons.scoreboard.fence_longer"
CHECK = "fence_longer"
STEP_FACTOR = 10
KEY, LONGER = "supervised", "supervised_longer"  # the board's fence's metrics' key, and this check's


def fence_metrics(seed: int = 0, profile: str = "lab", dataset: str = "cifar", budgets: tuple[int, ...] | None = None
                  ) -> dict[str, float]:
    """Train the fence for up to ``STEP_FACTOR`` times the board's steps, stopped on validation; its accuracy at every
    budget under both read-outs, named as the board names its own (``cifar_1000_supervised_longer_knn``, ...), the
    steps it trained, the step whose weights it kept and whether validation stopped it."""
    sizes = SIZES[profile]
    longer = dataclasses.replace(sizes, fence_steps=STEP_FACTOR * sizes.fence_steps,
                                 seconds=STEP_FACTOR * sizes.seconds)
    config.seed_everything(seed)  # as the notebook's session does
    split = load(dataset, sizes, seed)
    name = f"{dataset}: {SUPERVISED}, {STEP_FACTOR} times the steps"
    with config.isolated_rng(seed):  # as the board pretrains every row
        fence, history = recipes.supervised(split, longer, seed, name)
    budgets = budgets or BUDGETS[dataset]
    row = protocol.score(fence, split, sizes, seed, budgets, desc=name)
    return {**{metric_name(dataset, budget, LONGER, readout): float(protocol.accuracy(row, budget, readout))
               for budget in budgets for readout in protocol.READOUTS},
            f"{dataset}_steps_{LONGER}": history.values["val_step"][-1],  # its last grading: where it ended
            f"{dataset}_best_step_{LONGER}": history.values["best_step"][0],
            f"{dataset}_stopped_early_{LONGER}": history.values["stopped_early"][0]}


def orderings(dataset: str = "cifar", budgets: tuple[int, ...] | None = None) -> list[seeds.Ordering]:
    """The longer fence against the board's fence, at every budget and read-out."""
    return [seeds.Ordering(f"the fence with {STEP_FACTOR} times the steps beats the board's ({DATASETS[dataset]}, "
                           f"{budget:,} labels, {readout})", metric_name(dataset, budget, LONGER, readout),
                           metric_name(dataset, budget, KEY, readout))
            for readout in protocol.READOUTS for budget in budgets or BUDGETS[dataset]]


def fence_longer_table(profile: str = "lab", dataset: str = "cifar"):
    """``orderings`` over the seeds; before it, where each seed's longer fence stopped."""
    for seed, values in seeds.load_check(NOTEBOOK, CHECK, profile).items():
        how = "stopped on validation" if values[f"{dataset}_stopped_early_{LONGER}"] else "used every step"
        print(f"seed {seed}: the longer fence trained {values[f'{dataset}_steps_{LONGER}']:.0f} steps "
              f"({how}) and kept the weights of step {values[f'{dataset}_best_step_{LONGER}']:.0f}")
    return seeds.table(NOTEBOOK, orderings(dataset), profile, check=(CHECK, COMMAND))


if __name__ == "__main__":
    seeds.run_check(NOTEBOOK, CHECK, COMMAND, fence_metrics, __doc__.split("\n\n")[0])
