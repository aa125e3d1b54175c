"""The numbers notebook 11 records (``metrics``), its runs stopped by their time cap (``capped_runs``), and the
orderings it states on those numbers (``ORDERINGS``, measured over pretraining seeds by ``course_lib.seeds``)."""

from __future__ import annotations

import pandas as pd

from course_lib import train
from course_lib.lessons.multimodal_embeddings.image_sound import (
    DIRECTIONS,
    LONGER_SHORT,
    NEAREST_MEAN_ROW,
    PROBE_LABELS,
    SHORT,
    ZERO_SHOT_ROW,
)
from course_lib.seeds import Ordering

# --- metrics -------------------------------------------------------------------------------------------------------

def capped_runs(histories: dict[str, train.History]) -> list[str]:
    return [name for name, history in histories.items() if history.capped]


def metrics(retrieval: pd.DataFrame, zero: pd.DataFrame, text: pd.DataFrame, sound: pd.DataFrame,
            encoder: str, longer: pd.DataFrame | None = None) -> dict[str, float]:
    """The numbers to record, under the names of the issue (recall and mAP as fractions, accuracies in %);
    ``longer``: the retrieval table of the runs at 08's budget."""
    retrieval = pd.concat([retrieval, longer]) if longer is not None else retrieval
    out = {}
    for model, short in {**SHORT, **LONGER_SHORT}.items():  # the longer runs where the table has them
        for direction in DIRECTIONS:
            if (model, direction.replace("_", " ")) not in retrieval.index:
                continue
            row = retrieval.loc[(model, direction.replace("_", " "))]
            out[f"map_{direction}_{short}"] = row["mAP"]
            out[f"recall1_{direction}_{short}"] = row["recall@1"]
    image, audio = zero["MNIST test images"], zero["held-out voice"]
    zero_row = ZERO_SHOT_ROW
    out["zero_shot_image_accuracy"], out["zero_shot_image_accuracy_std"] = image[zero_row], image[zero_row].std
    out["zero_shot_audio_accuracy"], out["zero_shot_audio_accuracy_std"] = audio[zero_row], audio[zero_row].std
    for name, column in (("image", image), ("audio", audio)):
        mean = column[NEAREST_MEAN_ROW]
        out[f"nearest_mean_{name}_accuracy"], out[f"nearest_mean_{name}_accuracy_std"] = mean, mean.std
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


# --- the orderings the notebook states, on its recorded numbers ------------------------------------------------------
# recall@1 and mAP are fractions, accuracies are in %: the notebook's seeds table shows three decimals (digits=3)

ORDERINGS = [
    # (a) image-sound retrieval, recall@1 (fractions)
    Ordering("InfoNCE beats concatenation on cross-modal recall@1 (audio to image)",
             "recall1_audio_to_image_infonce", "recall1_audio_to_image_concat"),
    Ordering("InfoNCE beats concatenation on cross-modal recall@1 (image to audio)",
             "recall1_image_to_audio_infonce", "recall1_image_to_audio_concat"),
    Ordering("InfoNCE ahead of AVE-Net, recall@1 audio to image", "recall1_audio_to_image_infonce",
             "recall1_audio_to_image_ave"),
    Ordering("InfoNCE ahead of AVE-Net, recall@1 image to audio", "recall1_image_to_audio_infonce",
             "recall1_image_to_audio_ave"),
    Ordering("AVE-Net ahead of concatenation, recall@1 audio to image", "recall1_audio_to_image_ave",
             "recall1_audio_to_image_concat"),
    Ordering("AVE-Net ahead of concatenation, recall@1 image to audio", "recall1_image_to_audio_ave",
             "recall1_image_to_audio_concat"),
    # (a) at 08's budget: AVE-Net and concatenation for 08's steps (1,200 in lab), InfoNCE for 11's (500)
    Ordering("at 08's budget AVE-Net is ahead of itself at 11's, recall@1 audio to image",
             "recall1_audio_to_image_ave_08_budget", "recall1_audio_to_image_ave"),
    Ordering("InfoNCE at 11's budget ahead of AVE-Net at 08's, recall@1 audio to image",
             "recall1_audio_to_image_infonce", "recall1_audio_to_image_ave_08_budget"),
    Ordering("InfoNCE at 11's budget ahead of AVE-Net at 08's, recall@1 image to audio",
             "recall1_image_to_audio_infonce", "recall1_image_to_audio_ave_08_budget"),
    Ordering("InfoNCE at 11's budget beats concatenation at 08's, recall@1 audio to image",
             "recall1_audio_to_image_infonce", "recall1_audio_to_image_concat_08_budget"),
    Ordering("InfoNCE at 11's budget beats concatenation at 08's, recall@1 image to audio",
             "recall1_image_to_audio_infonce", "recall1_image_to_audio_concat_08_budget"),
    Ordering("mAP image to image: InfoNCE ahead of AVE-Net and concatenation", "map_image_to_image_infonce",
             ("map_image_to_image_ave", "map_image_to_image_concat")),
    Ordering("mAP image to image: AVE-Net ahead of concatenation", "map_image_to_image_ave",
             "map_image_to_image_concat"),
    *(Ordering(f"the unheard voice is the harder side: image to audio beats audio to image ({name})",
               f"recall1_image_to_audio_{short}", f"recall1_audio_to_image_{short}")
      for name, short in (("InfoNCE", "infonce"), ("AVE-Net", "ave"), ("concatenation", "concat"))),
    # (b) zero-shot against the 10-label probe of the same embeddings (%)
    Ordering("zero-shot vs the 10-label probe, MNIST images (the notebook: no difference)",
             "zero_shot_image_accuracy", "probe_image_10_labels"),
    Ordering("zero-shot vs the 10-label probe, held-out voice (the notebook: about the same)",
             "zero_shot_audio_accuracy", "probe_audio_10_labels"),
    Ordering("zero-shot vs the same-modality nearest class mean (5 labelled per digit), MNIST images",
             "zero_shot_image_accuracy", "nearest_mean_image_accuracy"),
    Ordering("zero-shot vs the same-modality nearest class mean (5 labelled per digit), held-out voice",
             "zero_shot_audio_accuracy", "nearest_mean_audio_accuracy"),
    # (c) images and words (recall@1 a fraction, the rest %)
    Ordering("GRU beats bag of words, text to image recall@1", "recall1_text_to_image", "recall1_text_to_image_bag"),
    Ordering("GRU beats bag of words, caption vs colour-swapped twin (%)", "twin_accuracy_gru", "twin_accuracy_bag"),
    Ordering("GRU vs bag of words, 30-way held-out combinations (the notebook: as well)",
             "zero_shot_heldout_combinations", "zero_shot_heldout_combinations_bag"),
    Ordering("GRU vs bag of words, 30-way seen combinations (the notebook: as well; GRU a hair ahead)",
             "zero_shot_seen_combinations", "zero_shot_seen_combinations_bag"),
    Ordering("30-way: seen pairs above pairs never seen together (GRU)", "zero_shot_seen_combinations",
             "zero_shot_heldout_combinations"),
    Ordering("held-out pairs: the colour right more often than the digit (GRU)", "zero_shot_heldout_colour_right",
             "zero_shot_heldout_digit_right"),
    # (d) classes just by hearing (%)
    Ordering("the taught sound network vs the one told the digits, held-out voice", "soundnet_accuracy",
             "soundnet_supervised_accuracy"),
]
