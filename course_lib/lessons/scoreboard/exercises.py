"""The scoreboard's exercise checker: the weighted kNN vote (``evaluate.knn_vote``)."""

from __future__ import annotations

import torch

from course_lib import checks, config, evaluate


def check_knn_vote(fn) -> None:
    """Exercise: ``fn(similarity, labels, n_classes, temperature)`` returns each query's class by the weighted vote
    of its k nearest labelled examples (``evaluate.knn_vote``)."""
    with config.isolated_rng(0):  # the same test inputs every time; the notebook's random stream is left alone
        similarity = torch.rand(50, 7) * 2 - 1
        labels = torch.randint(0, 4, (50, 7))
    want = evaluate.knn_vote(similarity, labels, 4, 0.1)
    majority = torch.stack([torch.bincount(row, minlength=4).argmax() for row in labels])
    got = torch.as_tensor(fn(similarity, labels, 4, 0.1))
    checks.verdict("weighted kNN vote", [
        (lambda: got.shape == want.shape, lambda: f"expected one class per query, shape {tuple(want.shape)}, got "
                                                  f"{tuple(got.shape)}"),
        (lambda: not torch.equal(got, majority) or torch.equal(want, majority),
         "that is a plain majority vote: weight each neighbour's vote by exp(similarity / temperature)"),
        (lambda: torch.equal(got.long(), want), "add up exp(similarity / temperature) per class (scatter_add_ along "
                                                "dim 1 into a queries x n_classes tensor), then take the arg-max"),
    ])
