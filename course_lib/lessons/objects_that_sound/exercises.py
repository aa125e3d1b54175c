"""Notebook 09's exercise checkers: the target matrix and the similarity map."""

from __future__ import annotations

import torch

from course_lib import checks, config
from course_lib.pretext import objects_that_sound as ots

# --- exercise checkers --------------------------------------------------------------------------------------------

def check_targets(fn) -> None:
    """Exercise: ``fn(spoken, digits)`` = the B x B target matrix of the all-pairs loss."""
    spoken = torch.tensor([3, 7, 0, 3])
    digits = torch.tensor([[3, 5], [1, 2], [0, 7], [9, 4]])
    want = ots.correspondence(spoken, digits)
    answer = checks.answer(fn, spoken, digits)

    def got() -> torch.Tensor:
        return torch.as_tensor(answer()).float()

    def value_hint() -> str:
        mistakes = {
            "only the diagonal is 1: recording i's digit may be on other canvases too, and then (i, j) is 1 as well":
                torch.eye(len(spoken)),
            "only the first digit of each canvas was compared: a canvas shows two digits, either may be the spoken "
            "one": (digits[None, :, 0] == spoken[:, None]).float(),
            "that compares recordings with recordings: column j is canvas j, with its digits":
                (spoken[:, None] == spoken[None, :]).float(),
        }
        named = [mistake for mistake, wrong in mistakes.items() if torch.equal(got(), wrong)]
        return named[0] if named else ("entry (i, j) is 1.0 when the digit spoken in recording i is on canvas j, "
                                       "else 0.0; look at a row where your matrix differs")

    checks.verdict("target matrix", [
        checks.returns(answer, "the checker calls it with spoken, 4 digits (one per recording), and digits, a 4 x 2 "
                               "tensor (the two digits on each canvas): an error about sizes usually means a recording "
                               "was compared with its own canvas only, not with every canvas"),
        checks.has_shape(answer, want.shape, "one entry per (recording, canvas) pair: rows are recordings, columns "
                                             "canvases"),
        (lambda: not torch.equal(got(), want.T), "rows and columns are swapped: row i is recording i"),
        (lambda: torch.equal(got(), want), value_hint),
    ])


# (B_audio, B_canvas, D, H, W): two sets of sizes, none equal to another, so that swapped axes show in the shape;
# more recordings than canvases in the second, so that recording i has no canvas i
SIMILARITY_CASES = ((3, 5, 8, 4, 6), (4, 2, 5, 3, 7))


