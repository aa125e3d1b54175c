"""Notebook 10's exercise checkers: the training loss (a warm-up), the L1-optimal image and the best offset."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from course_lib import checks, config
from course_lib.lessons.speech_to_image import grid_sync
from course_lib.pretext import speech2image as s2i

# --- exercises ----------------------------------------------------------------------------------------------------

def check_training_loss(fn) -> None:
    """Warm-up (optional): ``fn(model, batch)`` = the loss ``train.fit`` minimises, compared with ``s2i.l1_loss`` on a
    small random Speech2Image and a random batch (spectrograms, identity images, target images); the loss must be one
    torch number that back-propagates to the model."""
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
        return checks.scalar(answer())

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


# --- the L1-optimal image ------------------------------------------------------------------------------------------

# (seed, N, C, H, W): odd and even N (N = 2: any value between the two is optimal), one and several channels, and no
# two sizes of a case alike, so that a median over the wrong axis shows in the shape
L1_CASES = ((0, 5, 1, 4, 6), (1, 8, 1, 5, 3), (2, 7, 3, 4, 6), (3, 2, 2, 3, 5), (4, 9, 1, 6, 7))


def _inked_stack(seed: int, n: int, c: int, h: int, w: int) -> torch.Tensor:
    """N drawings of one thing: each pixel inked (0.4, 0.7 or 1.0) with a probability of its own, else 0, so that
    the per-pixel median, mean, mode and maximum all differ somewhere."""
    generator = torch.Generator().manual_seed(seed)
    chance = 0.1 + 0.8 * torch.rand(c, h, w, generator=generator)
    inked = torch.rand(n, c, h, w, generator=generator) < chance
    level = torch.tensor([0.4, 0.7, 1.0])[torch.randint(3, (n, c, h, w), generator=generator)]
    return inked * level


def check_l1_optimal(fn) -> None:
    """Exercise: ``fn(images)`` = the single C x H x W image with the smallest summed L1 distance to the N images of
    an N x C x H x W stack: at each pixel, any value between the two middle values of the N (the median; for odd N
    exactly the middle one). Tried on stacks of several sizes (``L1_CASES``), odd and even N; a NumPy answer is
    taken as well as a tensor."""
    stacks = [_inked_stack(*case) for case in L1_CASES]
    answers = [checks.answer(fn, stack.clone()) for stack in stacks]
    middles = [stack.sort(dim=0).values[[(len(stack) - 1) // 2, len(stack) // 2]] for stack in stacks]

    def got(i: int) -> torch.Tensor:
        return torch.as_tensor(answers[i]()).detach().float().cpu()

    def optimal(i: int) -> bool:
        lower, upper = middles[i]
        return bool(((got(i) >= lower - 1e-5) & (got(i) <= upper + 1e-5)).all())

    def shape_advice(i: int) -> Callable[[], str]:
        def advice() -> str:
            _, n, c, h, w = L1_CASES[i]
            returned = getattr(answers[i](), "shape", None)
            named = {(n, c, h, w): f"a stack of {n} images, as many as went in: the answer is one image that stands "
                                   "for all of them, one value per pixel",
                     (1, c, h, w): "one image, but with an extra axis of size 1 in front: return C x H x W",
                     (n,): "one value per image: you took a median over the pixels of each image, but the exercise "
                           "takes it at each pixel, over the images",
                     (n, c, h): "one value per image row: you took a median over the pixels along each row, but the "
                                "exercise takes it at each pixel, over the images",
                     (n, h, w): "one value per pixel of each image: you combined the channels, but the exercise "
                                "combines the images",
                     (): "one number for the whole stack, where the exercise wants a value per pixel, taken over "
                         "the images"}
            if i > 0 and returned == stacks[0].shape[1:]:
                return "that is the size of the first stack's images, not of these: a size written into the function?"
            return named.get(tuple(returned) if returned is not None else None,
                             f"for a stack of {n} images of {c} x {h} x {w}, one image of {c} x {h} x {w}")
        return advice

    def value_hint() -> str:
        i = next(i for i in range(len(stacks)) if not optimal(i))
        stack, answer = stacks[i], got(i)
        n = len(stack)
        if not torch.as_tensor(answers[i]()).is_floating_point():
            return ("you returned whole numbers: positions (which image holds the middle value at each pixel), "
                    "not the values themselves")
        mistakes = {
            "that is the per-pixel mean, the image that minimises the summed *squared* (L2) distance: under L1 a few "
            "far-off values must not pull the answer towards them": stack.mean(0),
            "that is the per-pixel maximum (every stroke any drawing has), not the value that half the drawings lie "
            "below and half above": stack.amax(0),
            "that is the per-pixel minimum, not the value that half the drawings lie below and half above":
                stack.amin(0),
            "that is the most frequent value at each pixel (the mode), not the value that half the drawings lie "
            "below and half above": stack.mode(0).values,
        }
        if n % 2:
            ordered = stack.sort(0).values
            mistakes["at each pixel your value sits one place below the middle of the N sorted values; count the "
                     "positions from 0"] = ordered[n // 2 - 1]
            mistakes["at each pixel your value sits one place above the middle of the N sorted values"] = \
                ordered[n // 2 + 1]
        named = [mistake for mistake, wrong in mistakes.items() if torch.allclose(answer, wrong, atol=1e-5)]
        if named:
            return named[0]
        if torch.allclose(answer, answer.flatten()[0].expand_as(answer)):
            return ("every pixel of your image holds the same value: one number for the whole stack, where the "
                    "exercise wants a value per pixel, taken over the images")
        return (f"on a stack of {n} images, at some pixels your value is not between the two middle values of the N "
                f"(the same value when N is odd): look at one pixel, sort its N values, and see where yours falls")

    checks.verdict("L1-optimal image", [
        checks.returns(answers[0], "the checker gives it one stack of 5 images, 5 x 1 x 4 x 6 (N x C x H x W), and "
                                   "expects one image, 1 x 4 x 6"),
        (lambda: not isinstance(answers[0](), tuple),
         "torch's median (or sort, max, mode) along an axis returns two things, the values and where they are: return "
         "the values"),
        checks.has_shape(answers[0], stacks[0].shape[1:], shape_advice(0)),
        *[step for i in range(1, len(stacks)) for step in (
            checks.returns(answers[i], f"it ran on the first stack but not on one of {tuple(stacks[i].shape)}: a size "
                                       "written into the function?"),
            checks.has_shape(answers[i], stacks[i].shape[1:], shape_advice(i)))],
        (lambda: all(optimal(i) for i in range(len(stacks))), value_hint),
    ])


# --- the best offset ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OffsetCase:
    """Two signals of ``frames`` values in which motion[t + shift] follows sound[t] (planted without wrapping round),
    and what else is in them: a trap for one of the usual mistakes."""

    what: str
    frames: int
    max_offset: int
    shift: int
    seed: int
    sound_mean: float = 0.0  # added to the sound: loudness in log units is rarely centred on 0
    motion_drift: float = 0.0  # a rise of this much over the clip, added to the motion only
    drift: float = 0.0  # a rise of this much over the clip, in both signals (a trend they share)
    spikes: bool = False  # one big value near the start of each, lined up at +max_offset (outside the sound's window)
    burst: bool = False  # loud random motion in the last 6 frames (seen only by some offsets)
    against: int | None = None  # the sound, upside down and louder, also in the motion at this offset: r < 0 there

    def signals(self) -> tuple[torch.Tensor, torch.Tensor]:
        n, m = self.frames, self.max_offset
        generator = torch.Generator().manual_seed(self.seed)
        base = F.avg_pool1d(torch.randn(1, 1, n + 2 * m, generator=generator), 3, 1, 1, count_include_pad=False)[0, 0]
        base = base + self.drift * torch.arange(n + 2 * m) / n
        sound = base[m:m + n] + self.sound_mean
        motion = (base[m - self.shift:m - self.shift + n] + 0.3 * torch.randn(n, generator=generator)
                  + self.motion_drift * torch.arange(n) / n)
        if self.spikes:
            sound[1], motion[1 + m] = sound[1] + 8, motion[1 + m] + 8
        if self.burst:
            motion[-6:] += 6 * torch.randn(6, generator=torch.Generator().manual_seed(self.seed))
        if self.against is not None:
            motion = motion - 1.5 * base[m - self.against:m - self.against + n]
        return sound, motion


OFFSET_CASES = (
    OffsetCase("random signals, the mouth 3 frames after the sound", 80, 8, 3, 0),
    OffsetCase("random signals, the mouth 4 frames before the sound", 60, 5, -4, 1),
    OffsetCase("the mouth max_offset frames after the sound", 45, 6, 6, 2),
    OffsetCase("the mouth max_offset frames before the sound", 50, 4, -4, 3),
    OffsetCase("random signals in sync", 40, 7, 0, 4),
    OffsetCase("a sound with a mean of 2 and a motion that drifts upwards", 70, 6, 2, 5, sound_mean=2.0,
               motion_drift=6.0),
    OffsetCase("a sound with a mean of 4 and a motion that drifts upwards", 60, 6, -2, 11, sound_mean=4.0,
               motion_drift=6.0),
    OffsetCase("two signals that drift upwards together", 40, 8, 5, 6, drift=6.0),
    OffsetCase("a spike near the start of each signal, outside the frames of the sound that are compared", 40, 8, 4,
               7, spikes=True),
    OffsetCase("a burst of loud mouth motion in the last frames", 50, 8, -3, 21, burst=True),
    OffsetCase("a motion that also moves strongly against the sound, 3 frames before it", 60, 6, 2, 32, against=-3),
)


def _offsets(score: Callable[[int], float], max_offset: int, low: int | None = None, high: int | None = None) -> int:
    """The offset in ``low`` ... ``high`` (default -max_offset ... max_offset) with the largest score."""
    low, high = -max_offset if low is None else low, max_offset if high is None else high
    return max(range(low, high + 1), key=score)


def _windowed(score, sound, motion, m, low=None, high=None) -> int:
    """The best offset when every offset o scores sound[m : n - m] against motion[m + o : n - m + o]."""
    n = len(sound)
    return _offsets(lambda o: score(sound[m:n - m], motion[m + o:n - m + o]), m, low, high)


def _pearson(a, b) -> float:
    return float(torch.corrcoef(torch.stack([a.float(), b.float()]))[0, 1])


def _cosine(a, b) -> float:
    return float(F.cosine_similarity(a, b, dim=0))


def _covariance(a, b) -> float:
    return float(((a - a.mean()) * (b - b.mean())).sum())


def _overlapping(sound, motion, m) -> int:
    """Each offset scored on the frames that overlap: different frames of the sound, fewer for far offsets."""
    n = len(sound)
    return _offsets(lambda o: _pearson(sound[:n - o], motion[o:]) if o >= 0 else _pearson(sound[-o:], motion[:n + o]),
                    m)


def _rolled(sound, motion, m) -> int:
    """Each offset scored on the whole sound against the motion rolled round: its end wraps to its start."""
    return _offsets(lambda o: _pearson(sound, torch.roll(motion, -o)), m)


OFFSET_MISTAKES: dict[str, Callable] = {  # what each usual mistake answers, and the hint it gets
    "the sign is flipped: an offset o > 0 means the mouth moves o frames *after* the sound, so sound[t] goes with "
    "motion[t + o]": lambda s, mo, m: -_windowed(_pearson, s, mo, m),
    "that is the position of the best score in your list of scores (0 ... 2 max_offset), not the offset: the first "
    "score in it belongs to offset -max_offset": lambda s, mo, m: _windowed(_pearson, s, mo, m) + m,
    "your offsets stop one short of +max_offset: both ends of -max_offset ... max_offset are tried":
        lambda s, mo, m: _windowed(_pearson, s, mo, m, high=m - 1),
    "your offsets start one above -max_offset: both ends of -max_offset ... max_offset are tried":
        lambda s, mo, m: _windowed(_pearson, s, mo, m, low=-m + 1),
    "a plain sum of products is not a correlation: it grows with the motion's level, so offsets where the mouth "
    "moves more on average win (subtract each window's mean and divide by its spread)":
        lambda s, mo, m: _windowed(lambda a, b: float((a * b).sum()), s, mo, m),
    "dividing by the lengths is not enough: without the means subtracted, a signal's level (a sound that is never "
    "near 0, a motion that drifts) decides the score": lambda s, mo, m: _windowed(_cosine, s, mo, m),
    "the score is not centred and scaled with each window's own mean and spread (per window, at every offset; not "
    "left unscaled, nor scaled once for the whole signal): an offset whose motion window is louder wins with noise "
    "alone":
        lambda s, mo, m: _windowed(_covariance, s, mo, m),
    "that picks the largest |r|, the strongest line-up either way: the best line-up is the largest r, where the "
    "mouth moves with the sound; a strongly negative r means it moves against it":
        lambda s, mo, m: _windowed(lambda a, b: abs(_pearson(a, b)), s, mo, m),
    "that picks the smallest r, where the mouth moves most against the sound: the best line-up is the largest r":
        lambda s, mo, m: _windowed(lambda a, b: -_pearson(a, b), s, mo, m),
    "torch.roll wraps the end of the motion round to its start, so every shifted copy pairs some frames with the "
    "other end of the clip: cut windows out of the signals instead": _rolled,
    "at each offset you compared the frames that overlap, so each offset is judged on other frames of the sound "
    "(and far offsets on fewer): compare the same frames, sound[max_offset : n - max_offset], at every offset":
        _overlapping,
}


def best_offset_reference(sound: torch.Tensor, motion: torch.Tensor, max_offset: int) -> int:
    """The exercise's answer, as the notebook's GRID table computes it (``grid_sync.sync_curve``)."""
    return grid_sync.best_offset(grid_sync.sync_curve(sound, motion, max_offset))


def check_best_offset(fn) -> None:
    """Exercise: ``fn(sound, motion, max_offset)`` = the offset o in -max_offset ... max_offset at which sound[t] and
    motion[t + o] correlate best (Pearson), every o scored on the same frames of the sound.

    Tried on ``OFFSET_CASES``: several lengths, max_offsets and planted offsets (negative, 0, positive, both ends),
    and signals that trip one usual mistake each (``OFFSET_MISTAKES``: a level or drift for an unnormalised score, a
    shared trend for torch.roll, spikes outside the compared frames for overlapping windows, a burst of motion for
    a score that is not divided by the spread, a strongly anti-correlated offset for the largest |r|). An int, a
    NumPy integer or a one-element tensor are all accepted."""
    cases = [(case, *case.signals()) for case in OFFSET_CASES]
    answers = [checks.answer(fn, sound.clone(), motion.clone(), case.max_offset) for case, sound, motion in cases]
    want = [best_offset_reference(sound, motion, case.max_offset) for case, sound, motion in cases]

    def number(i: int) -> float:
        return float(torch.as_tensor(answers[i]()).reshape(()))

    def whole(i: int) -> bool:
        return math.isfinite(number(i)) and number(i) == round(number(i))

    def score_hint() -> str:
        i = next(i for i in range(len(cases)) if not whole(i))
        return (f"you returned {number(i):.3f}, not a whole number of frames: return the offset o with the best "
                "score, not the score itself")

    def value_hint() -> str:
        given = [round(number(i)) for i in range(len(cases))]
        for mistake, wrong in OFFSET_MISTAKES.items():
            if given == [wrong(sound, motion, case.max_offset) for case, sound, motion in cases]:
                return mistake
        flipped = [given[i] == -want[i] for i in range(len(cases)) if want[i] != 0]
        if sum(flipped) >= len(flipped) - 1:  # the sign flipped another way (sound and motion swapped): near enough
            return next(iter(OFFSET_MISTAKES))
        i = next(i for i in range(len(cases)) if given[i] != want[i])
        case = cases[i][0]
        return (f"on {case.what} ({case.frames} frames, max_offset {case.max_offset}) your offset ({given[i]:+d}) is "
                "not where the two line up best: score every o on the same frames of the sound, with Pearson's "
                "correlation")

    checks.verdict("best offset", [
        checks.returns(answers[0], "the checker gives it two 1-D float tensors of 80 values (sound, motion) and "
                                   "max_offset = 8; an error about sizes usually means the windows of the two signals "
                                   "differ in length at some offset"),
        checks.has_shape(answers[0], (), "one offset, a whole number of frames (not the scores of every offset)"),
        *[step for i in range(1, len(cases)) for step in (
            checks.returns(answers[i], f"it ran on the first signals but not on {cases[i][0].frames} frames with "
                                       f"max_offset {cases[i][0].max_offset}: a length written into the function?"),
            checks.has_shape(answers[i], (), "one offset, a whole number of frames"))],
        (lambda: all(whole(i) for i in range(len(cases))), score_hint),
        (lambda: all(round(number(i)) == want[i] for i in range(len(cases))), value_hint),
    ])
