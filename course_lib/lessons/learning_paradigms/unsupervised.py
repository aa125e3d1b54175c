"""Unsupervised learning: structure in x alone.

* clusters: k-means on the digits, never shown a label; the labels only grade the clusters afterwards (purity on
  held-out digits), and exercise 1 names each cluster with one label;
* a density p(x): a Gaussian mixture that scores digits (held-out log-likelihood, which also chooses the number of
  components on validation digits) and samples new ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split

from course_lib import checks, evaluate, show
from course_lib.lessons.learning_paradigms.digits import LEVELS, SIDE, Digits, as_images, one_thread
from course_lib.lessons.learning_paradigms.supervised import few_label_accuracy

# ----------------------------------------------------------------------------------------------------------------
# Clusters
# ----------------------------------------------------------------------------------------------------------------


@one_thread
def cluster(digits: Digits, k: int = 10, seed: int = 0) -> KMeans:
    """k-means on the training digits, never shown a label."""
    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit(digits.X_train)


def purity(kmeans: KMeans, digits: Digits) -> float:
    """Held-out purity: the fraction of test digits that share their cluster's most common label.

    The labels are used only to grade the clusters, never to fit them. Compare with ``random_purity``.
    """
    return evaluate.cluster_purity(kmeans.predict(digits.X_test), digits.y_test)


def random_purity(kmeans: KMeans, digits: Digits, seed: int = 0) -> float:
    """Purity of a grouping with the same cluster sizes that ignores the images: the test labels shuffled."""
    shuffled = np.random.default_rng(seed).permutation(digits.y_test)
    return evaluate.cluster_purity(kmeans.predict(digits.X_test), shuffled)


def show_centres(kmeans: KMeans, digits: Digits):
    """The k cluster centres as images; each titled with the digit most of its training members are."""
    members = kmeans.labels_
    titles = [f"mostly {np.bincount(digits.y_train[members == c], minlength=10).argmax()}"
              for c in range(kmeans.n_clusters)]
    fig = show.image_grid(as_images(kmeans.cluster_centers_), titles=titles, ncols=5, size=1.0)
    fig.suptitle("k-means centres (found without labels)", fontsize=10)
    return show.finish(fig)


# ----------------------------------------------------------------------------------------------------------------
# A density model p(x)
# ----------------------------------------------------------------------------------------------------------------


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


@one_thread
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


@one_thread
def fit_density(digits: Digits, n_components: int, seed: int = 0) -> GaussianMixture:
    """A mixture of full-covariance Gaussians as p(x), fitted on all (dequantized) training digits."""
    return _mixture(n_components, seed).fit(dequantize(digits.pixels_train, np.random.default_rng(seed)))


@one_thread
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


@one_thread
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
            ax.imshow(as_images(X[c : c + 1])[0, 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{scores[c]:+.1f}", fontsize=7)
        axes[r, 0].set_ylabel(name, fontsize=8)
    fig.suptitle("log p(x) per pixel, in nats", fontsize=9)
    return show.finish(fig)


# ----------------------------------------------------------------------------------------------------------------
# Exercise 1: from clusters to a classifier with ten labels
# ----------------------------------------------------------------------------------------------------------------


def name_clusters(centres: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Reference answer of exercise 1: each centre gets the label of the training digit nearest to it."""
    distances = ((centres[:, None, :] - X[None, :, :]) ** 2).sum(axis=-1)  # (k, n)
    return y[distances.argmin(axis=1)]


def cluster_accuracy(kmeans: KMeans, names: np.ndarray, digits: Digits) -> float:
    """Test accuracy of 'classify a digit by the name of its cluster' (10 labels used in all)."""
    return float(np.mean(np.asarray(names)[kmeans.predict(digits.X_test)] == digits.y_test))


def ten_label_accuracies(name_fn: Callable, digits: Digits, draws: int = 3, seed: int = 0
                         ) -> dict[str, evaluate.Spread]:
    """Two ways to spend ten labels, each as mean ± std (%) over ``draws`` draws (seeds ``seed``, ``seed + 1000``, ...):

    "one per k-means cluster"  k-means from that seed, each cluster named by ``name_fn`` (exercise 1: the label of the
                               training digit nearest to its centre), a digit classified by its cluster's name;
    "one random per digit"     the supervised classifier trained on one random training digit of each class.
    With ten labels, *which* digits get them moves the accuracy, hence the draws.
    """
    by_cluster, at_random = [], []
    for d in range(draws):
        kmeans = cluster(digits, k=10, seed=seed + 1000 * d)
        names = np.asarray(name_fn(kmeans.cluster_centers_, digits.X_train, digits.y_train))
        by_cluster.append(100.0 * cluster_accuracy(kmeans, names, digits))
        at_random.append(few_label_accuracy(digits, 1, seed + 1000 * d))
    return {"one per k-means cluster": evaluate.Spread.of(by_cluster),
            "one random per digit": evaluate.Spread.of(at_random)}


def check_cluster_names(fn: Callable) -> None:
    """Exercise 1: ``fn(centres, X_train, y_train)`` returns one label per cluster centre, checked against
    ``name_clusters`` on random points (the same every time: a seeded generator, not the notebook's stream).

    A wrong answer is compared with the usual mistakes (the nearest digit's index, the farthest digit, the most common
    label of the cluster's digits), so that the hint names the mistake, not the way to the answer."""
    rng = np.random.default_rng(0)
    centres, X, y = rng.normal(size=(4, 8)), rng.normal(size=(30, 8)), rng.integers(0, 10, size=30)
    got = checks.answer(lambda: np.asarray(fn(centres.copy(), X.copy(), y.copy())))
    expected = name_clusters(centres, X, y)
    distances = ((centres[:, None, :] - X[None, :, :]) ** 2).sum(axis=-1)  # (k, n)
    members = distances.argmin(axis=0)  # the nearest centre of each digit: its cluster
    mistakes = {
        "you returned the positions (row numbers in X) of the nearest training digits, not their labels":
            distances.argmin(axis=1),
        "each centre got the label of the training digit farthest from it, not the nearest":
            y[distances.argmax(axis=1)],
        "each centre got the most common label of the digits in its cluster; the exercise gives it the label of one "
        "digit only, the training digit nearest to the centre (a person labels one image per cluster)":
            np.array([np.bincount(y[members == c], minlength=10).argmax() for c in range(len(centres))]),
    }

    def hint() -> str:
        answer = got()
        for mistake, wrong in mistakes.items():
            if np.array_equal(answer, wrong):
                return f"{mistake}."
        return (f"{int(np.sum(answer != expected))} of {len(expected)} labels differ: each centre's label is the label "
                "of the one training digit nearest to it (smallest Euclidean distance).")

    checks.verdict("cluster names", [
        checks.returns(got, f"it was given centres {centres.shape}, X {X.shape} and y {y.shape} (NumPy arrays); it "
                            "should return one label per centre"),
        (lambda: got().shape == expected.shape,
         lambda: f"return one label per centre: an array of shape {expected.shape}, got shape {got().shape}."
                 + (" That is one per training digit: the nearest centre of each digit, not the nearest digit of "
                    "each centre." if got().shape == y.shape else "")),
        (lambda: bool(np.array_equal(got(), expected)), hint),
    ])