def check_similarity_map(fn) -> None:
    """Exercise: ``fn(audio, image_map)`` = the similarity map of every recording with every canvas, compared with
    ``ots.similarity`` on random unit embeddings that need gradients (3 recordings, 5 canvases, maps 4 x 6, then
    other sizes): the values, and the gradients to both embeddings, since training back-propagates through the map."""
    with config.isolated_rng(0):  # the same test embeddings every time; the notebook's random stream untouched
        cases = [(torch.nn.functional.normalize(torch.randn(a, d), dim=1),  # a: B_audio x D, unit length
                  torch.nn.functional.normalize(torch.randn(c, d, h, w), dim=1),  # V: B_canvas x D x H x W
                  torch.randn(a, c, h, w))  # weights of a random loss, to compare gradients
                 for a, c, d, h, w in SIMILARITY_CASES]

    def run(similarity, case: int) -> tuple[object, tuple[torch.Tensor | None, ...]]:
        audio, image_map, weights = cases[case]
        audio, image_map = audio.clone().requires_grad_(), image_map.clone().requires_grad_()
        got = similarity(audio, image_map)
        if isinstance(got, torch.Tensor) and got.requires_grad and got.shape == weights.shape:
            (got * weights).sum().backward()
        return got, (audio.grad, image_map.grad)

    want = [(got.detach(), grads) for got, grads in (run(ots.similarity, i) for i in range(len(cases)))]
    answers = [checks.answer(run, fn, i) for i in range(len(cases))]

    def got(i: int) -> object:
        return answers[i]()[0]

    def shape_advice(i: int) -> str:
        n_audio, n_canvas, _, h, w = SIMILARITY_CASES[i]
        shape = tuple(got(i).shape) if hasattr(got(i), "shape") else ()
        if shape == (n_canvas, n_audio, h, w):
            return "rows and columns are swapped: S[i, j] is recording i (audio) against canvas j (image_map)"
        if shape in ((n_audio, h, w), (n_canvas, h, w), (min(n_audio, n_canvas), h, w)):
            return ("that is recording i against canvas i only, the heat maps shown above; the exercise wants every "
                    "recording against every canvas")
        if shape == (n_audio, n_canvas, w, h):
            return "height and width are swapped: keep the map's own H x W"
        if shape == (n_audio, n_canvas):
            return "that is one score per pair: the exercise wants the whole map, a value at every location"
        return f"one map per (recording, canvas) pair, for {n_audio} recordings, {n_canvas} canvases and {h} x {w} maps"

    def values(i: int) -> torch.Tensor:
        return got(i).detach().float()

    def value_hint() -> str:
        i = next(i for i in range(len(cases)) if not torch.allclose(values(i), want[i][0], atol=1e-5))
        if torch.allclose(values(i) * SIMILARITY_CASES[i][2], want[i][0], atol=1e-5):
            return "you averaged the products over the D embedding dimensions: the similarity sums them"
        return (f"the shape is right but the values are not: S[i, j, h, w] is the similarity of recording i's "
                f"embedding with canvas j's embedding at location (h, w); recording 0 against canvas 0, top row: "
                f"expected {[round(v, 3) for v in want[i][0][0, 0, 0].tolist()]}, you gave "
                f"{[round(v, 3) for v in values(i)[0, 0, 0].tolist()]}")

    def gradients(i: int) -> tuple[torch.Tensor | None, ...]:
        return answers[i]()[1]

    sizes = "; ".join(f"audio {a} x {d} and image_map {c} x {d} x {h} x {w}" for a, c, d, h, w in SIMILARITY_CASES)
    checks.verdict("similarity map", [
        checks.returns(answers[0], f"the checker calls it with {sizes.split(';')[0]} (3 recordings, 5 canvases): an "
                                   "error about sizes that must match usually means recording i was paired with "
                                   "canvas i only, while every recording meets every canvas, so each needs an axis of "
                                   "its own"),
        checks.has_shape(lambda: got(0), want[0][0].shape, lambda: shape_advice(0)),
        checks.returns(answers[1], f"it ran on the first sizes but not on others ({sizes}): a size written into the "
                                   "function?"),
        checks.has_shape(lambda: got(1), want[1][0].shape, lambda: shape_advice(1)),
        (lambda: all(isinstance(got(i), torch.Tensor) for i in range(len(cases))),
         lambda: f"you returned a {type(got(0)).__name__}: keep the map a torch tensor, training back-propagates "
                 "through it"),
        (lambda: all(got(i).requires_grad for i in range(len(cases))),
         "the map carries no gradient (computed under torch.no_grad(), or from detached values): training "
         "back-propagates through it, to both towers"),
        (lambda: all(torch.allclose(values(i), want[i][0], atol=1e-5) for i in range(len(cases))), value_hint),
        (lambda: all(g is not None for i in range(len(cases)) for g in gradients(i)),
         "one of the two embeddings gets no gradient through your map (.detach(), .data or a NumPy step on it): "
         "both towers learn from it"),
        (lambda: all(torch.allclose(g, r, atol=1e-5) for i in range(len(cases))
                     for g, r in zip(gradients(i), want[i][1], strict=True)),
         "the values are right but the gradients are not: part of the computation uses detached values (.detach(), "
         ".data), so training would follow another map"),
    ])
