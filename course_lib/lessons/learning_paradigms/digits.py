"""The data of notebook 00: real 8x8 handwritten digits, split once into train and held-out test.

scikit-learn's bundled ``load_digits`` (1,797 digits by 13 writers; no download). The supervised and the
unsupervised examples both learn from these digits, and both are graded on the same held-out ones.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from course_lib import data, show

LEVELS = 17  # the digits' pixels take the integer values 0..16
SIDE = 8  # 8 x 8 pixels


def one_thread(fn):
    """Run ``fn`` with BLAS/OpenMP limited to one thread: these problems are tiny, and two threads on two busy
    cores can be tens of times slower than one."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1):
            return fn(*args, **kwargs)

    return wrapper


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


def as_images(X: np.ndarray) -> np.ndarray:
    """(n, 64) rows in [0, 1] as (n, 1, 8, 8) images for ``show.image_grid``; ink drawn dark on white."""
    return 1.0 - np.clip(np.asarray(X, float), 0, 1).reshape(-1, 1, SIDE, SIDE)


def show_digits(digits: Digits, n: int = 16):
    """The first ``n`` training digits with their labels."""
    fig = show.image_grid(as_images(digits.X_train[:n]), titles=[f"y = {y}" for y in digits.y_train[:n]], size=0.72)
    return show.finish(fig)
