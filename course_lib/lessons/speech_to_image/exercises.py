"""Notebook 10's exercise checkers: the training loss and the best offset."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from course_lib import checks, config
from course_lib.pretext import speech2image as s2i

# --- exercises ----------------------------------------------------------------------------------------------------

def check_training_loss(fn) -> None:
    """Exercise: ``fn(model, batch)`` = the loss ``train.fit`` minimises, compared with ``s2i.l1_loss`` on a small
    random Speech2Image and a random batch (spectrograms, identity images, target images); the loss must be one torch
    number that back-propagates to the model."""
    with config.isolated_rng(0):  # the same network and batch every time; the notebook's random stream untouched
        model = s2i.Speech2Image(width=4).eval()  # eval: the same drawing on every call
        batch = (torch.randn(3, 1, 32, 32), torch.rand(3, 1, 28, 28), torch.rand(3, 1, 28, 28))
    answer = checks.answer(fn, model, batch)
    with torch.no_grad():
        want = float(s2i.l1_loss(model, batch))
        drawn, (spectrogram, identity, target) = model(*batch[:2]), batch
        unpacked_wrong = F.l1_loss(model(spectrogram, target), identity)
    mistakes = {  # plausible wrong answers, each with the mistake it names
        "that is the squared error (L2); Speech2Vid's loss is L1, the mean absolute difference": F.mse_loss(drawn,
                                                                                                           target),
        "you compared the drawing with the identity image; the loss compares it with the target (the spoken digit "
        "in this hand)": F.l1_loss(drawn, identity),
        "the absolute differences are added up, not averaged over images and pixels": (drawn - target).abs().sum(),
        "the batch is unpacked in the wrong order: it holds (spectrograms, identity images, target images)":
            unpacked_wrong,
        "the differences are not taken in absolute value, so positive and negative ones cancel":
            (drawn - target).mean(),
    }

    def got() -> float:
        return float(torch.as_tensor(answer()).detach().float().reshape(()))

    def value_hint() -> str:
        named = [mistake for mistake, value in mistakes.items() if abs(got() - float(value)) < 1e-5]
        return f"on a random batch the loss is {want:.4f}, you gave {got():.4f}: " + (
            named[0] if named else "go through the formula above term by term")

    checks.verdict("training loss", [
        checks.returns(answer, "the checker gives it a Speech2Image and a batch (spectrograms 3 x 1 x 32 x 32, "
                               "identity images 3 x 1 x 28 x 28, target images 3 x 1 x 28 x 28), in this order; an "
                               "error about sizes inside the model usually means the model got its two inputs the "
                               "other way round: it takes the spectrogram, then the identity image"),
        checks.has_shape(answer, (), "one number for the batch, the mean over images and pixels"),
        (lambda: isinstance(answer(), torch.Tensor),
         lambda: f"you returned a {type(answer()).__name__}: keep the loss a torch tensor (no .item(), float() or "
                 "NumPy), train.fit back-propagates through it"),
        (lambda: answer().requires_grad, "the loss carries no gradient (computed under torch.no_grad(), or from a "
                                         "detached drawing): train.fit back-propagates through it to the model"),
        (lambda: abs(got() - want) < 1e-5, value_hint),
    ])


def check_best_offset(fn) -> None:
    """Checker for the exercise: ``fn(sound, motion, max_offset)`` must find a shift planted in a random signal."""
    generator = torch.Generator().manual_seed(0)
    sound = torch.randn(80, generator=generator)
    ok = True
    for shift in (-4, 0, 3):
        motion = torch.roll(sound, shift) + 0.1 * torch.randn(80, generator=generator)
        got = fn(sound, motion, 8)
        ok = ok and got == shift
    checks.exercise("best offset", ok,
                    "compare sound[t] with motion[t + o] on the same frames of the sound for every o, and return the "
                    "o with the largest correlation (torch.roll(x, 3)[t] == x[t - 3]: the motion lags by 3)")
