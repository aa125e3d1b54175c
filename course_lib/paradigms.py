"""Notebook 00: the three learning paradigms, each as a small runnable example.

* supervised:     learn y = f(x) from labelled pairs        -> a digits classifier
* unsupervised:   learn about x alone (clusters, p(x))      -> k-means and a Gaussian mixture that samples digits
* reinforcement:  choose actions to maximise future reward  -> an epsilon-greedy bandit agent, Q-learning on a grid
* and the bridge: withhold part of x and predict it         -> complete the bottom half of a digit from its top half

Data: scikit-learn's bundled ``load_digits`` (1,797 real 8x8 handwritten digits; no download).
The reinforcement-learning part is plain numpy, written to be read (Sutton & Barto 2018, ch. 2 and 6).
Every function takes a seed, so a notebook run is reproducible; every ``show_*`` returns one matplotlib figure,
already closed from pyplot's registry, so it appears exactly once when it is the last value of a cell.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from course_lib import checks, data, show

LEVELS = 17  # the digits' pixels take the integer values 0..16
SIDE = 8  # 8 x 8 pixels

def _one_thread(fn):
    """Run ``fn`` with BLAS/OpenMP limited to one thread: these problems are tiny, and two threads on two busy
    cores can be tens of times slower than one."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1):
            return fn(*args, **kwargs)

    return wrapper


# ----------------------------------------------------------------------------------------------------------------
# The data: 8x8 handwritten digits
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class Digits:
    """Real handwritten digits, split once into train and held-out test. ``X`` in [0, 1]; ``pixels`` are 0..16."""

    pixels_train: np.ndarray  # (n_train, 64) integers 0..16
    pixels_test: np.ndarray  # (n_test, 64)
    y_train: np.ndarray
    y_test: np.ndarray

    @property
    def X_train(self) -> np.ndarray:
        return self.pixels_train / (LEVELS - 1)

    @property
    def X_test(self) -> np.ndarray:
        return self.pixels_test / (LEVELS - 1)

    def __str__(self) -> str:
        n = len(self.y_train) + len(self.y_test)
        return (f"{n} digits of {SIDE}x{SIDE} pixels ({LEVELS} grey levels), 10 classes: "
                f"{len(self.y_train)} for training, {len(self.y_test)} held out for testing")


def load_digits(seed: int = 0, test_fraction: float = 0.3) -> Digits:
    """The course's digits (``data.load_digits``: scikit-learn's bundled UCI set, 13 writers), stratified split."""
    digits = data.load_digits()
    pixels = (digits.x.flatten(1) * (LEVELS - 1)).round().long().numpy()
    target = digits.y.numpy()
    p_tr, p_te, y_tr, y_te = train_test_split(pixels, target, test_size=test_fraction, random_state=seed,
                                              stratify=target)
    return Digits(p_tr, p_te, y_tr, y_te)


def _images(X: np.ndarray) -> np.ndarray:
    """(n, 64) rows in [0, 1] as (n, 1, 8, 8) images for ``show.image_grid``; ink drawn dark on white."""
    return 1.0 - np.clip(np.asarray(X, float), 0, 1).reshape(-1, 1, SIDE, SIDE)


def show_digits(digits: Digits, n: int = 16):
    """The first ``n`` training digits with their labels."""
    fig = show.image_grid(_images(digits.X_train[:n]), titles=[f"y = {y}" for y in digits.y_train[:n]], size=0.72)
    return show.finish(fig)


# ----------------------------------------------------------------------------------------------------------------
# 1. Supervised: y = f(x)
# ----------------------------------------------------------------------------------------------------------------


@_one_thread
def train_classifier(digits: Digits, seed: int = 0):
    """Multinomial logistic regression on the 64 standardised pixels: f(x) = softmax(W x + b)."""
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000, random_state=seed))
    return model.fit(digits.X_train, digits.y_train)


def accuracy(model, digits: Digits) -> float:
    """Fraction of held-out digits whose predicted label is right."""
    return float(np.mean(model.predict(digits.X_test) == digits.y_test))


def show_predictions(model, digits: Digits, n_right: int = 8, n_wrong: int = 8):
    """Held-out digits with the classifier's answer: a row it gets right, then a row of its mistakes (red)."""
    predicted = model.predict(digits.X_test)
    right = np.flatnonzero(predicted == digits.y_test)[:n_right]
    wrong = np.flatnonzero(predicted != digits.y_test)[:n_wrong]
    chosen = np.concatenate([right, wrong])
    titles = [f"f(x) = {predicted[i]}" if i in right else f"{predicted[i]}, is {digits.y_test[i]}" for i in chosen]
    fig = show.image_grid(_images(digits.X_test[chosen]), titles=titles, ncols=8, size=0.72)
    for ax, i in zip(fig.axes, chosen, strict=False):
        ax.title.set_color("black" if i in right else "red")
    return show.finish(fig)


