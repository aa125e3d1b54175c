"""Notebook 11's exercise checker: the symmetric InfoNCE loss (``check_infonce``)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from course_lib import checks, config
from course_lib.pretext import joint_embedding as je

# --- exercise checker ----------------------------------------------------------------------------------------------

# (B, D, t): batches of several sizes and log scales; t = log(1 / 0.07) is CLIP's starting point
INFONCE_CASES = ((8, 5, math.log(10.0)), (5, 16, math.log(1 / 0.07)), (12, 3, 1.0))


def _both_ways(logits: torch.Tensor) -> torch.Tensor:
    own = torch.arange(len(logits))
    return (F.cross_entropy(logits, own) + F.cross_entropy(logits.T, own)) / 2


def _infonce_mistakes(image: torch.Tensor, other: torch.Tensor, t: float) -> dict[str, torch.Tensor]:
    """The losses the usual wrong answers give, each with the mistake it names (the first that fits is shown)."""
    own = torch.arange(len(image))
    cosine = F.normalize(image, dim=1) @ F.normalize(other, dim=1).T
    return {
        "one direction only (image -> other): the symmetric loss also reads the logits the other way, other -> "
        "image, and averages the two": F.cross_entropy(math.exp(t) * cosine, own),
        "one direction only (other -> image): the symmetric loss also reads the logits the other way, image -> "
        "other, and averages the two": F.cross_entropy(math.exp(t) * cosine.T, own),
        "the two directions are added, not averaged": 2 * _both_ways(math.exp(t) * cosine),
        "the temperature is in the wrong place: log_scale is t, the log of the scale 1 / temperature, which "
        "multiplies the cosines": _both_ways(cosine / math.exp(t)),
        "the temperature is in the wrong place: log_scale is t, the log of the scale; the scale itself is e^t":
            _both_ways(t * cosine),
        "the embeddings are not unit length yet: the score is a cosine": _both_ways(math.exp(t) * image @ other.T),
        "normalised along the wrong axis: each embedding (each row, over its D numbers) gets unit length, not each "
        "dimension over the batch": _both_ways(math.exp(t) * F.normalize(image, dim=0) @ F.normalize(other, dim=0).T),
        "the cross-entropies are summed over the batch, not averaged": len(image) * _both_ways(math.exp(t) * cosine),
    }


def check_infonce(fn) -> None:
    """Exercise: ``fn(image, other, log_scale)`` = the symmetric InfoNCE loss, ``je.symmetric_infonce``, called as
    training calls it: random embeddings that are not unit length and need gradients, and ``log_scale`` a trainable
    0-d tensor, on batches of several sizes and log scales. The loss must be one torch number that back-propagates
    to the log scale and to both embeddings, as the library's does; the hints name the usual mistakes."""
    with config.isolated_rng(0):  # the same test embeddings every time; the notebook's random stream untouched
        cases = [(3 * torch.randn(b, d), 0.5 * torch.randn(b, d), t) for b, d, t in INFONCE_CASES]

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
        return float(torch.as_tensor(got(i)).detach().float().reshape(()))

    def close(a: float, b: float) -> bool:
        return abs(a - b) < 1e-4 * max(1.0, abs(b))

    def first_wrong() -> int:
        return next(i for i in range(len(cases)) if not close(value(i), want[i][0]))

    def value_hint() -> str:
        i = first_wrong()
        image, other, t = cases[i]
        named = [mistake for mistake, loss in _infonce_mistakes(image, other, t).items()
                 if close(value(i), float(loss))]
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

    shapes = ", ".join(f"{b} x {d}" for b, d, _ in INFONCE_CASES)
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
        (lambda: all(close(value(i), want[i][0]) for i in range(len(cases))), value_hint),
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

