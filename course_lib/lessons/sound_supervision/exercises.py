"""Notebook 08's exercise checkers: the AVE-Net logit and recall@1."""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from course_lib import checks, config, evaluate


def check_distance_logit(fn) -> None:
    """Exercise: ``fn(a, v, b, s)`` = the AVE-Net logit b - s ||a - v||^2 for each row of a and v."""
    with config.isolated_rng(0):  # the same test vectors every time, and the notebook's random stream is left alone
        a, v = F.normalize(torch.randn(5, 8), dim=1), F.normalize(torch.randn(5, 8), dim=1)
    want = 3.0 - 2.0 * (a - v).pow(2).sum(1)
    got = torch.as_tensor(fn(a, v, 3.0, 2.0)).float()
    hint = ("the squared Euclidean distance per row is (a - v).pow(2).sum(1); a pair at distance 0 must get the "
            "largest logit, b")
    checks.verdict("AVE-Net logit", [
        (lambda: got.shape == want.shape,
         f"return one logit per pair, shape {tuple(want.shape)}; got {tuple(got.shape)}"),
        (lambda: torch.allclose(got, want, atol=1e-5), hint),
        (lambda: bool((torch.as_tensor(fn(a, a, 3.0, 2.0)).float() >= got).all()), hint),
    ])


def check_recall_at_1(fn) -> None:
    """Exercise: ``fn(scores, query_labels, gallery_labels)`` = recall@1, as ``evaluate.recall_at_k`` computes it."""
    with config.isolated_rng(0):
        scores, queries, gallery = torch.randn(50, 40), torch.randint(4, (50,)), torch.randint(4, (40,))
    want = evaluate.recall_at_k(scores, queries, gallery, k=1)
    hint = ("for each query (row) take the gallery item with the highest score (argmax over dim 1); a hit is when its "
            "label equals the query's; average the hits")
    got = functools.cache(lambda: torch.as_tensor(checks.guarded(fn)(scores, queries, gallery)).float())
    checks.verdict("recall@1", [
        (lambda: got() is not None, hint),  # it runs: what it raises (an index out of range) comes with the hint
        (lambda: got().numel() == 1,
         lambda: f"your function returned shape {tuple(got().shape)}; expected one number: {hint}"),
        (lambda: abs(float(got()) - want) < 1e-6, lambda: f"expected {want:.3f}, got {float(got()):.3f}: {hint}"),
    ])
