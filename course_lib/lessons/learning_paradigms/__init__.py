"""Notebook 00: the three learning paradigms, each as a small runnable example, one module each.

* ``supervised``:     learn y = f(x) from labelled pairs -> a digits classifier; and the bridge to self-supervision:
                      withhold part of x and predict it  -> complete the bottom half of a digit from its top half
* ``unsupervised``:   learn about x alone               -> k-means, and a Gaussian mixture that samples digits
* ``reinforcement``:  actions that maximise reward      -> an epsilon-greedy bandit agent, Q-learning on a grid

Data (``digits``): scikit-learn's bundled ``load_digits``, 1,797 real 8x8 handwritten digits; no download.
Every function takes a seed, so a notebook run is reproducible; every ``show_*`` returns one matplotlib figure,
already closed from pyplot's registry, so it appears exactly once when it is the last value of a cell. Each exercise
checker sits beside the code it checks. This module holds the notebook's sizes, the orderings it states
(``ORDERINGS``, shown over pretraining seeds by ``course_lib.seeds``) and re-exports what it calls.
"""

from __future__ import annotations

from dataclasses import dataclass

from course_lib import config, seeds
from course_lib.lessons.learning_paradigms.digits import Digits, load_digits, show_digits
from course_lib.lessons.learning_paradigms.reinforcement import (
    CliffWalk,
    check_epsilon_greedy,
    check_update,
    compare_bandit_agents,
    greedy_path,
    q_learning,
    random_returns,
    show_bandit,
    show_policy,
    show_returns,
)
from course_lib.lessons.learning_paradigms.supervised import (
    accuracy,
    complete_bottom_half,
    few_label_accuracy,
    show_completion,
    show_predictions,
    train_classifier,
)
from course_lib.lessons.learning_paradigms.unsupervised import (
    check_cluster_names,
    cluster,
    cluster_accuracy,
    density_scores,
    fit_density,
    purity,
    random_purity,
    select_components,
    show_centres,
    show_density,
    show_selection,
    ten_label_accuracies,
)

NOTEBOOK = "00_learning_paradigms"


@dataclass(frozen=True)
class Sizes(config.Profile):
    """Notebook 00's sizes: the shared ones, and how long the reinforcement-learning agents learn."""

    bandit_runs: int  # independent bandit problems averaged (Sutton & Barto use 2,000)
    bandit_steps: int  # steps per bandit run
    cliff_episodes: int  # Q-learning episodes on the cliff walk


SIZES = config.lesson_sizes(
    Sizes,
    ci=dict(bandit_runs=200, bandit_steps=500, cliff_episodes=300),
    lab=dict(bandit_runs=1000, bandit_steps=1000, cliff_episodes=500),
    full=dict(bandit_runs=2000, bandit_steps=1000, cliff_episodes=500),
)

# every ordering the notebook states, on the numbers it records: seeds.table shows each over seeds 0, 1 and 2
ORDERINGS: list[seeds.Ordering] = [
    seeds.Ordering("RL: the learning agent (epsilon = 0.1) collects far more reward than a random one",
                   "bandit_reward_learned", "bandit_reward_random"),
    seeds.Ordering("RL: some exploration (epsilon = 0.1) beats pure greed (epsilon = 0)",
                   "bandit_reward_learned", "bandit_reward_greedy"),
    seeds.Ordering("unsupervised: held-out digits score above the same digits with shuffled pixels (nats per pixel)",
                   "heldout_loglik_per_pixel", "shuffled_loglik_per_pixel"),
]

__all__ = [
    "NOTEBOOK", "ORDERINGS", "SIZES", "Sizes",
    "Digits", "load_digits", "show_digits",
    "accuracy", "complete_bottom_half", "few_label_accuracy", "show_completion", "show_predictions", "train_classifier",
    "check_cluster_names", "cluster", "cluster_accuracy", "density_scores", "fit_density", "purity", "random_purity",
    "select_components", "show_centres", "show_density", "show_selection", "ten_label_accuracies",
    "CliffWalk", "check_epsilon_greedy", "check_update", "compare_bandit_agents", "greedy_path", "q_learning",
    "random_returns", "show_bandit", "show_policy", "show_returns",
]
