"""Notebook 11's exercise checker: the symmetric InfoNCE loss (``check_infonce``)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from course_lib import checks, config
from course_lib.pretext import joint_embedding as je

# --- exercise checker ----------------------------------------------------------------------------------------------

# (seed, B, D, t): batches of several sizes and log scales, each drawn from its own seed; t = log(1 / 0.07) is CLIP's
# starting point, the last case a batch as training sees it (128 pairs, the 64-d space)
INFONCE_CASES = ((0, 8, 5, math.log(10.0)), (1, 5, 16, math.log(1 / 0.07)), (2, 12, 3, 1.0),
                 (3, 128, 64, math.log(1 / 0.07)))


def _both_ways(logits: torch.Tensor, targets: torch.Tensor | None = None) -> torch.Tensor:
    own = torch.arange(len(logits)) if targets is None else targets
    return (F.cross_entropy(logits, own) + F.cross_entropy(logits.T, own)) / 2


_WRONG_PLACE = "the temperature is in the wrong place: log_scale is t, the log of the scale 1 / temperature, which "
_NOT_OWN = ("the targets are not each pair's own: image i's partner is other i, so the right answer of row i (and of "
            "column i) is i, whatever the batch size")


def _infonce_mistakes(image: torch.Tensor, other: torch.Tensor, t: float) -> list[tuple[str, torch.Tensor]]:
    """The losses the usual wrong answers give, each with the mistake it names (the first that fits is shown)."""
    own = torch.arange(len(image))
    cosine = F.normalize(image, dim=1) @ F.normalize(other, dim=1).T
    logits = math.exp(t) * cosine
    return [
        ("one direction only (image -> other): the symmetric loss also reads the logits the other way, other -> "
         "image, and averages the two", F.cross_entropy(logits, own)),
        ("one direction only (other -> image): the symmetric loss also reads the logits the other way, image -> "
         "other, and averages the two", F.cross_entropy(logits.T, own)),
        ("the two directions are added, not averaged", 2 * _both_ways(logits)),
        (_WRONG_PLACE + "multiplies the cosines", _both_ways(cosine / math.exp(t))),
        (_WRONG_PLACE + "multiplies the cosines; log_scale is not the temperature either", _both_ways(cosine / t)),
        (_WRONG_PLACE + "multiplies the cosines; the scale itself is e^t", _both_ways(t * cosine)),
        ("log_scale is not read: a temperature of your own (a number) cannot learn; the model's log_scale is t, and "
         "the scale 1 / temperature is e^t", _both_ways(cosine / je.INITIAL_TEMPERATURE)),
        ("the embeddings are not unit length yet: the score is a cosine", _both_ways(math.exp(t) * image @ other.T)),
        ("normalised along the wrong axis: each embedding (each row, over its D numbers) gets unit length, not each "
         "dimension over the batch", _both_ways(math.exp(t) * F.normalize(image, dim=0) @ F.normalize(other, dim=0).T)),
        ("the cross-entropies are summed over the batch (a reduction of 'sum'), not averaged over it",
         len(image) * _both_ways(logits)),
        ("the cross-entropies are summed over the batch (a reduction of 'sum'), not averaged over it; and the two "
         "directions are added, not averaged", 2 * len(image) * _both_ways(logits)),
        (_NOT_OWN, _both_ways(logits, torch.zeros_like(own))),
        (_NOT_OWN, _both_ways(logits, own.flip(0))),
        ("a softmax before the cross-entropy: F.cross_entropy takes logits and applies the softmax itself, so yours "
         "is applied twice", _both_ways(logits.softmax(1))),
    ]


def check_infonce(fn) -> None:
    """Exercise: ``fn(image, other, log_scale)`` = the symmetric InfoNCE loss, ``je.symmetric_infonce``, called as
    training calls it: random embeddings that are not unit length and need gradients, and ``log_scale`` a trainable
    0-d tensor, on batches of several sizes and log scales. The loss must be one torch number that back-propagates
    to the log scale and to both embeddings, as the library's does; the hints name the usual mistakes."""
    cases = []
    for seed, b, d, t in INFONCE_CASES:
        with config.isolated_rng(seed):  # the same test embeddings every time; the notebook's random stream untouched
            cases.append((3 * torch.randn(b, d), 0.5 * torch.randn(b, d), t))

    def leaves(image: torch.Tensor, other: torch.Tensor, t: float) -> tuple[torch.Tensor, ...]:
        return image.clone().requires_grad_(), other.clone().requires_grad_(), torch.tensor(t, requires_grad=True)

    def run(infonce, case: int) -> tuple[object, tuple[torch.Tensor | None, ...]]:
        inputs = leaves(*cases[case])
        loss = infonce(*inputs)
        if isinstance(loss, torch.Tensor) and loss.requires_grad and loss.numel() == 1:
            try:
                loss.sum().backward()
            except RuntimeError:  # a graph cut somewhere: the gradients below stay None and say so
                pass
        return loss, tuple(x.grad for x in inputs)

    want = [(float(loss.detach()), grads) for loss, grads in (run(je.symmetric_infonce, i) for i in range(len(cases)))]
    answers = [checks.answer(run, fn, i) for i in range(len(cases))]

    def got(i: int) -> object:
        return answers[i]()[0]

    def value(i: int) -> float:
        return checks.scalar(got(i))

    def first_wrong() -> int:
        return next(i for i in range(len(cases)) if not checks.close(value(i), want[i][0]))

    def value_hint() -> str:
        i = first_wrong()
        image, other, t = cases[i]
        named = [mistake for mistake, loss in _infonce_mistakes(image, other, t) if checks.close(value(i), float(loss))]
        return (f"on random {len(image)} x {image.shape[1]} embeddings with t = {t:.3f} the loss is "
                f"{want[i][0]:.4f}, you gave {value(i):.4f}: " +
                (named[0] if named else "go through the formula in (a) step by step"))

    def gradient(i: int, which: int) -> torch.Tensor | None:
        return answers[i]()[1][which]

    def has_gradient(which: int) -> bool:
        return all(gradient(i, which) is not None and bool(gradient(i, which).abs().sum() > 0)
                   for i in range(len(cases)))

    def same_gradients() -> bool:
        return all(torch.allclose(gradient(i, w), want[i][1][w], atol=1e-5, rtol=1e-4)
                   for i in range(len(cases)) for w in range(3))

    shapes = ", ".join(f"{b} x {d}" for _, b, d, _ in INFONCE_CASES)
    checks.verdict("symmetric InfoNCE", [
        checks.returns(answers[0], f"the checker calls it as training does: image and other are B x D torch tensors "
                                   f"that need gradients ({shapes}), log_scale a trainable 0-d tensor (the model's "
                                   "parameter): NumPy on them fails, and so does changing them in place (x /= ...)"),
        *(checks.returns(answers[i], "it ran on the first batch but not on this one: a batch size or embedding size "
                                     f"written into the function? The checker tries {shapes}")
          for i in range(1, len(cases))),
        *(checks.has_shape(lambda i=i: got(i), (), "the loss is the mean over the batch, not one loss per pair or "
                                                    "per row") for i in range(len(cases))),
        (lambda: all(isinstance(got(i), torch.Tensor) for i in range(len(cases))),
         lambda: f"you returned a {type(got(0)).__name__}: keep the loss a torch tensor (no .item(), float() or "
                 "NumPy), training back-propagates through it"),
        (lambda: all(got(i).requires_grad for i in range(len(cases))),
         "the loss carries no gradient (computed under torch.no_grad(), or from detached values): training "
         "back-propagates through it"),
        (lambda: all(checks.close(value(i), want[i][0]) for i in range(len(cases))), value_hint),
        (lambda: has_gradient(2),
         "log_scale gets no gradient, so the temperature can no longer learn: it went through math.exp, float(), "
         ".item() or torch.tensor(), which turn it into a constant; keep it the tensor it is"),
        (lambda: has_gradient(0) and has_gradient(1),
         "the embeddings get no gradient through your loss (.detach(), .data or a NumPy step on them): the towers "
         "learn from it"),
        (lambda: same_gradients(),
         "the value is right but the gradients are not: part of the computation uses detached values (.detach(), "
         ".data), so training would follow another loss"),
    ])

