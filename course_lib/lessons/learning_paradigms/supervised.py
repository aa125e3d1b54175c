"""Supervised learning, y = f(x), and the bridge to self-supervision: the same machinery with y taken from x.

* a classifier of the digits, learned from labelled pairs and graded on held-out ones;
* the bridge: withhold the bottom half of a digit and predict it from the top half. Input, target, loss and test
  error as in supervised learning, but the targets come from the images themselves: no label is used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from course_lib import evaluate, show
from course_lib.lessons.learning_paradigms.digits import SIDE, Digits, as_images, one_thread

# ----------------------------------------------------------------------------------------------------------------
# 1. Supervised: y = f(x)
# ----------------------------------------------------------------------------------------------------------------


@one_thread
def train_classifier(digits: Digits, seed: int = 0):
    """Multinomial logistic regression on the 64 standardised pixels: f(x) = softmax(W x + b)."""
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000, random_state=seed))
    return model.fit(digits.X_train, digits.y_train)


def accuracy(model, digits: Digits) -> float:
    """Fraction of held-out digits whose predicted label is right."""
    return float(np.mean(model.predict(digits.X_test) == digits.y_test))


@one_thread
def few_label_accuracy(digits: Digits, per_class: int, seed: int = 0) -> float:
    """Held-out accuracy (%) of the same classifier trained on only ``per_class`` random training digits of each
    class (``evaluate.few_labels``: which digits get the labels is drawn from ``seed``)."""
    idx = evaluate.few_labels(torch.as_tensor(digits.y_train), per_class, seed).numpy()
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000, random_state=seed))
    model.fit(digits.X_train[idx], digits.y_train[idx])
    return 100.0 * accuracy(model, digits)


def show_predictions(model, digits: Digits, n_right: int = 8, n_wrong: int = 8):
    """Held-out digits with the classifier's answer: a row it gets right, then a row of its mistakes (red)."""
    predicted = model.predict(digits.X_test)
    right = np.flatnonzero(predicted == digits.y_test)[:n_right]
    wrong = np.flatnonzero(predicted != digits.y_test)[:n_wrong]
    chosen = np.concatenate([right, wrong])
    titles = [f"f(x) = {predicted[i]}" if i in right else f"{predicted[i]}, is {digits.y_test[i]}" for i in chosen]
    fig = show.image_grid(as_images(digits.X_test[chosen]), titles=titles, ncols=8, size=0.72)
    for ax, i in zip(fig.axes, chosen, strict=False):
        ax.title.set_color("black" if i in right else "red")
    return show.finish(fig)


# ----------------------------------------------------------------------------------------------------------------
# The bridge: withhold part of x and predict it
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class Completion:
    predicted: np.ndarray  # (n_test, 32) predicted bottom halves
    error: float  # mean squared error per pixel of the prediction
    mean_error: float  # ... of always predicting the average bottom half


@one_thread
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
    fig = show.image_grid(as_images(images), ncols=n, size=0.75)
    fig.suptitle("held-out digits (top); their top half given, the bottom half predicted (below)", fontsize=9)
    for i, ax in enumerate(fig.axes[: 2 * n]):
        ax.axis("on")  # a frame shows where each 8x8 image ends
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= n:
            ax.axhline(SIDE / 2 - 0.5, color="red", lw=1)
    return show.finish(fig)
