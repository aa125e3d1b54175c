"""Notebook 09's exercise checkers: the target matrix, the similarity map, and the method's two readings of it, the
max over locations and the pointing arg-max."""

from __future__ import annotations

import torch

from course_lib import checks, config
from course_lib.lessons.objects_that_sound.pointing import rows_and_columns
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


# (N canvases each with its own recording, D, H, W, seed): maps never square, so that a row taken for a column shows
POINT_CASES = ((3, 8, 4, 6, 0), (5, 4, 7, 3, 1), (4, 6, 5, 9, 2))


class _Pointed:
    """One call of a student's ``point`` on N recordings with their own canvases (random unit embeddings that need
    gradients), and the course's answer beside it."""

    def __init__(self, fn, n: int, d: int, h: int, w: int, seed: int):
        with config.isolated_rng(seed):  # the same embeddings every time; the notebook's random stream untouched
            self.audio = torch.nn.functional.normalize(torch.randn(n, d), dim=1).requires_grad_()
            self.image_map = torch.nn.functional.normalize(torch.randn(n, d, h, w), dim=1).requires_grad_()
            self.weights = torch.randn(n)  # of a random loss on the scores, to compare gradients
        self.n, self.d, self.h, self.w = n, d, h, w
        self.got = fn(self.audio, self.image_map)
        self.maps = torch.einsum("nd,ndhw->nhw", self.audio, self.image_map).detach()
        score, where = ots.point(self.audio, self.image_map)
        self.want_score, self.want_where = score.detach(), where

    def pair(self) -> bool:
        return isinstance(self.got, (tuple, list)) and len(self.got) == 2

    def score(self):
        return self.got[0]

    def where(self) -> torch.Tensor:
        return rows_and_columns(self.got[1])

    def score_values(self) -> torch.Tensor:
        return torch.as_tensor(self.score()).detach().float()

    def gradients(self) -> tuple[torch.Tensor | None, ...]:
        got = torch.autograd.grad((self.score() * self.weights).sum(), [self.audio, self.image_map],
                                  retain_graph=True, allow_unused=True)
        want = torch.autograd.grad((ots.point(self.audio, self.image_map)[0] * self.weights).sum(),
                                   [self.audio, self.image_map], allow_unused=True)
        return got, want


