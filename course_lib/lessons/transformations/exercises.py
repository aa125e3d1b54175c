"""Notebook 05's exercise checkers: NT-Xent and the rotation bins of egomotion."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from course_lib import checks, config
from course_lib.pretext import transformations


def _nt_xent_with_self(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """The classic mistake, for a checker's hint: NT-Xent with each view left in its own denominator (k = i)."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    positives = torch.arange(len(z)).roll(len(z1))
    return F.cross_entropy(z @ z.T / temperature, positives)


def _usual_mistakes(temperature: float) -> dict[str, Callable]:
    """NT-Xent as students get it wrong, each with the words that name the mistake (never the answer)."""
    right = transformations.nt_xent
    return {
        "each view is still among its own negatives: the sum over k must leave k = i out":
            lambda z1, z2: _nt_xent_with_self(z1, z2, temperature),
        "the temperature is in the wrong place: the cosines are divided by tau, not multiplied":
            lambda z1, z2: right(z1, z2, 1 / temperature),
        "the projections are not scaled to unit length: sim is the cosine, not the plain dot product":
            lambda z1, z2: F.cross_entropy(_plain_logits(z1, z2) / temperature,
                                           torch.arange(2 * len(z1)).roll(len(z1))),
        "only one direction is averaged: the mean runs over all 2N views, those of z2 too":
            lambda z1, z2: F.cross_entropy(*_first_half(z1, z2, temperature)),
    }


def _plain_logits(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """Dot products without scaling to unit length (the no-normalisation mistake), k = i left out."""
    z = torch.cat([z1, z2])
    return (z @ z.T).masked_fill(torch.eye(len(z), dtype=torch.bool), float("-inf"))


def _first_half(z1: torch.Tensor, z2: torch.Tensor, temperature: float):
    """The logits and partners of z1's views only (the one-direction mistake)."""
    logits, positives = transformations._contrastive_logits(z1, z2, temperature)
    return logits[:len(z1)], positives[:len(z1)]


def check_nt_xent(fn) -> None:
    """Exercise: ``fn(z1, z2, temperature)`` = NT-Xent, compared with ``transformations.nt_xent`` on random
    projections at two temperatures, and on views identical to their partners (images orthogonal), where a view
    left among its own negatives shows most."""
    with config.isolated_rng(0):  # the same test projections every time; the notebook's random stream untouched
        cases = [(torch.randn(8, 16), torch.randn(8, 16), 0.3), (torch.randn(5, 7), torch.randn(5, 7), 0.1)]
    same = torch.eye(8)[:4]
    cases.append((same, same.clone(), 0.5))
    want = [float(transformations.nt_xent(*case)) for case in cases]
    z1, z2, tau = cases[0]
    first = torch.as_tensor(fn(z1.clone().requires_grad_(), z2.clone().requires_grad_(), tau))
    trainable = first.requires_grad
    got = [first.detach(), *(torch.as_tensor(fn(*case)).detach() for case in cases[1:])]

    def close(i: int, value: float) -> bool:
        return abs(float(got[i]) - value) < 1e-4 * max(1.0, abs(value))

    def hint(i: int) -> str:
        z1, _, tau = cases[i]
        what = "each view equal to its partner" if i == 2 else "random z1, z2"
        numbers = (f"for {what} ({z1.shape[0]} x {z1.shape[1]}) at temperature {tau} NT-Xent is {want[i]:.4f}, "
                   f"you gave {float(got[i]):.4f}: ")
        for mistake, wrong in _usual_mistakes(tau).items():
            if close(i, float(wrong(*cases[i][:2]))):
                return numbers + mistake
        return numbers + "compare each part of your loss with the formula for l_i above (the hint below helps)"

    checks.verdict("NT-Xent", [
        (lambda: all(g.numel() == 1 for g in got),
         lambda: "return one number, the mean of l_i over the 2N views; you gave shape "
                 f"{next(tuple(g.shape) for g in got if g.numel() != 1)}"),
        (lambda: trainable,
         "keep the loss a torch tensor computed from z1 and z2 (no .item(), no NumPy): training back-propagates "
         "through it"),
        *((lambda i=i: close(i, want[i]), lambda i=i: hint(i)) for i in (2, 0, 1)),
    ])


def check_rotation_bins(fn) -> None:
    """Exercise: ``fn(degrees)`` puts angles in [-30, 30) into 20 bins of 3 degrees, as the pretext labels."""
    bins = transformations.EgomotionBins()
    angles = torch.tensor([-30.0, -29.9, -27.0, -0.1, 0.0, 2.9, 3.0, 29.9])
    expected = bins.rotation_class(angles)
    answer = torch.as_tensor(fn(angles))
    checks.exercise("rotation bins", answer.shape == expected.shape and torch.equal(answer.long(), expected),
                    f"for angles {angles.tolist()} the bins are {expected.tolist()}, you gave {answer.tolist()}: "
                    "shift by 30 degrees, divide by the bin width (3 degrees), round down")
