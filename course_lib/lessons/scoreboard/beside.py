"""Beside each notebook's own number: what the notebook that teaches a row recorded for it (``results/lab``), read
only to be shown, and what differs between its protocol and the board's (the notebooks' own lab sizes, read from
their ``SIZES``, never retyped)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from course_lib import results
from course_lib.lessons import autoencoders as ae04
from course_lib.lessons import colorization as col06
from course_lib.lessons import multimodal_embeddings as mm11
from course_lib.lessons import sound_supervision as ss08
from course_lib.lessons import split_brain as sb07
from course_lib.lessons import transformations as tf05
from course_lib.lessons.scoreboard.datasets import BUDGETS, RANDOM, SUPERVISED
from course_lib.lessons.scoreboard.protocol import Row


@dataclass(frozen=True)
class Reported:
    """A number another notebook recorded for a row of ours: where, which metric, and what its protocol differs in."""

    notebook: str  # results/lab/<notebook>.json
    metric: str
    budget: int  # the labelled images its number used (0: not a few-label probe)
    differs: str
    error: bool = False  # recorded as an error (%), shown as 100 - error


# results/lab's sizes
_AE, _TF, _SS, _COL, _SB, _MM = (lesson.SIZES["lab"] for lesson in (ae04, tf05, ss08, col06, sb07, mm11))

REPORTED = {
    ("mnist", RANDOM): Reported("05_transformations", "error_100_random_features", 100,
                                f"05's layers (pooled to 3 x 3 conv5 size, plus conv5 global), {_TF.train_images:,} "
                                "images", True),
    ("mnist", "denoising autoencoder"): Reported("04_autoencoders", "probe_100_denoising_masked_best",
                                                 10 * ae04.LABELS_PER_CLASS, f"{_AE.steps} steps of {_AE.batch} on "
                                                 f"{_AE.train_images:,} digits, 04's pooling"),
    ("mnist", "egomotion"): Reported("05_transformations", "error_100_egomotion", 100,
                                     f"{_TF.steps} steps on {_TF.train_images:,} images, 05's pooling", True),
    ("mnist", "contrastive (SimCLR)"): Reported("05_transformations", "error_100_contrastive", 100,
                                                f"{_TF.steps} steps on {_TF.train_images:,} images, 05's pooling",
                                                True),
    ("mnist", "classes from sound"): Reported("08_sound_supervision", "probe_image_100_owens",
                                              10 * ss08.LABELS_PER_CLASS, f"08's tower (width {_SS.tower_width}), "
                                              f"{_SS.owens_steps} steps on {_SS.images:,} images"),
    ("mnist", "audio-visual correspondence (L3-Net)"): Reported(
        "08_sound_supervision", "probe_image_100_trained", 10 * ss08.LABELS_PER_CLASS,
        f"08's tower (width {_SS.tower_width}), {_SS.steps} steps on {_SS.images:,} images"),
    ("mnist", "image-sound InfoNCE (CLIP)"): Reported(
        "11_multimodal_embeddings", "probe_image_100_labels", 10 * max(mm11.PROBE_LABELS),
        f"11's tower (width {_MM.tower_width}), {_MM.steps} steps on {_MM.images:,} images, probed at its joint "
        "space, not at a layer"),
    ("mnist", SUPERVISED): Reported("08_sound_supervision", "probe_image_100_supervised", 10 * ss08.LABELS_PER_CLASS,
                                    f"08's tower (width {_SS.tower_width}), no augmentation"),
    ("cifar", RANDOM): Reported("07_split_brain", "probe_random_best", _SB.probe_labels,
                                "07 feeds scaled Lab to every row"),
    ("cifar", "relative position"): Reported("02_relative_position", "shortcut_no_aberration_class_probe", 0,
                                             "02's shortcut lab: a short run, a conv3 probe on 02's split"),
    ("cifar", "denoising autoencoder"): Reported("07_split_brain", "probe_autoencoder_best", _SB.probe_labels,
                                                 "07's Lab -> Lab autoencoder: regression, no masking noise"),
    ("cifar", "colorization"): Reported("06_colorization", "probe_colorization", _COL.probe_labels,
                                        f"{_COL.probe_labels:,} labels, {_COL.steps} steps, layers pooled to 2,048 "
                                        "numbers"),
    ("cifar", "split-brain (cl,cl)"): Reported("07_split_brain", "probe_split_brain_cl_best", _SB.probe_labels,
                                               f"{_SB.steps} steps per half"),
    ("cifar", SUPERVISED): Reported("07_split_brain", "probe_supervised_best", _SB.probe_labels,
                                    f"{_SB.steps} steps, no augmentation, scaled Lab input"),
}


def beside_the_notebooks(rows: dict[str, Row], dataset: str, recorded: dict[str, dict] | None = None) -> pd.DataFrame:
    """Each row's linear-probe accuracy here beside the number its own notebook recorded in ``results/lab`` (read
    only to be shown), at the nearest budget of ours, and what differs between the two protocols."""
    recorded = results.load("lab") if recorded is None else recorded
    out = {}
    for name, row in rows.items():
        reported = REPORTED.get((dataset, name))
        if reported is None:
            continue
        value = recorded.get(reported.notebook, {}).get("metrics", {}).get(reported.metric)
        theirs = "-" if value is None else f"{100.0 - value if reported.error else value:.1f}"
        ours_at = min(BUDGETS[dataset], key=lambda b: abs(b - reported.budget))
        out[name] = {"here (linear)": row.linear[ours_at].best.text(), "at labels": f"{ours_at:,}",
                     "its notebook": theirs, "notebook": reported.notebook,
                     "its labels": f"{reported.budget:,}" if reported.budget else "see note",
                     "what differs": reported.differs}
    return pd.DataFrame(out).T
