"""Notebook 03's claim check (``check_claims``), the orderings it states (``ORDERINGS``, measured over pretraining
seeds by ``course_lib.seeds``) and its exercise checkers."""

from __future__ import annotations

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


def check_negatives(fn) -> None:
    """Exercise: ``fn(indices)`` makes the two negatives (b, a, d) and (b, e, d) of each row a < b < c < d < e: compared
    with the negatives the library's tuple maker draws (``temporal_order.order_tuples``) from random rows
    (``temporal_order.five_frames``)."""
    with config.isolated_rng(0):  # the same rows every time; the notebook's random stream untouched
        indices = temporal_order.five_frames(torch.randint(0, 5, (3,)), window=12)
    expected = _sampled_negatives(indices)
    answer = tuple(torch.as_tensor(part) for part in fn(indices))
    ok = len(answer) == 2 and all(a.shape == e.shape and torch.equal(a.long(), e) for a, e in zip(answer, expected,
                                                                                                  strict=True))
    checks.exercise("negative tuples", ok, f"for {indices.tolist()} the negatives are "
                    f"{[e.tolist() for e in expected]}: keep b and d at the ends, put a (or e) in the middle")


def check_motion_energy(fn) -> None:
    """Exercise: ``fn(videos)`` = mean absolute difference of consecutive frames, (N, T - 1)."""
    videos = torch.zeros(3, 4, 1, 3, 3)
    videos[0, 2] = 1.0  # clip 0: a flash at frame 2, so steps 1 and 2 change everything
    videos[1, :, :, 0, 0] = torch.arange(4.0)[:, None]  # clip 1: one pixel brightening by 1 per frame
    # clip 2: steps of other sizes than 0 and 1 (a square, or no absolute value, would show), different per pixel
    videos[2] = torch.tensor([0.0, 0.5, 2.5, 2.0]).view(4, 1, 1, 1) * torch.linspace(0.2, 1.0, 9).view(1, 1, 3, 3)
    expected = temporal_order.motion_energy(videos)
    answer = torch.as_tensor(fn(videos)).float()
    checks.exercise("motion energy", answer.shape == expected.shape and torch.allclose(answer, expected),
                    f"expected {expected.tolist()}, got {answer.tolist()}: take |x[:, 1:] - x[:, :-1]| (the size "
                    "of each change, not its square), then average over channels and pixels")
