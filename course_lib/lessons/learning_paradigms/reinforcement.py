"""Reinforcement learning: actions that maximise future reward (Sutton & Barto 2018, ch. 2 and 6).

* the 10-armed bandit: epsilon-greedy agents with sample-average estimates, against a random one and the best arm;
* cliff walking: tabular Q-learning, where a good move is one that leads to reward later.

Plain numpy, written to be read; every function takes a seed or a numpy generator, so a run is reproducible.
The bandit's pieces are exercises 2 and 3, checked by ``check_epsilon_greedy`` and ``check_update``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from course_lib import checks, show

# ----------------------------------------------------------------------------------------------------------------
# The 10-armed bandit
# ----------------------------------------------------------------------------------------------------------------


def greedy_action(estimates: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The action with the highest estimated value (along the last axis); ties broken at random."""
    estimates = np.asarray(estimates, float)
    is_best = estimates == estimates.max(axis=-1, keepdims=True)
    return np.argmax(is_best * rng.random(estimates.shape), axis=-1)


def epsilon_greedy(estimates: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
    """With probability epsilon a uniformly random action (explore), otherwise the greedy one (exploit).

    ``estimates`` is (k,) for one agent or (n, k) for n agents at once; the result has shape () or (n,).
    """
    estimates = np.asarray(estimates, float)
    greedy = greedy_action(estimates, rng)
    explore = rng.random(greedy.shape) < epsilon
    return np.where(explore, rng.integers(estimates.shape[-1], size=greedy.shape), greedy)


def update_estimate(estimate, count, reward):
    """Sample average, updated one reward at a time: Q_n = Q_{n-1} + (R_n - Q_{n-1}) / n  (n counts R_n)."""
    return estimate + (reward - estimate) / count


@dataclass
class BanditRun:
    """Rewards of one kind of agent on ``n_runs`` independent k-armed bandit problems."""

    name: str
    rewards: np.ndarray  # (n_runs, n_steps)
    optimal: np.ndarray  # (n_runs, n_steps) True where the agent pulled the best arm
    best_mean: float  # expected reward per step of an agent that knows the best arm

    def mean_reward(self, last: float = 0.2) -> float:
        """Average reward per step over the last ``last`` fraction of the steps (after learning)."""
        steps = self.rewards.shape[1]
        return float(self.rewards[:, int(round(steps * (1 - last))):].mean())


def run_bandit(epsilon: float, n_runs: int = 1000, n_steps: int = 1000, k: int = 10, seed: int = 0,
               name: str | None = None) -> BanditRun:
    """Sutton & Barto's 10-armed testbed: ``n_runs`` bandits at once, each played by its own epsilon-greedy agent.

    Arm a of a bandit pays N(q*[a], 1); the q* are drawn N(0, 1) per bandit. The agent keeps a sample-average
    estimate Q[a] of each arm. Same seed -> same bandits, so agents with different epsilons meet the same problems.
    """
    rng = np.random.default_rng(seed)
    q_star = rng.normal(size=(n_runs, k))  # true value of each arm, one row per bandit
    Q = np.zeros((n_runs, k))  # the agents' estimates
    N = np.zeros((n_runs, k))  # how often each arm was pulled
    rows = np.arange(n_runs)
    rewards = np.empty((n_runs, n_steps))
    optimal = np.empty((n_runs, n_steps), dtype=bool)
    best = q_star.argmax(axis=1)
    for t in range(n_steps):
        a = epsilon_greedy(Q, epsilon, rng)  # one action per bandit
        r = rng.normal(q_star[rows, a], 1.0)  # the reward it pays
        N[rows, a] += 1
        Q[rows, a] = update_estimate(Q[rows, a], N[rows, a], r)  # learn from it
        rewards[:, t], optimal[:, t] = r, a == best
    return BanditRun(name or f"epsilon = {epsilon:g}", rewards, optimal, float(q_star.max(axis=1).mean()))


def compare_bandit_agents(epsilons: Sequence[float] = (0.0, 0.01, 0.1), n_runs: int = 1000, n_steps: int = 1000,
                          seed: int = 0) -> dict[str, BanditRun]:
    """Epsilon-greedy agents with several epsilons, and a random agent (epsilon = 1), on the same bandits."""
    runs = {f"epsilon = {e:g}": run_bandit(e, n_runs, n_steps, seed=seed) for e in epsilons}
    runs["random"] = run_bandit(1.0, n_runs, n_steps, seed=seed, name="random")
    return runs


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    window = max(1, min(window, len(values)))
    return np.convolve(values, np.ones(window) / window, mode="valid")


def show_bandit(runs: dict[str, BanditRun], window: int = 10):
    """Average reward per step (over all runs) for each agent, beside the best possible."""
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for name, run in runs.items():
        ax.plot(_smooth(run.rewards.mean(axis=0), window), label=name, lw=1.2)
    best = next(iter(runs.values())).best_mean
    ax.axhline(best, color="black", linestyle="--", lw=1, label="always the best arm")
    n_runs = next(iter(runs.values())).rewards.shape[0]
    ax.set(xlabel="step", ylabel="average reward", title=f"10-armed bandit, mean of {n_runs} runs")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    return show.finish(fig)


# ----------------------------------------------------------------------------------------------------------------
# Cliff walking: observations and delayed reward
# ----------------------------------------------------------------------------------------------------------------


class CliffWalk:
    """Sutton & Barto's Example 6.6. A 4 x 12 grid: start bottom-left, goal bottom-right, the cells between are a
    cliff. Each move costs -1; stepping into the cliff costs -100 and sends the agent back to the start.

    The observation is the agent's cell (an integer 0..47), the actions are up, down, left, right.
    """

    rows, cols = 4, 12
    moves = ((-1, 0), (1, 0), (0, -1), (0, 1))
    arrows = "↑↓←→"
    n_actions = 4

    def __init__(self):
        self.n_states = self.rows * self.cols
        self.start = self.cell(self.rows - 1, 0)
        self.goal = self.cell(self.rows - 1, self.cols - 1)

    def cell(self, row: int, col: int) -> int:
        return row * self.cols + col

    def is_cliff(self, state: int) -> bool:
        row, col = divmod(state, self.cols)
        return row == self.rows - 1 and 0 < col < self.cols - 1

    def step(self, state: int, action: int) -> tuple[int, float, bool]:
        """(next state, reward, episode over?) after taking ``action`` in ``state``."""
        row, col = divmod(state, self.cols)
        d_row, d_col = self.moves[action]
        nxt = self.cell(min(max(row + d_row, 0), self.rows - 1), min(max(col + d_col, 0), self.cols - 1))
        if self.is_cliff(nxt):
            return self.start, -100.0, False
        return nxt, -1.0, nxt == self.goal


@dataclass
class QAgent:
    Q: np.ndarray  # (n_states, n_actions) estimated return of each action in each state
    returns: np.ndarray  # total reward of each training episode


def q_learning(env: CliffWalk, episodes: int = 500, alpha: float = 0.5, epsilon: float = 0.1, gamma: float = 1.0,
               max_steps: int = 200, seed: int = 0) -> QAgent:
    """Tabular Q-learning (Watkins 1989): act epsilon-greedily, then move Q(s, a) towards r + gamma max_a' Q(s', a')."""
    rng = np.random.default_rng(seed)
    Q = np.zeros((env.n_states, env.n_actions))
    returns = np.zeros(episodes)
    for episode in range(episodes):
        state = env.start
        for _ in range(max_steps):
            action = int(epsilon_greedy(Q[state], epsilon, rng))
            nxt, reward, done = env.step(state, action)
            target = reward + (0.0 if done else gamma * Q[nxt].max())  # the reward now + the best future estimate
            Q[state, action] += alpha * (target - Q[state, action])
            returns[episode] += reward
            state = nxt
            if done:
                break
    return QAgent(Q, returns)


def random_returns(env: CliffWalk, episodes: int = 100, max_steps: int = 200, seed: int = 0) -> np.ndarray:
    """Total reward per episode of an agent that picks uniformly random actions (same step limit)."""
    rng = np.random.default_rng(seed)
    returns = np.zeros(episodes)
    for episode in range(episodes):
        state = env.start
        for _ in range(max_steps):
            state, reward, done = env.step(state, int(rng.integers(env.n_actions)))
            returns[episode] += reward
            if done:
                break
    return returns


def greedy_path(env: CliffWalk, Q: np.ndarray, max_steps: int = 100) -> tuple[list[int], float]:
    """Follow the greedy policy from the start (no exploration): the cells visited and the total reward."""
    state, path, total = env.start, [env.start], 0.0
    for _ in range(max_steps):
        state, reward, done = env.step(state, int(np.argmax(Q[state])))
        path.append(state)
        total += reward
        if done:
            break
    return path, total


def show_returns(agent: QAgent, random: np.ndarray, window: int = 20):
    """Reward per episode while Q-learning (smoothed), with the best possible (-13) and the random agent's mean."""
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.plot(np.arange(window - 1, len(agent.returns)), _smooth(agent.returns, window), label="Q-learning (ε = 0.1)")
    ax.axhline(-13, color="black", linestyle="--", lw=1, label="shortest path (-13)")
    ax.axhline(-100, color="gray", lw=0, label=f"random agent: {random.mean():.0f} per episode (off the chart)")
    ax.set_ylim(-200, 0)
    ax.set(xlabel="episode", ylabel=f"reward per episode (mean of {window})", title="cliff walking")
    ax.legend(fontsize=7, loc="lower right", framealpha=1)
    ax.grid(alpha=0.3)
    return show.finish(fig)


def show_policy(env: CliffWalk, Q: np.ndarray):
    """The greedy action in every cell as an arrow; the cliff in grey, the greedy path from S to G in orange."""
    path, _ = greedy_path(env, Q)
    fig, ax = plt.subplots(figsize=(6, 2.3))
    ax.set_xlim(-0.5, env.cols - 0.5)
    ax.set_ylim(env.rows - 0.5, -0.5)
    for state in range(env.n_states):
        row, col = divmod(state, env.cols)
        if env.is_cliff(state):
            ax.add_patch(plt.Rectangle((col - 0.5, row - 0.5), 1, 1, color="0.75"))
            continue
        on_path = state in path
        if on_path:
            ax.add_patch(plt.Rectangle((col - 0.5, row - 0.5), 1, 1, color="orange", alpha=0.3))
        label = "G" if state == env.goal else env.arrows[int(np.argmax(Q[state]))]
        ax.text(col, row, ("S " if state == env.start else "") + label, ha="center", va="center",
                fontsize=11 if on_path else 9, color="black" if on_path else "0.35")
    ax.text(env.cols / 2 - 0.5, env.rows - 1, "cliff (-100)", ha="center", va="center", fontsize=8)
    ax.set_xticks(np.arange(-0.5, env.cols), labels=[])
    ax.set_yticks(np.arange(-0.5, env.rows), labels=[])
    ax.grid(color="0.6", lw=0.5)
    ax.tick_params(length=0)
    ax.set_title("greedy policy after Q-learning", fontsize=9)
    return show.finish(fig)


# ----------------------------------------------------------------------------------------------------------------
# Exercises 2 and 3: the bandit agent's two pieces
# ----------------------------------------------------------------------------------------------------------------


def check_epsilon_greedy(fn: Callable) -> None:
    """Exercise 2: ``fn(estimates, epsilon, rng)`` returns one action (an int) for a (k,) array of estimates."""
    rng = np.random.default_rng(123)
    k, eps = 5, 0.3
    q = np.arange(k, dtype=float)  # action k-1 is the greedy one

    def greedy_when_epsilon_is_0():
        return all(int(fn(t, 0.0, rng)) == int(np.argmax(t)) for t in rng.normal(size=(200, k)))

    def shares(epsilon, n):
        return np.bincount([int(fn(q, epsilon, rng)) for _ in range(n)], minlength=k)[:k] / n

    def same_choices_from_the_same_rng():  # whatever np.random's global stream holds (it is put back after)
        state, runs = np.random.get_state(), []
        try:
            for global_seed in (1, 2):
                np.random.seed(global_seed)
                seeded = np.random.default_rng(7)
                runs.append([int(fn(q, 0.5, seeded)) for _ in range(100)])
        finally:
            np.random.set_state(state)
        return runs[0] == runs[1]

    def not_greedy_at_0() -> str:
        tries = rng.normal(size=(50, k))
        if all(int(fn(t, 1.0, rng)) == int(np.argmax(t)) for t in tries):
            return ("your agent explores when it should exploit: with epsilon = 0 it picked random actions and with "
                    "epsilon = 1 it always took the best one. It explores with probability 1 - epsilon instead of "
                    "epsilon: your comparison with epsilon is the wrong way round.")
        if all(int(fn(t, 0.0, rng)) == int(np.argmin(t)) for t in tries):
            return "with epsilon = 0 your agent took the action with the smallest estimate: exploit the largest."
        return ("with epsilon = 0 the agent must always exploit: return the index of the largest estimate "
                "(np.argmax), not the largest value itself.")

    checks.verdict("epsilon-greedy", [
        (greedy_when_epsilon_is_0, not_greedy_at_0),
        (lambda: bool(np.all(np.abs(shares(1.0, 3000) - 1 / k) < 0.04)),
         f"with epsilon = 1 every action should be equally likely (about {1 / k:.2f} each). "
         "Explore with rng.integers(len(estimates)), over all actions."),
        (lambda: abs(shares(eps, 4000)[-1] - (1 - eps + eps / k)) < 0.04,
         f"with epsilon = {eps} the greedy action should be chosen about {1 - eps + eps / k:.2f} of the time "
         "(1 - epsilon, plus the epsilon / k chance that exploring picks it too). "
         "Explore when rng.random() < epsilon, exploit otherwise."),
        (same_choices_from_the_same_rng, "given the same rng your agent made different choices: draw every random "
                                         "number from the rng argument, not from np.random's global stream."),
    ])


def check_update(fn: Callable) -> None:
    """Exercise 3: ``fn(estimate, count, reward)`` is the incremental sample average (count includes this reward)."""
    rewards = np.array([2.0, -1.0, 4.0, 0.5, 3.0, -2.5])
    fn = checks.guarded(fn)  # what it raises (a Python if or int() on arrays) becomes the hint, not a traceback

    def running_average():
        estimate = 0.0
        for n, r in enumerate(rewards, start=1):
            estimate = fn(estimate, n, r)
            if not np.isclose(estimate, rewards[:n].mean()):
                return False
        return True

    def named_mistake() -> str:
        """What a wrong update did, in words, read off single updates from the estimate 2 with the reward 8."""
        at_4, at_7 = float(fn(2.0, 4, 8.0)), float(fn(2.0, 7, 8.0))
        if np.isclose(at_4, 2.0) and np.isclose(at_7, 2.0):
            return ("your estimate did not move at all (for count > 1): is an integer division (//) rounding the "
                    "step down to 0? ")
        if np.isclose(at_4, 5.0) and np.isclose(at_7, 5.0):
            return ("you take the plain average of the old estimate and the new reward, as if the old estimate stood "
                    "for one reward; it stands for all count - 1 earlier rewards, so it weighs more. ")
        if np.isclose(at_4, at_7):
            return ("your step does not depend on count (a constant step size): that is a recency-weighted average, "
                    "the bonus question, not the plain average of all rewards so far. ")
        if np.isclose(at_4, 3.0) and np.isclose(at_7, 2.0):
            return ("your result is rounded down: integer division (//) throws the fraction away; use true division "
                    "(/). ")
        if np.isclose(at_4, 2.0 + 6.0 / 5) and np.isclose(at_7, 2.0 + 6.0 / 8):
            return "your step is 1/(count + 1), one reward too many: it moves the estimate too little. "
        if np.isclose(at_4, 2.0 + 6.0 / 3) and np.isclose(at_7, 2.0 + 6.0 / 6):
            return "your step is 1/(count - 1), one reward too few: it moves the estimate too far. "
        return ""

    checks.verdict("sample-average update", [
        (running_average,
         lambda: named_mistake() + "After n rewards the estimate must equal their plain average; count already "
                                   "includes the new reward: after the first reward, count = 1 and the estimate "
                                   "equals that reward."),
        (lambda: bool(np.allclose(fn(np.array([0.0, 1.0]), np.array([1.0, 2.0]), np.array([3.0, 3.0])), [3.0, 2.0])),
         "use plain arithmetic (no int(), no Python if) so the same code updates many arms at once."),
    ])
