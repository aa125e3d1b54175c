"""Notebook 05's exercise checkers: NT-Xent and the rotation bins of egomotion."""

from __future__ import annotations

import torch

from course_lib import checks, config
from course_lib.pretext import transformations


def _nt_xent_with_self(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """The classic mistake, for a checker's hint: NT-Xent with each view left in its own denominator (k = i)."""
    z = torch.nn.functional.normalize(torch.cat([z1, z2]), dim=1)
    positives = torch.arange(len(z)).roll(len(z1))
    return torch.nn.functional.cross_entropy(z @ z.T / temperature, positives)


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
        if close(i, float(_nt_xent_with_self(*cases[i]))):
            return numbers + ("each view is still among its own negatives; leave k = i out of the denominator (fill "
                              "the diagonal of the 2N x 2N similarity matrix with -inf before the softmax)")
        return numbers + ("scale every z to unit length, divide the 2N x 2N cosines by the temperature, leave k = i "
                          "out, and average -log softmax at each view's partner (row i of z1 pairs with row i of z2) "
                          "over all 2N views")

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
