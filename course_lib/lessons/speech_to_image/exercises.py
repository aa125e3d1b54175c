"""Notebook 10's exercise checkers: the training loss and the best offset."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from course_lib import checks, config
from course_lib.pretext import speech2image as s2i

# --- exercises ----------------------------------------------------------------------------------------------------

def check_training_loss(fn) -> None:
    """Exercise: ``fn(model, batch)`` = the loss ``train.fit`` minimises, compared with ``s2i.l1_loss`` on a small
    random Speech2Image and a random batch (spectrograms, identity images, target images)."""
    with config.isolated_rng(0):  # the same network and batch every time; the notebook's random stream untouched
        model = s2i.Speech2Image(width=4).eval()  # eval: the same drawing on every call
        batch = (torch.randn(3, 1, 32, 32), torch.rand(3, 1, 28, 28), torch.rand(3, 1, 28, 28))
    answer = torch.as_tensor(fn(model, batch))
    trainable, got = answer.requires_grad, answer.detach().float()
    with torch.no_grad():
        want = float(s2i.l1_loss(model, batch))
        drawn, (_, identity, target) = model(*batch[:2]), batch
    mistakes = {  # plausible wrong answers, each with what to change
        "that is the squared error (L2); Speech2Vid's loss is L1, the mean absolute difference": F.mse_loss(drawn,
                                                                                                           target),
        "compare the drawing with the target (the spoken digit in this hand), not with the identity image":
            F.l1_loss(drawn, identity),
        "average the absolute differences over images and pixels, do not add them up": (drawn - target).abs().sum(),
    }

    def value_hint() -> str:
        named = [advice for advice, value in mistakes.items() if abs(float(got) - float(value)) < 1e-5]
        return f"on a random batch the loss is {want:.4f}, you gave {float(got):.4f}: " + (named[0] if named else (
            "draw with model(spectrogram, identity), then take the mean of |drawn - target| over images and pixels"))

    checks.verdict("training loss", [
        (lambda: got.numel() == 1, lambda: f"return one number for the batch; you gave shape {tuple(got.shape)}"),
        (lambda: trainable, "compute the loss from the model's output with torch (no .item(), no torch.no_grad()): "
                            "train.fit back-propagates through it"),
        (lambda: abs(float(got) - want) < 1e-5, value_hint),
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