def check_point(fn) -> None:
    """Exercise: ``fn(audio, image_map)`` = (score, where) of each recording with its own canvas (``ots.point``): the
    max over locations of the similarity map, and the arg-max as (row, col). Checked on three sizes of non-square
    maps with embeddings that need gradients (the score trains the network through ``AVOLNet.logits``); ``where``
    may be an N x 2 tensor or a pair (rows, cols), of any number type."""
    runs = [checks.answer(_Pointed, fn, *case) for case in POINT_CASES]
    first = POINT_CASES[0]

    def each(test):
        return lambda: all(test(run()) for run in runs)

    def first_wrong(test):
        return next(run() for run in runs if not test(run()))

    def score_shape_advice() -> str:
        run = first_wrong(lambda r: tuple(torch.as_tensor(r.score()).shape) == (r.n,))
        shape = tuple(torch.as_tensor(run.score()).shape)
        advice = {(run.n, run.h, run.w): "that is the whole map: the score is its max over the H x W locations",
                  (run.n, run.n): "that is every recording against every canvas: recording i meets canvas i only",
                  (run.n, run.w): "that is a max over the rows only: the max runs over every location, H x W",
                  (run.n, run.h): "that is a max over the columns only: the max runs over every location, H x W",
                  (): "one score per canvas: the max over the locations of each map, not over all maps"}
        return (f"with {run.n} canvases and {run.h} x {run.w} maps your score has shape {shape}; expected "
                f"({run.n},): " + advice.get(shape, "one number per canvas"))

    def where_shape_advice() -> str:
        run = first_wrong(lambda r: tuple(r.where().shape) == (r.n, 2))
        shape = tuple(run.where().shape)
        advice = {(run.n,): "that is the index into the flattened map: turn it into a row and a column",
                  (run.n, run.w): "that is an arg-max over the rows only, for every column: the arg-max runs over "
                                  "every location",
                  (run.n, run.h): "that is an arg-max over the columns only, for every row: the arg-max runs over "
                                  "every location",
                  (2, run.n): "stack the rows and the columns along dim 1: one (row, col) per canvas"}
        return (f"with {run.n} canvases and {run.h} x {run.w} maps your where has shape {shape}; expected "
                f"({run.n}, 2), a (row, col) per canvas: " + advice.get(shape, "one row and one column per canvas"))

    def score_hint() -> str:
        run = first_wrong(lambda r: torch.allclose(r.score_values(), r.want_score, atol=1e-5))
        got = run.score_values()
        mistakes = {
            "that is the mean over locations: the score is the max (the best location speaks for the canvas)":
                run.maps.flatten(1).mean(1),
            "that is the minimum over locations: the score is the max": run.maps.flatten(1).amin(1),
            "you averaged the products over the D embedding dimensions: the similarity sums them":
                run.want_score / run.d,
            "that is the best of every canvas for recording i, not of its own canvas: recording i meets canvas i "
            "only": torch.einsum("ad,cdhw->achw", run.audio, run.image_map).detach().flatten(1).amax(1),
        }
        products = (run.audio[:, :, None, None] * run.image_map).detach()  # N x D x H x W
        for axis in (2, 3):
            mistakes[f"the similarity summed over a location axis (dim {axis}): it sums over D, the embedding axis "
                     "(dim 1 of image_map), and keeps every location"] = products.sum(axis).flatten(1).amax(1)
        named = [words for words, wrong in mistakes.items() if torch.allclose(got, wrong, atol=1e-5)]
        return named[0] if named else ("the score is not the max over locations of the similarity map (the sum over "
                                       "D of audio times image_map, at each location of the canvas's own map)")

    def where_hint() -> str:
        run = first_wrong(lambda r: torch.equal(r.where().float(), r.want_where.float()))
        got = run.where().float()
        best = run.maps.flatten(1).argmax(1)
        mistakes = {
            "row and column are swapped: where[i] is (row, col), the row first":
                torch.stack([best % run.w, best // run.w], dim=1),
            "the flat index was split by the height: a map is flattened row by row, so each row holds W cells, W "
            "the width (the last axis)": torch.stack([best // run.h, best % run.h], dim=1),
            "that is the arg-max of the mean over D, or of another map: point at the highest similarity of the "
            "canvas's own map": rows_and_columns(ots.point(run.audio / run.d, run.image_map)[1]),
        }
        named = [words for words, wrong in mistakes.items() if torch.equal(got, wrong.float())]
        return named[0] if named else (f"with {run.h} x {run.w} maps you point at locations where the similarity is "
                                       f"not the highest of the map, for {int((got != run.want_where).any(1).sum())} "
                                       f"of {run.n} canvases: the arg-max runs over every location of each map")

    checks.verdict("point", [
        checks.returns(runs[0], f"the checker calls it with audio {first[0]} x {first[1]} and image_map "
                                f"{first[0]} x {first[1]} x {first[2]} x {first[3]}: recording i with its own canvas "
                                "i; an error about sizes usually means an axis of one was not lined up with the "
                                "same axis of the other"),
        (each(lambda r: r.pair()), lambda: f"return two things, (score, where); you returned a "
                                           f"{type(runs[0]().got).__name__}"),
        *(checks.returns(run, "it ran on the first sizes but not on others: a size written into the function?")
          for run in runs[1:]),
        (each(lambda r: tuple(torch.as_tensor(r.score()).shape) == (r.n,)), score_shape_advice),
        (each(lambda r: tuple(r.where().shape) == (r.n, 2)), where_shape_advice),
        (each(lambda r: isinstance(r.score(), torch.Tensor) and r.score().requires_grad),
         "the score carries no gradient (.detach(), .item(), NumPy, or computed under torch.no_grad()): training "
         "back-propagates through it, to both towers"),
        (each(lambda r: torch.allclose(r.score_values(), r.want_score, atol=1e-5)), score_hint),
        (each(lambda r: torch.equal(r.where().float(), r.want_where.float())), where_hint),
        (each(lambda r: all(g is not None for g in r.gradients()[0])),
         "one of the two embeddings gets no gradient through your score (.detach() or .data on it): both towers "
         "learn from it"),
        (each(lambda r: all(torch.allclose(g, w, atol=1e-5) for g, w in zip(*r.gradients(), strict=True))),
         "the score is right but its gradients are not: part of it uses detached values"),
    ])