# ----------------------------------------------------------------------------------------------------------------
# 2. Unsupervised: structure in x alone
# ----------------------------------------------------------------------------------------------------------------


@_one_thread
def cluster(digits: Digits, k: int = 10, seed: int = 0) -> KMeans:
    """k-means on the training digits, never shown a label."""
    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit(digits.X_train)


def purity(kmeans: KMeans, digits: Digits) -> float:
    """Held-out purity: the fraction of test digits that share their cluster's most common label.

    The labels are used only to grade the clusters, never to fit them. Compare with ``random_purity``.
    """
    clusters = kmeans.predict(digits.X_test)
    majority = sum(np.bincount(digits.y_test[clusters == c]).max() for c in np.unique(clusters))
    return float(majority / len(digits.y_test))


def random_purity(kmeans: KMeans, digits: Digits, seed: int = 0) -> float:
    """Purity of a grouping with the same cluster sizes that ignores the images: the test labels shuffled."""
    shuffled = np.random.default_rng(seed).permutation(digits.y_test)
    return purity(kmeans, Digits(digits.pixels_train, digits.pixels_test, digits.y_train, shuffled))


def show_centres(kmeans: KMeans, digits: Digits):
    """The k cluster centres as images; each titled with the digit most of its training members are."""
    members = kmeans.labels_
    titles = [f"mostly {np.bincount(digits.y_train[members == c], minlength=10).argmax()}"
              for c in range(kmeans.n_clusters)]
    fig = show.image_grid(_images(kmeans.cluster_centers_), titles=titles, ncols=5, size=1.0)
    fig.suptitle("k-means centres (found without labels)", fontsize=10)
    return show.finish(fig)


