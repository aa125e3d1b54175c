"""The scoreboard's exercise checker: the weighted kNN vote (``evaluate.knn_vote``)."""

from __future__ import annotations

import torch

from course_lib import checks, config, evaluate

# (queries, k, classes, temperature, seed): a few sizes, so that an answer right by luck on one is caught on another
CASES = ((50, 7, 4, 0.1, 0), (9, 3, 10, 0.07, 1), (30, 20, 5, 0.5, 2))


def _usual_mistakes(similarity: torch.Tensor, labels: torch.Tensor, n_classes: int, temperature: float):
    """The votes students get wrong, each with the words that name the mistake (never the answer)."""
    def totals(weights):
        return torch.zeros(len(labels), n_classes).scatter_add_(1, labels, weights)

    def summed(weights):
        return totals(weights).argmax(1)

    return {
        "that is a plain majority vote: each neighbour's vote carries a weight that grows with its similarity":
            summed(torch.ones_like(similarity)),
        "the temperature is in the wrong place: the similarity is divided by it before the exponential":
            summed((similarity * temperature).exp()),
        "the votes add raw similarities: a vote's weight is not the similarity itself but grows exponentially with "
        "it (a negative similarity still votes, with a small positive weight)":
            summed(similarity),
        "that is the class of the single most similar neighbour, not the weighted vote of all k":
            labels.gather(1, similarity.argmax(1, keepdim=True)).squeeze(1),
        "the temperature is left out: it decides how much more a closer neighbour's vote counts than a farther one's "
        "(the smaller it is, the more the nearest decide)": summed(similarity.exp()),
        "the weights fall as the similarity grows, so the farthest neighbours count most: a more similar neighbour's "
        "vote must weigh more": summed((-similarity / temperature).exp()),
        "that is the class with the smallest total, often one nobody voted for: the class with the largest total "
        "wins": totals((similarity / temperature).exp()).argmin(1),
    }


def check_knn_vote(fn) -> None:
    """Exercise: ``fn(similarity, labels, n_classes, temperature)`` returns each query's class by the weighted vote
    of its k nearest labelled examples (``evaluate.knn_vote``), on several sizes and temperatures: integer class
    indices, one per query."""
    tests, answers = [], []
    for queries, k, n_classes, temperature, seed in CASES:
        with config.isolated_rng(seed):  # the same test inputs every time; the notebook's random stream left alone
            similarity, labels = torch.rand(queries, k) * 2 - 1, torch.randint(0, n_classes, (queries, k))
        want = evaluate.knn_vote(similarity, labels, n_classes, temperature)
        got = checks.answer(fn, similarity, labels, n_classes, temperature)
        mistakes = _usual_mistakes(similarity, labels, n_classes, temperature)

        def hint(got=got, want=want, mistakes=mistakes, n_classes=n_classes):
            answer = torch.as_tensor(got()).long()
            named = [words for words, wrong in mistakes.items() if torch.equal(answer, wrong) and
                     not torch.equal(wrong, want)]
            return named[0] if named else (f"{int((answer != want).sum())} of {len(want)} queries get another class "
                                           f"than the weighted vote ({n_classes} classes); see the hint below")

        tests += [checks.returns(got, f"similarity and labels are {queries} x {k} (queries x neighbours), labels "
                                      f"0 ... {n_classes - 1}"),
                  checks.has_shape(got, (queries,), "one class per query: the arg-max runs along the classes"),
                  (lambda got=got, want=want: torch.equal(torch.as_tensor(got()).long(), want), hint)]
        answers.append(got)
    tests.append((lambda: not any(torch.as_tensor(got()).is_floating_point() for got in answers),
                  lambda: f"the classes are right but you returned them as floats "
                          f"({torch.as_tensor(answers[0]()).dtype}): a class is an integer index (an integer "
                          "tensor), which can index a table of class names or be compared with labels exactly"))
    checks.verdict("weighted kNN vote", tests)
