"""Notebook 03's claim check (``check_claims``) and the orderings it states (``ORDERINGS``, measured over pretraining
seeds by ``course_lib.seeds``)."""

from __future__ import annotations

from course_lib import checks, evaluate, seeds
from course_lib.lessons.temporal_order.pretraining import RANDOM, TUPLES
from course_lib.lessons.temporal_order.transfer import PROTOCOL

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
    seeds.Ordering("action labels of other motions beat random init on action recognition",
                   "action_acc_other_motions", "action_acc_random"),
    seeds.Ordering("tuple verification beats action labels of other motions (the paper's HMDB51 order)",
                   "action_acc_tuple", "action_acc_other_motions"),
]