def dequantize(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Spread each grey level v over the interval [v, v+1)/17, so that a density on [0, 1]^64 is a fair model.

    (A density on exact integer values could grow without bound.) The uniform density on [0, 1]^64 then scores
    exactly 0 nats per pixel: a model that beats 0 has learned something about x.
    """
    return (pixels + rng.random(pixels.shape)) / LEVELS


def shuffle_pixels(X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each row's pixels in a random order: the same grey values, no longer a digit."""
    return np.array([rng.permutation(row) for row in X])


@dataclass
class Selection:
    """Train and validation log-likelihood per pixel of mixtures with different numbers of components."""

    components: list[int]
    train: list[float]
    validation: list[float]

    @property
    def best(self) -> int:
        return self.components[int(np.argmax(self.validation))]


def _mixture(n_components: int, seed: int) -> GaussianMixture:
    return GaussianMixture(n_components=n_components, covariance_type="full", reg_covar=1e-3, random_state=seed)


def loglik_per_pixel(model: GaussianMixture, X: np.ndarray) -> float:
    """Average log-density of the rows of X, in nats per pixel (0 = the uniform density on [0, 1]^64)."""
    return float(model.score(X) / X.shape[1])


@_one_thread
def select_components(digits: Digits, components: Sequence[int] = (1, 2, 5, 10, 20, 40), seed: int = 0,
                      validation_fraction: float = 0.25) -> Selection:
    """Fit a mixture of each size on part of the training digits; score it on the rest (the validation set)."""
    rng = np.random.default_rng(seed)
    X = dequantize(digits.pixels_train, rng)
    X_fit, X_val = train_test_split(X, test_size=validation_fraction, random_state=seed)
    train, validation = [], []
    for n in components:
        model = _mixture(n, seed).fit(X_fit)
        train.append(loglik_per_pixel(model, X_fit))
        validation.append(loglik_per_pixel(model, X_val))
    return Selection(list(components), train, validation)


def show_selection(selection: Selection):
    """Log-likelihood per pixel against the number of mixture components, on fitted and on validation digits."""
    xs = selection.components
    fig = show.curves({"training digits": selection.train, "validation digits": selection.validation},
                      x={"training digits": xs, "validation digits": xs}, xlabel="mixture components",
                      ylabel="log-likelihood (nats / pixel)", title=f"best on validation: {selection.best}")
    ax = fig.axes[0]
    ax.set_xscale("log")
    ax.set_xticks(xs, labels=[str(x) for x in xs])
    ax.minorticks_off()
    ax.axvline(selection.best, color="gray", linestyle=":")
    return show.finish(fig)


@_one_thread
def fit_density(digits: Digits, n_components: int, seed: int = 0) -> GaussianMixture:
    """A mixture of full-covariance Gaussians as p(x), fitted on all (dequantized) training digits."""
    return _mixture(n_components, seed).fit(dequantize(digits.pixels_train, np.random.default_rng(seed)))


@_one_thread
def density_scores(model: GaussianMixture, digits: Digits, seed: int = 0) -> dict[str, float]:
    """Log-likelihood per pixel of held-out digits, and of the same digits with their pixels shuffled."""
    rng = np.random.default_rng(seed + 1)  # a different stream from the one that dequantized the training set
    heldout = dequantize(digits.pixels_test, rng)
    return {"heldout": loglik_per_pixel(model, heldout),
            "shuffled": loglik_per_pixel(model, shuffle_pixels(heldout, rng))}


def sample_digits(model: GaussianMixture, n: int, seed: int = 0) -> np.ndarray:
    """n new digits drawn from the density model, as (n, 8, 8) images clipped to [0, 1]."""
    model.random_state = seed  # GaussianMixture.sample draws from the model's own random_state
    X, _ = model.sample(n)
    return np.clip(X, 0.0, 1.0).reshape(n, SIDE, SIDE)


@_one_thread
def show_density(model: GaussianMixture, digits: Digits, n: int = 8, seed: int = 0):
    """Three rows: held-out digits, the same with pixels shuffled, and new samples; each titled with log p(x)/64."""
    rng = np.random.default_rng(seed + 2)
    real = dequantize(digits.pixels_test[:n], rng)
    rows = {"held-out": real, "shuffled": shuffle_pixels(real, rng),
            "sampled": sample_digits(model, n, seed).reshape(n, -1)}
    fig, axes = plt.subplots(3, n, figsize=(0.72 * n, 3 * 0.95))
    for r, (name, X) in enumerate(rows.items()):
        scores = model.score_samples(X) / X.shape[1]
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(_images(X[c : c + 1])[0, 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{scores[c]:+.1f}", fontsize=7)
        axes[r, 0].set_ylabel(name, fontsize=8)
    fig.suptitle("log p(x) per pixel, in nats", fontsize=9)
    return show.finish(fig)


# ----------------------------------------------------------------------------------------------------------------
# 3. Reinforcement learning: actions that maximise future reward
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
# The bridge: withhold part of x and predict it
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class Completion:
    predicted: np.ndarray  # (n_test, 32) predicted bottom halves
    error: float  # mean squared error per pixel of the prediction
    mean_error: float  # ... of always predicting the average bottom half


@_one_thread
def complete_bottom_half(digits: Digits, neighbours: int = 5) -> Completion:
    """Self-supervision in miniature: input = top half of a digit, target = its bottom half. No labels used.

    The predictor is k-nearest-neighbour regression: average the bottom halves of the training digits whose
    top halves look most like this one.
    """
    half = SIDE * SIDE // 2
    top, bottom = digits.X_train[:, :half], digits.X_train[:, half:]
    model = KNeighborsRegressor(n_neighbors=neighbours).fit(top, bottom)
    predicted = model.predict(digits.X_test[:, :half])
    truth = digits.X_test[:, half:]
    return Completion(predicted, float(np.mean((predicted - truth) ** 2)),
                      float(np.mean((bottom.mean(axis=0) - truth) ** 2)))


def show_completion(completion: Completion, digits: Digits, n: int = 8):
    """Top row: held-out digits; bottom row: their top half given, the bottom half predicted (below the red line)."""
    half = SIDE * SIDE // 2
    given = digits.X_test[:n, :half]
    images = np.concatenate([digits.X_test[:n], np.hstack([given, completion.predicted[:n]])])
    fig = show.image_grid(_images(images), ncols=n, size=0.75)
    fig.suptitle("held-out digits (top); their top half given, the bottom half predicted (below)", fontsize=9)
    for i, ax in enumerate(fig.axes[: 2 * n]):
        ax.axis("on")  # a frame shows where each 8x8 image ends
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= n:
            ax.axhline(SIDE / 2 - 0.5, color="red", lw=1)
    return show.finish(fig)


# ----------------------------------------------------------------------------------------------------------------
# Exercise checkers
# ----------------------------------------------------------------------------------------------------------------


def name_clusters(centres: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Reference answer of exercise 1: each centre gets the label of the training digit nearest to it."""
    distances = ((centres[:, None, :] - X[None, :, :]) ** 2).sum(axis=-1)  # (k, n)
    return y[distances.argmin(axis=1)]


def cluster_accuracy(kmeans: KMeans, names: np.ndarray, digits: Digits) -> float:
    """Test accuracy of 'classify a digit by the name of its cluster' (10 labels used in all)."""
    return float(np.mean(np.asarray(names)[kmeans.predict(digits.X_test)] == digits.y_test))


def _verdict(name: str, tests: Sequence[tuple[Callable[[], bool], str | Callable[[], str]]]) -> None:
    """Run ``(test, hint)`` pairs in order; report the first that fails, or one "correct" when all pass."""
    for test, hint in tests:
        if not test():
            checks.exercise(name, False, hint() if callable(hint) else hint)
    checks.exercise(name, True, "")


def check_cluster_names(fn: Callable, kmeans: KMeans, digits: Digits) -> np.ndarray:
    """Exercise 1: ``fn(centres, X_train, y_train)`` returns one label per cluster centre."""
    answer = np.asarray(fn(kmeans.cluster_centers_, digits.X_train, digits.y_train))
    expected = name_clusters(kmeans.cluster_centers_, digits.X_train, digits.y_train)
    _verdict("cluster names", [
        (lambda: answer.shape == expected.shape,
         f"return one label per centre: an array of shape {expected.shape}, got shape {answer.shape}."),
        (lambda: bool(np.array_equal(answer, expected)),
         lambda: "for each centre, compute its squared distance to every training digit (broadcast "
                 "centres[:, None, :] - X[None, :, :] and sum over the last axis), take the argmin over the digits "
                 f"and return y at those indices. {int(np.sum(answer != expected))} of {len(expected)} labels differ."),
    ])
    return answer


def check_epsilon_greedy(fn: Callable) -> None:
    """Exercise 2: ``fn(estimates, epsilon, rng)`` returns one action (an int) for a (k,) array of estimates."""
    rng = np.random.default_rng(123)
    k, eps = 5, 0.3
    q = np.arange(k, dtype=float)  # action k-1 is the greedy one

    def greedy_when_epsilon_is_0():
        return all(int(fn(t, 0.0, rng)) == int(np.argmax(t)) for t in rng.normal(size=(200, k)))

    def shares(epsilon, n):
        return np.bincount([int(fn(q, epsilon, rng)) for _ in range(n)], minlength=k)[:k] / n

    _verdict("epsilon-greedy", [
        (greedy_when_epsilon_is_0, "with epsilon = 0 the agent must always exploit: return the index of the largest "
                                   "estimate (np.argmax), not the largest value itself."),
        (lambda: bool(np.all(np.abs(shares(1.0, 3000) - 1 / k) < 0.04)),
         f"with epsilon = 1 every action should be equally likely (about {1 / k:.2f} each). "
         "Explore with rng.integers(len(estimates)), over all actions."),
        (lambda: abs(shares(eps, 4000)[-1] - (1 - eps + eps / k)) < 0.04,
         f"with epsilon = {eps} the greedy action should be chosen about {1 - eps + eps / k:.2f} of the time "
         "(1 - epsilon, plus the epsilon / k chance that exploring picks it too). "
         "Explore when rng.random() < epsilon, exploit otherwise."),
    ])


def check_update(fn: Callable) -> None:
    """Exercise 3: ``fn(estimate, count, reward)`` is the incremental sample average (count includes this reward)."""
    rewards = np.array([2.0, -1.0, 4.0, 0.5, 3.0, -2.5])

    def running_average():
        estimate = 0.0
        for n, r in enumerate(rewards, start=1):
            estimate = fn(estimate, n, r)
            if not np.isclose(estimate, rewards[:n].mean()):
                return False
        return True

    _verdict("sample-average update", [
        (running_average, "after n rewards the estimate must equal their plain average. Move the old estimate a "
                          "fraction 1/count of the way towards the new reward. count already includes the new "
                          "reward: after the first reward, count = 1 and the estimate equals that reward."),
        (lambda: bool(np.allclose(fn(np.array([0.0, 1.0]), np.array([1.0, 2.0]), np.array([3.0, 3.0])), [3.0, 2.0])),
         "use plain arithmetic (no int(), no Python if) so the same code updates many arms at once."),
    ])
