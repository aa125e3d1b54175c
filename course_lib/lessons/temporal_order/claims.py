"""Notebook 03's claim check (``check_claims``), the orderings it states (``ORDERINGS``, measured over pretraining
seeds by ``course_lib.seeds``) and its exercise checkers."""

from __future__ import annotations

from collections.abc import Callable

import torch

from course_lib import checks, config, evaluate, seeds
from course_lib.lessons.temporal_order.pretraining import RANDOM, TUPLES
from course_lib.lessons.temporal_order.transfer import PROTOCOL
from course_lib.pretext import temporal_order

# ---------------------------------------------------------------- the claims

MIN_GAIN = 5.0  # lab / full: points of action accuracy tuple verification must add to random init (means)
ORDER_MARGIN = 5.0  # ci: points above chance (50 %, balanced) that held-out order verification must reach


def check_claims(accuracy: dict[str, float], order_accuracy: float, profile: str, capped=()) -> None:
    """Assert the claim this profile can carry, on the numbers just measured (``capped``: runs stopped by time).

    ``lab`` / ``full``: frozen tuple-verification features beat frozen random ones on action recognition, the means
    over the labelled draws apart by at least ``MIN_GAIN`` points *and* by more than their spreads. ``ci`` (a few
    dozen steps of pretraining, too short for that): the pretext task itself was learned -- order verification on
    held-out clips at least ``ORDER_MARGIN`` points above chance; weaker, and it can still fail.
    """
    tuples, random = accuracy[TUPLES], accuracy[RANDOM]
    evidence = evaluate.compare_text(tuples, random, names=(TUPLES, RANDOM)) + f" ({PROTOCOL} head)"
    if profile == "ci":
        print(f"ci: the transfer claim is asserted in lab and full only; measured {evidence}")
        checks.check_claim(f"order verification on held-out clips beats chance (50 %) by >= {ORDER_MARGIN:.0f} points",
                           order_accuracy >= 50 + ORDER_MARGIN, f"balanced accuracy {order_accuracy:.1f} %", capped)
        return
    checks.check_claim(f"tuple verification beats random init on action recognition, by >= {MIN_GAIN:.0f} points "
                       "and beyond the spread of the labelled draws",
                       tuples - random >= MIN_GAIN and evaluate.differ(tuples, random), evidence, capped)


# Every ordering the notebook states, on the action accuracies it records (frames + differences head), for its table
# over pretraining seeds (``seeds.table(NOTEBOOK, ORDERINGS)``): the claim it asserts in lab first.
ORDERINGS = [
    seeds.Ordering("tuple verification beats random init on action recognition", "action_acc_tuple",
                   "action_acc_random"),
    seeds.Ordering("labels for the wrong task (digit labels) fall below random init on action recognition",
                   "action_acc_random", "action_acc_supervised"),
]


# ---------------------------------------------------------------- exercise checkers


