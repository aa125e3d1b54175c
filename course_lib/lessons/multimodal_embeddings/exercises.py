"""Notebook 11's exercise checker: the symmetric InfoNCE loss (``check_infonce``)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from course_lib import checks, config
from course_lib.pretext import joint_embedding as je

# --- exercise checker ----------------------------------------------------------------------------------------------

def check_infonce(fn) -> None:
    """Exercise: ``fn(image, other, log_scale)`` = the symmetric InfoNCE loss, ``je.symmetric_infonce``, on random
    embeddings that are not unit length; the hints name the usual mistakes."""
    with config.isolated_rng(0):
        image, other = 3 * torch.randn(8, 5), 0.5 * torch.randn(8, 5)
    t = math.log(10.0)
    want = je.symmetric_infonce(image, other, t)
    got = torch.as_tensor(fn(image, other, t)).float()
    own = torch.arange(8)
    v, a = F.normalize(image, dim=1), F.normalize(other, dim=1)
    logits = math.exp(t) * v @ a.T

    def near(x) -> bool:
        return got.numel() == 1 and abs(float(got) - float(x)) < 1e-4

    def both_ways(scores: torch.Tensor) -> torch.Tensor:
        return (F.cross_entropy(scores, own) + F.cross_entropy(scores.T, own)) / 2

    checks.verdict("symmetric InfoNCE", [
        (lambda: got.numel() == 1, f"return one number (the mean loss over the batch); got shape {tuple(got.shape)}"),
        (lambda: not near(F.cross_entropy(logits, own)) and not near(F.cross_entropy(logits.T, own)),
         "only one direction: average the cross-entropy along the rows (image -> other) and along the columns "
         "(other -> image, the transposed logits)"),
        (lambda: not near(both_ways(v @ a.T / math.exp(t))) and not near(both_ways(t * v @ a.T)),
         "the temperature the wrong way: log_scale is t, the logits are exp(t) * cosine (multiply by the scale "
         "1 / temperature, do not divide, and take the exp of t)"),
        (lambda: not near(both_ways(math.exp(t) * image @ other.T)),
         "normalise the embeddings first (F.normalize(x, dim=1)): the score is a cosine"),
        (lambda: near(want), lambda: f"expected {float(want):.4f}, got {float(got):.4f}: logits exp(t) * v @ a.T of "
         "unit vectors v, a; the target of row i (and of column i) is i; average the two cross-entropies"),
    ])
