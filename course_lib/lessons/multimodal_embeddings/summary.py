"""The numbers notebook 11 records (``metrics``) and its runs stopped by their time cap (``capped_runs``)."""

from __future__ import annotations

import pandas as pd

from course_lib import train
from course_lib.lessons.multimodal_embeddings.image_sound import DIRECTIONS, PROBE_LABELS, SHORT, ZERO_SHOT_ROW

# --- metrics -------------------------------------------------------------------------------------------------------

def capped_runs(histories: dict[str, train.History]) -> list[str]:
    return [name for name, history in histories.items() if history.capped]


def metrics(retrieval: pd.DataFrame, zero: pd.DataFrame, text: pd.DataFrame, sound: pd.DataFrame,
            encoder: str) -> dict[str, float]:
    """The numbers to record, under the names of the issue (recall and mAP as fractions, accuracies in %)."""
    out = {}
    for model, short in SHORT.items():
        for direction in DIRECTIONS:
            row = retrieval.loc[(model, direction.replace("_", " "))]
            out[f"map_{direction}_{short}"] = row["mAP"]
            out[f"recall1_{direction}_{short}"] = row["recall@1"]
    image, audio = zero["MNIST test images"], zero["held-out voice"]
    zero_row = ZERO_SHOT_ROW
    out["zero_shot_image_accuracy"], out["zero_shot_image_accuracy_std"] = image[zero_row], image[zero_row].std
    out["zero_shot_audio_accuracy"], out["zero_shot_audio_accuracy_std"] = audio[zero_row], audio[zero_row].std
    for k in PROBE_LABELS:
        for name, column in (("image", image), ("audio", audio)):
            probe = column[f"linear probe, {10 * k} labels"]
            out[f"probe_{name}_{10 * k}_labels"], out[f"probe_{name}_{10 * k}_labels_std"] = probe, probe.std
    out["recall1_text_to_image"] = text.loc[encoder, "text->image recall@1"]
    out["zero_shot_heldout_combinations"] = text.loc[encoder, "30-way, held-out combinations"]
    out["zero_shot_seen_combinations"] = text.loc[encoder, "30-way, seen combinations"]
    out["zero_shot_heldout_colour_right"] = text.loc[encoder, "held-out: colour right"]
    out["zero_shot_heldout_digit_right"] = text.loc[encoder, "held-out: digit right"]
    for name in text.index:
        out[f"twin_accuracy_{name}"] = text.loc[name, "caption vs colour-swapped twin"]
        if name != encoder:
            out[f"recall1_text_to_image_{name}"] = text.loc[name, "text->image recall@1"]
            out[f"zero_shot_heldout_combinations_{name}"] = text.loc[name, "30-way, held-out combinations"]
            out[f"zero_shot_seen_combinations_{name}"] = text.loc[name, "30-way, seen combinations"]
    out["soundnet_accuracy"] = sound["accuracy (%)"].iloc[1]
    out["soundnet_supervised_accuracy"] = sound["accuracy (%)"].iloc[2]
    out["vision_teacher_accuracy"] = sound["accuracy (%)"].iloc[0]
    return {k: float(v) for k, v in out.items()}