def _sampled_negatives(indices: torch.Tensor, draws: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """The two negatives of each row a < b < c < d < e as ``temporal_order.order_tuples`` draws them (over ``draws``
    draws, read with b first: it reverses half of all tuples), the one with the smaller middle frame first."""
    generator = torch.Generator().manual_seed(0)
    tuples, labels = temporal_order.order_tuples(indices.expand(draws, *indices.shape), generator)
    b_first = torch.where(tuples[..., :1] == indices[:, 3:4], tuples.flip(-1), tuples)  # a reversed one starts at d
    rows = [sorted({tuple(t) for t, label in zip(b_first[:, row].tolist(), labels[:, row].tolist(), strict=True)
                    if label == 0}, key=lambda t: t[1]) for row in range(len(indices))]
    return torch.tensor([r[0] for r in rows]), torch.tensor([r[-1] for r in rows])


def _tuples(answer: object) -> tuple[torch.Tensor, ...] | None:
    """A student's answer as a tuple of integer tensors (a tensor unpacks into its rows, as ``a, b = x`` would), or
    None when it is not a sequence of tensors."""
    if isinstance(answer, torch.Tensor) and answer.ndim > 1:
        answer = answer.unbind(0)
    if not isinstance(answer, (tuple, list)) or not all(isinstance(part, torch.Tensor) for part in answer):
        return None
    return tuple(part.long() for part in answer)


def check_negatives(fn) -> None:
    """Exercise: ``fn(indices)`` makes the two negatives (b, a, d) and (b, e, d) of each row a < b < c < d < e: compared
    with the negatives the library's tuple maker draws (``temporal_order.order_tuples``) from random rows
    (``temporal_order.five_frames``); four rows, so that rows and tuple positions cannot be mistaken for each other."""
    with config.isolated_rng(0):  # the same rows every time; the notebook's random stream untouched
        indices = temporal_order.five_frames(torch.randint(0, 5, (4,)), window=12)
    expected = _sampled_negatives(indices)
    answer = checks.answer(fn, indices)
    a, b, c, d, e = indices.unbind(1)

    def parts() -> tuple[torch.Tensor, ...]:
        return _tuples(answer())

    def part_advice(k: int) -> Callable[[], str]:
        def advice() -> str:
            if tuple(parts()[k].shape) == (3, len(indices)):
                return "one row per row of indices, its three frames across: yours are stacked along the other axis"
            return "one row per row of indices, the three frames of its negative across"
        return advice

    def value_hint() -> str:
        first, second = parts()
        mistakes = [
            (torch.equal(first, expected[1]) and torch.equal(second, expected[0]),
             "the two negatives are swapped: the one with a comes first"),
            (any(torch.equal(part, torch.stack([b, c, d], 1)) for part in (first, second)),
             "one of your tuples is (b, c, d), the positive, in order: a negative is shuffled"),
            (any(torch.equal(part, torch.stack(order, 1)) for part in (first, second)
                 for order in ((a, b, d), (b, d, e), (a, b, c), (c, d, e))),
             "a or e sits at an end of your tuple: a negative keeps the end frames of the positive, b and d, and "
             "moves the middle frame"),
            (any(bool((part == c[:, None]).any()) for part in (first, second)),
             "frame c is in one of your negatives: c is the positive's middle frame, a negative replaces it"),
        ]
        named = [mistake for wrong, mistake in mistakes if wrong]
        return named[0] if named else ("a negative keeps the end frames of the positive (b, c, d) and puts a frame "
                                       "from outside, a or e, in the middle; check each position of your tuples")

    def pair_hint() -> str:
        got = answer()
        what = (f"{len(parts())} tensors" if parts() is not None else f"a {type(got).__name__}")
        return f"return a pair of tensors, the (b, a, d) negatives and the (b, e, d) negatives; you returned {what}"

    checks.verdict("negative tuples", [
        checks.returns(answer, f"the checker gives it a {len(indices)} x 5 tensor, one row of frame indices a < b < c "
                               "< d < e per clip: an error about sizes or unpacking usually means the frames were "
                               "read along the wrong axis (the rows are clips, the columns a ... e)"),
        (lambda: parts() is not None and len(parts()) == 2, pair_hint),
        checks.has_shape(lambda: parts()[0], expected[0].shape, part_advice(0)),
        checks.has_shape(lambda: parts()[1], expected[1].shape, part_advice(1)),
        (lambda: all(torch.equal(p, w) for p, w in zip(parts(), expected, strict=True)), value_hint),
    ])


# (what clip i shows, for a hint that describes the first clip the answer gets wrong)
_CLIPS = ("clip 0 (dark, one bright frame at t = 2)", "clip 1 (one pixel brightening by 1 per frame)",
          "clip 2 (steps of several sizes, different at every pixel)")


def check_motion_energy(fn) -> None:
    """Exercise: ``fn(videos)`` = mean absolute difference of consecutive frames, (N, T - 1), on three clips whose
    axes all have different lengths (N x T x C x H x W = 3 x 6 x 2 x 4 x 7), so that a wrong axis shows."""
    videos = torch.zeros(3, 6, 2, 4, 7)
    videos[0, 2] = 1.0  # clip 0: a flash at frame 2, so steps 1 and 2 change everything
    videos[1, :, 0, 0, 0] = torch.arange(6.0)  # clip 1: one pixel brightening by 1 per frame
    # clip 2: steps of other sizes than 0 and 1 (a square, or no absolute value, would show), different per pixel
    videos[2] = (torch.tensor([0.0, 0.5, 2.5, 2.0, 1.0, 3.0]).view(6, 1, 1, 1) *
                 torch.linspace(0.2, 1.0, 2 * 4 * 7).view(1, 2, 4, 7))
    expected = temporal_order.motion_energy(videos)
    answer = checks.answer(fn, videos.clone())
    step = videos[:, 1:] - videos[:, :-1]
    mistakes = {
        "the signed differences are averaged, so brightening and darkening cancel: the energy is the size of each "
        "change": step.mean(dim=(2, 3, 4)),
        "the size of each change is squared: the energy takes its absolute value": step.pow(2).mean(dim=(2, 3, 4)),
        "the changes are summed over channels and pixels, not averaged": step.abs().sum(dim=(2, 3, 4)),
        "every frame is compared with the first frame, not with the one before it":
            (videos[:, 1:] - videos[:, :1]).abs().mean(dim=(2, 3, 4)),
    }

    def got() -> torch.Tensor:
        return torch.as_tensor(answer()).float()

    def value_hint() -> str:
        named = [mistake for mistake, wrong in mistakes.items() if torch.allclose(got(), wrong)]
        if named:
            return named[0]
        clip = next(i for i in range(len(videos)) if not torch.allclose(got()[i], expected[i]))
        return (f"the shape is right but not the values: for {_CLIPS[clip]} you gave "
                f"{[round(v, 4) for v in got()[clip].tolist()]}; each step's energy is the mean, over channels and "
                "pixels, of the size of the change between a frame and the next")

    checks.verdict("motion energy", [
        checks.returns(answer, "the checker gives it videos of shape 3 x 6 x 2 x 4 x 7 (N x T x C x H x W): an error "
                               "about a dimension usually means an axis that is not there or the wrong one"),
        checks.has_shape(answer, expected.shape, "one number per clip and per step between consecutive frames, "
                                                 "N x (T - 1); another shape comes from differences or means along "
                                                 "the wrong axes (time is the second axis)"),
        (lambda: torch.allclose(got(), expected), value_hint),
    ])
