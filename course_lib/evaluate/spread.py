"""``Spread``, a mean that keeps the spread of its draws, and comparing means by it (``differ``, ``compare_text``)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class Spread(float):
    """The mean of several draws (a float, so it sorts, compares and formats as the mean) that keeps their spread.

    ``Spread.of([71.0, 73.5, 72.1])`` is 72.2 with ``.std`` 1.0 (population std) and ``.draws`` 3; ``.text()`` is
    "72.2 ± 1.0". With few labels, *which* examples are labelled moves accuracy by points, so a number without its
    spread cannot say whether two methods differ.
    """

    std: float
    draws: int
    values: tuple[float, ...]  # the draws themselves, in draw order (empty where only mean and std are known)

    def __new__(cls, mean: float, std: float = 0.0, draws: int = 1, values: Iterable[float] = ()) -> Spread:
        value = super().__new__(cls, mean)
        value.std, value.draws, value.values = float(std), int(draws), tuple(float(v) for v in values)
        return value

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        values = [float(v) for v in values]
        return cls(float(np.mean(values)), float(np.std(values)), len(values), values)

    def text(self, digits: int = 1) -> str:
        return f"{float(self):.{digits}f} ± {self.std:.{digits}f}" if self.draws > 1 else f"{float(self):.{digits}f}"

    def __repr__(self) -> str:
        return f"Spread({float(self):.4g} ± {self.std:.2g}, draws={self.draws})"


def spread_of(value: float) -> float:
    """The std over draws of a ``Spread`` (0 for a plain number: one draw has no spread)."""
    return value.std if isinstance(value, Spread) else 0.0  # numpy floats have a .std method, not a spread


def differ(a: float, b: float) -> bool:
    """Whether two means differ by more than their spreads (|a - b| > std_a + std_b): otherwise "no difference"."""
    return abs(float(a) - float(b)) > spread_of(a) + spread_of(b)


def beats(a: float, b: float) -> bool:
    """``a`` is higher than ``b`` by more than the spread of their draws (``differ``)."""
    return a > b and differ(a, b)


def compare_text(a: float, b: float, names: tuple[str, str] = ("a", "b"), unit: str = " %",
                 lower_is_better: bool = False) -> str:
    """"a 72.2 ± 1.0 % vs b 70.1 ± 0.8 %: a higher" (or "a lower" for errors, ``lower_is_better``), or "...: no
    difference at this scale" when the gap is inside the spread of the draws."""
    def show(x):
        return x.text() if isinstance(x, Spread) else f"{float(x):.1f}"

    head = f"{names[0]} {show(a)}{unit} vs {names[1]} {show(b)}{unit}"
    if not differ(a, b):
        return f"{head}: no difference at this scale (the gap is inside the spread)"
    if lower_is_better:
        return f"{head}: {names[0] if a < b else names[1]} lower"
    return f"{head}: {names[0] if a > b else names[1]} higher"
