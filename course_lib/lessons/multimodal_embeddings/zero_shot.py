"""Part 2: zero-shot, each modality classified by its nearest prompt of the other, beside linear probes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from course_lib import evaluate
from course_lib.lessons import sound_supervision as ss
from course_lib.lessons.multimodal_embeddings.image_sound import (
    NEAREST_MEAN_ROW,
    PROBE_LABELS,
    PROMPTS_PER_CLASS,
    ZERO_SHOT_ROW,
    Sizes,
)
from course_lib.pretext import joint_embedding as je

# --- part 2: zero-shot ---------------------------------------------------------------------------------------------

def _accuracy(predicted: torch.Tensor, truth: torch.Tensor) -> float:
    return 100.0 * (predicted.cpu() == truth.cpu()).float().mean().item()


def zero_shot_table(model: je.JointEmbedding, d: ss.SoundsAndImages, sizes: Sizes, seed: int = 0) -> pd.DataFrame:
    """Zero-shot against probes, on the frozen embeddings of the joint space (mean ± std over ``sizes.draws``).

    * images: each MNIST test image gets the digit of its nearest *spoken prompt* -- the mean embedding of
      ``PROMPTS_PER_CLASS`` training-voice recordings of each digit (labelled recordings, no labelled image);
    * recordings: each held-out-voice recording gets the digit of its nearest *image prompt* (the mean of
      ``PROMPTS_PER_CLASS`` training images of each digit);
    * the same-modality control: each gets the digit of its nearest class mean of ``PROMPTS_PER_CLASS`` labelled
      examples *of its own modality* per digit (images from 08's probe pool, training-voice recordings): as many
      labels as a prompt, so the gap to zero-shot is what crossing modalities costs, not how many labels it used;
    * probes: a linear probe of the same embeddings trained on 10 and 100 labelled examples of the modality itself
      (1 and 10 per digit; images from 08's probe pool, recordings of the training voices but 08's validation
      voice), its C chosen on 08's validation images or voice (of ``sizes.probe_cs``; the rows "probe C (val)").
    Each cell is an ``evaluate.Spread`` (accuracy %, its std over draws); chance is 10 %."""
    (pool_x, pool_y), image_val, _ = ss.image_probe_sets(d, sizes, seed)
    voices, voice_val, _ = ss.audio_probe_sets(d)
    embeddings = {"image": (evaluate.embed(model.embed_image, pool_x), pool_y.cpu(),
                            evaluate.embed(model.embed_image, d.test_images), d.test_image_digits.cpu()),
                  "audio": (evaluate.embed(model.embed_audio, d.sounds), d.sound_digits.cpu(),
                            evaluate.embed(model.embed_audio, d.test_sounds), d.test_sound_digits.cpu())}
    probe_sets = {"image": ((embeddings["image"][0], pool_y), _embedded(model.embed_image, image_val)),
                  "audio": (_embedded(model.embed_audio, voices), _embedded(model.embed_audio, voice_val))}
    other = {"image": "audio", "audio": "image"}
    columns = {}
    for modality, (train_x, train_y, test_x, test_y) in embeddings.items():
        prompt_x, prompt_y = embeddings[other[modality]][:2]

        def nearest_mean(labelled_x, labelled_y, draw: int, test_x=test_x, test_y=test_y) -> float:
            chosen = evaluate.few_labels(labelled_y, PROMPTS_PER_CLASS, seed + 1000 * draw)
            return _accuracy(je.zero_shot(test_x, je.prompts(labelled_x[chosen], labelled_y[chosen], 10)), test_y)

        column = {ZERO_SHOT_ROW: evaluate.Spread.of(nearest_mean(prompt_x, prompt_y, k) for k in range(sizes.draws)),
                  NEAREST_MEAN_ROW: evaluate.Spread.of(nearest_mean(train_x, train_y, k) for k in range(sizes.draws))}
        (probe_x, probe_y), (val_x, val_y) = probe_sets[modality]
        probes = {k: evaluate.probe_layers({"embedding": probe_x}, probe_y, {"embedding": val_x}, val_y,
                                           {"embedding": test_x}, test_y, per_class=k, draws=sizes.draws, seed=seed,
                                           Cs=sizes.probe_cs) for k in PROBE_LABELS}
        column.update({f"linear probe, {10 * k} labels": probes[k].best for k in PROBE_LABELS})
        column.update({f"probe C (val), {10 * k} labels": probes[k].best_C for k in PROBE_LABELS})
        column["chance"] = evaluate.Spread(10.0)
        columns[{"image": "MNIST test images", "audio": "held-out voice"}[modality]] = column
    return _spread_frame(columns)


def _embedded(embed, labelled: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = labelled
    return evaluate.embed(embed, x), y.cpu()


def _spread_frame(columns: dict[str, dict[str, evaluate.Spread]]) -> pd.DataFrame:
    """A table whose cells stay ``Spread`` objects (pandas would turn a dict of floats into plain floats and drop
    each cell's std and number of draws)."""
    names, rows = list(columns), list(next(iter(columns.values())))
    cells = np.empty((len(rows), len(names)), dtype=object)
    for c, name in enumerate(names):
        for r, row in enumerate(rows):
            cells[r, c] = columns[name][row]
    return pd.DataFrame(cells, index=rows, columns=names)


def as_text(table: pd.DataFrame) -> pd.DataFrame:
    """A table of ``Spread`` cells as "mean ± std" text."""
    return table.map(lambda x: x.text() if isinstance(x, evaluate.Spread) else f"{x:.1f}")
