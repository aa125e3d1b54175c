"""Does InfoNCE gain from 08's budget too? Notebook 11 trains AVE-Net and concatenation for 08's steps (1,200 in
lab) as well as its own 500, and InfoNCE for 500 only: at 1,200 steps AVE-Net pulls ahead of it image -> audio,
against an InfoNCE that had less than half the steps.

The check trains InfoNCE for 08's steps too, on each pretraining seed, from the initial towers and on the videos
the notebook's run of that seed uses, and records its cross-modal recall@1 and mAP. The notebook compares them with
its seeds runs' AVE-Net at 08's budget, seed by seed (``BUDGET_ORDERINGS``). Three runs of 1,200 steps would push
the lab run past its time, so one command writes the numbers and the notebook reads them:

    python -m course_lib.lessons.multimodal_embeddings.infonce_budget      # lab, seeds 0, 1 and 2
"""

from __future__ import annotations

from course_lib import config, seeds
from course_lib.lessons.multimodal_embeddings.image_sound import (
    DIRECTIONS,
    NOTEBOOK,
    SIZES,
    at_08s_budget,
    load,
    retrieval_table,
    train_infonce,
)

COMMAND = "python -m course_lib.lessons.multimodal_embeddings.infonce_budget"
CHECK = "infonce_budget"
NAME = "InfoNCE, 08's budget"
SHORT = "infonce_08_budget"  # its metrics' suffix, beside the notebook's "infonce", "ave_08_budget", ...


def _metric(what: str, direction: str, model: str) -> str:
    return f"{what}_{direction}_{model}"


def budget_metrics(seed: int = 0, profile: str = "lab") -> dict[str, float]:
    """Train InfoNCE for 08's steps on ``seed``'s videos; its recall@1 and mAP across the modalities, named as the
    notebook names its own (``recall1_audio_to_image_infonce_08_budget``, ...), and the steps it trained."""
    sizes = SIZES[profile]
    config.seed_everything(seed)  # as the notebook's session does, before it loads the videos
    d = load(sizes, seed=seed)
    model, history = train_infonce(d, at_08s_budget(sizes), seed, progress=False, desc=NAME)
    table = retrieval_table({NAME: model}, d)
    return {**{_metric(what, direction, SHORT): float(table.loc[(NAME, direction.replace("_", " ")), column])
               for direction in DIRECTIONS[:2] for what, column in (("recall1", "recall@1"), ("map", "mAP"))},
            f"steps_{SHORT}": float(history.step[-1]), f"capped_{SHORT}": float(history.capped)}


def _ordering(statement: str, better: str, than: str, direction: str) -> seeds.Ordering:
    return seeds.Ordering(statement, _metric("recall1", direction, better), _metric("recall1", direction, than))


BUDGET_ORDERINGS = [
    ordering
    for direction, words in (("audio_to_image", "audio -> image"), ("image_to_audio", "image -> audio"))
    for ordering in (
        _ordering(f"InfoNCE at 08's budget beats itself at 11's (recall@1, {words})", SHORT, "infonce", direction),
        _ordering(f"InfoNCE at 08's budget beats AVE-Net at 08's (recall@1, {words})", SHORT, "ave_08_budget",
                  direction),
    )
]


def infonce_budget_table(profile: str = "lab"):
    """``BUDGET_ORDERINGS`` over the seeds: the check's InfoNCE beside the seeds runs' own models."""
    return seeds.table(NOTEBOOK, BUDGET_ORDERINGS, profile, digits=3, check=(CHECK, COMMAND))


if __name__ == "__main__":
    seeds.run_check(NOTEBOOK, CHECK, COMMAND, budget_metrics, __doc__.split("\n\n")[0])
