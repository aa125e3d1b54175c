"""Multimodal embeddings (notebook 11): joint spaces of images, sounds and words; retrieval and zero-shot.

The methods are ``course_lib.pretext.joint_embedding`` (two towers, symmetric InfoNCE, learnt temperature) and
``course_lib.pretext.soundnet`` (a vision network teaches a sound network); notebook 08's videos and its two
correspondence models (``lessons.sound_supervision``, ``pretext.audio_visual``) are reused as they are. This package
runs the notebook's four parts, a module each:

* ``image_sound``, **image-sound**: the notebook's sizes, ``load`` (08's fixed MNIST-FSDD videos, the held-out
  voice), ``train_infonce`` and ``train_avc`` (08's AVE-Net and concatenation at the same budget),
  ``train_at_08s_budget`` (the same two for as many steps as 08 trains them) and ``budget_table``,
  ``infonce_budget``: InfoNCE for 08's steps too, on every seed (one command; ``infonce_budget_table`` shows it),
  ``retrieval_table`` (recall@1/5/10 and mAP, across and within the modalities), ``show_map`` (t-SNE of both
  modalities in one space);
* ``zero_shot``, **zero-shot**: ``zero_shot_table``: MNIST test images classified by their nearest spoken prompt,
  recordings by their nearest image prompt, beside linear probes of the same embeddings with 10 and 100 labels;
* ``image_text``, **image-text**: ``load_scenes`` (captioned scenes of two coloured digits, some colour-digit pairs
  held out of training), ``train_text``, ``text_table`` (text -> image retrieval, 30-way zero-shot on held-out and
  on seen combinations, and telling a caption from its attribute-swapped twin);
* ``by_hearing``, **classes just by hearing**: ``train_teacher``, ``train_soundnet`` (KL distillation),
  ``train_sound_supervised`` and ``soundnet_table``;
* ``neighbours``: the explorer (``explorer``, ``show_neighbours``); ``summary``: the metrics and ``ORDERINGS`` (every
  ordering the notebook states, on those numbers; ``seeds.table`` measures them on pretraining seeds 0, 1 and 2);
  ``exercises``: the exercise checker, whose answer then trains a short image-sound run of its own
  (``image_sound.train_with_your_loss``, ``show_your_run``).
"""

from course_lib.lessons.multimodal_embeddings.by_hearing import (
    soundnet_table,
    train_sound_supervised,
    train_soundnet,
    train_teacher,
)
from course_lib.lessons.multimodal_embeddings.exercises import check_infonce
from course_lib.lessons.multimodal_embeddings.image_sound import (
    AVE,
    CHOICES,
    CONCAT,
    DIRECTIONS,
    HELDOUT,
    INFONCE,
    LONGER,
    LONGER_SHORT,
    MODELS,
    NEAREST_MEAN_ROW,
    NOTEBOOK,
    PROBE_LABELS,
    PROMPTS_PER_CLASS,
    SCENE_SEED,
    SHORT,
    SIZES,
    SOUNDNET_MARGIN,
    YOUR_RUN_SCALE_LR,
    YOUR_RUN_STEPS,
    YOUR_RUN_TEMPERATURE,
    ZERO_SHOT_MARGIN,
    ZERO_SHOT_ROW,
    Sizes,
    at_08s_budget,
    budget_table,
    load,
    make_infonce,
    retrieval_table,
    show_batch,
    show_map,
    show_your_run,
    train_at_08s_budget,
    train_avc,
    train_infonce,
    train_with_your_loss,
)
from course_lib.lessons.multimodal_embeddings.image_text import (
    Scenes,
    compositional,
    example_captions,
    load_scenes,
    make_text_model,
    show_scenes,
    show_text_retrieval,
    swapped_captions,
    text_table,
    train_text,
    twin_accuracy,
)
from course_lib.lessons.multimodal_embeddings.neighbours import explorer, explorer_search, show_neighbours
from course_lib.lessons.multimodal_embeddings.summary import ORDERINGS, capped_runs, metrics
from course_lib.lessons.multimodal_embeddings.zero_shot import as_text, zero_shot_table
from course_lib.pretext import joint_embedding as je  # the notebook reads je.symmetric_infonce

__all__ = [
    "NOTEBOOK", "INFONCE", "AVE", "CONCAT", "MODELS", "SHORT", "LONGER", "LONGER_SHORT", "at_08s_budget",
    "train_at_08s_budget", "budget_table", "BUDGET_ORDERINGS", "infonce_budget_table", "DIRECTIONS",
    "PROMPTS_PER_CLASS", "PROBE_LABELS",
    "HELDOUT", "SCENE_SEED", "NEAREST_MEAN_ROW", "ZERO_SHOT_ROW", "CHOICES", "ZERO_SHOT_MARGIN", "SOUNDNET_MARGIN",
    "Sizes", "SIZES",
    "load", "make_infonce", "train_infonce", "train_avc", "show_batch", "retrieval_table", "show_map",
    "zero_shot_table", "as_text", "Scenes", "load_scenes", "show_scenes", "make_text_model", "train_text",
    "compositional", "swapped_captions", "twin_accuracy", "text_table", "example_captions", "show_text_retrieval",
    "train_teacher", "train_soundnet", "train_sound_supervised", "soundnet_table", "explorer_search", "explorer",
    "show_neighbours", "capped_runs", "metrics", "ORDERINGS", "check_infonce", "YOUR_RUN_STEPS", "YOUR_RUN_TEMPERATURE",
    "YOUR_RUN_SCALE_LR", "train_with_your_loss", "show_your_run", "je",
]


def __getattr__(name: str):
    # ``infonce_budget`` is also a command (``python -m``): imported on first use, not above, so that
    # the command does not run a module its package has already imported
    if name in ("BUDGET_ORDERINGS", "infonce_budget_table"):
        from course_lib.lessons.multimodal_embeddings import infonce_budget

        return getattr(infonce_budget, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
