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
        "the temperature is ignored: your loss is NT-Xent at temperature 1, whatever temperature it is given":
            lambda z1, z2: right(z1, z2, 1.0),
        "your loss is the sum of l_i over the 2N views, not their mean":
            lambda z1, z2: right(z1, z2, temperature) * 2 * len(z1),
        "your loss is twice NT-Xent: the sum of l_i is divided by N, but there are 2N views":
            lambda z1, z2: right(z1, z2, temperature) * 2,
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
    """Exercise: ``fn(degrees)`` puts angles in [-30, 30) into 20 bins of 3 degrees, as the pretext labels, and angles
    outside into the first or last bin; class indices of type torch.long. A wrong answer is compared with the usual
    mistakes (rounding, truncating toward 0, no shift, other bin widths) so that the hint names the mistake."""
    bins = transformations.EgomotionBins()
    inside = torch.tensor([-30.0, -29.9, -27.0, -4.5, -0.1, 0.0, 2.9, 3.0, 16.5, 29.9])
    outside = torch.tensor([-45.0, -30.5, 30.0, 31.0, 60.0])
    got = [checks.answer(lambda a=a: torch.as_tensor(fn(a.clone()))) for a in (inside, outside)]
    want = [bins.rotation_class(a) for a in (inside, outside)]
    shifted = (inside + 30.0) / 3.0
    not_shifted = ("your bins are not shifted: the first bin, 0, holds the angles from -30 degrees (yours puts 0 "
                   "degrees there)")
    mistakes = {
        not_shifted: (inside / 3.0).floor(),
        not_shifted + " ": (inside / 3.0).floor().clamp(0, 19),
        "negative angles fall one bin too high: turning a number into an integer truncates it toward 0 (-0.1 / 3 "
        "becomes 0, not -1), which is not rounding down for negative numbers":
            (inside / 3.0).long() + 10,
        "your bins are rounded to the nearest whole number: an angle belongs to the bin that starts at or below it, "
        "so 1.6 degrees past a bin's start is still in that bin":
            shifted.round().clamp(0, 19),
    }

    def same(value: torch.Tensor, expected: torch.Tensor) -> bool:
        return value.shape == expected.shape and torch.equal(value.double(), expected.double())

    def inside_hint() -> str:
        yours = got[0]()
        numbers = (f"for angles {[round(a, 1) for a in inside.tolist()]} the bins are {want[0].tolist()}, you gave "
                   f"{yours.tolist()}: ")
        for mistake, wrong in mistakes.items():
            if same(yours, wrong):
                return numbers + mistake.strip()
        if yours.is_floating_point() and not bool((yours == yours.floor()).all()):
            return numbers + "your bins have fractions: a bin is a class index, a whole number"
        if float(yours[-1] - yours[0]) != bins.rotation_bins - 1:
            return numbers + (f"from -30 to 29.9 degrees your bins go from {yours[0].item():g} to "
                              f"{yours[-1].item():g}: the 60 degrees are split into 20 bins of 3 degrees each")
        return numbers + "compare your bins with these, angle by angle"

    checks.verdict("rotation bins", [
        checks.returns(got[0], f"it was given a 1-D tensor of {len(inside)} angles in degrees (floats); it should "
                               "return one bin per angle"),
        checks.has_shape(got[0], (len(inside),), "one bin per angle"),
        (lambda: same(got[0](), want[0]), inside_hint),
        (lambda: same(got[1](), want[1]),
         lambda: f"for angles outside [-30, 30), {outside.tolist()}, the bins are {want[1].tolist()}, you gave "
                 f"{got[1]().tolist()}: an angle outside is clamped to the first or the last bin (0 or 19), so that "
                 "every angle gets one of the 20 classes"),
        (lambda: got[0]().dtype == torch.long,
         lambda: f"your bins are of type {got[0]().dtype}: they are class indices, which the cross-entropy takes as "
                 "whole numbers of type torch.long"),
    ])
