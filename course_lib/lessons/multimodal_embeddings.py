"""Multimodal embeddings (notebook 11): joint spaces of images, sounds and words; retrieval and zero-shot.

The methods are ``course_lib.pretext.joint_embedding`` (two towers, symmetric InfoNCE, learnt temperature) and
``course_lib.pretext.soundnet`` (a vision network teaches a sound network); notebook 08's videos and its two
correspondence models (``lessons.sound_supervision``, ``pretext.audio_visual``) are reused as they are. This module
runs the notebook's four parts:

* **image-sound**: ``load`` (08's fixed MNIST-FSDD videos, the held-out voice), ``train_infonce`` and
  ``train_avc`` (08's AVE-Net and concatenation at the same budget), ``retrieval_table`` (recall@1/5/10 and mAP,
  across and within the modalities), ``show_map`` (t-SNE of both modalities in one space);
* **zero-shot**: ``zero_shot_table``: MNIST test images classified by their nearest spoken prompt, recordings by
  their nearest image prompt, beside linear probes of the same embeddings with 10 and 100 labels;
* **image-text**: ``load_scenes`` (captioned scenes of two coloured digits, some colour-digit pairs held out of
  training), ``train_text``, ``text_table`` (text -> image retrieval, 30-way zero-shot on held-out and on seen
  combinations, and telling a caption from its attribute-swapped twin);
* **classes just by hearing**: ``train_teacher``, ``train_soundnet`` (KL distillation), ``train_sound_supervised``
  and ``soundnet_table``;
* the explorer (``explorer``, ``show_neighbours``), the metrics and the exercise checker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.manifold import TSNE

from course_lib import checks, config, evaluate, nets, show, train, widgets
from course_lib.data import captioned_scenes as cs
from course_lib.lessons import sound_supervision as ss
from course_lib.pretext import audio_visual as av
from course_lib.pretext import joint_embedding as je
from course_lib.pretext import soundnet as sn

INFONCE = "two towers, symmetric InfoNCE (CLIP)"
AVE, CONCAT = ss.FUSIONS[1], ss.FUSIONS[0]
MODELS = (INFONCE, AVE, CONCAT)
SHORT = {INFONCE: "infonce", AVE: "ave", CONCAT: "concat"}
DIRECTIONS = ("audio_to_image", "image_to_audio", "audio_to_audio", "image_to_image")
PROMPTS_PER_CLASS = 5  # recordings (or images) averaged into one prompt per digit
PROBE_LABELS = (1, 10)  # labels per digit of the probes: 10 and 100 labels in all
HELDOUT = (("red", 3), ("green", 7), ("blue", 1), ("red", 8), ("green", 0))  # never seen together in training
SCENE_SEED = 3000  # the captioned scenes are the run's seed + this (+1, +2 for the test sets)
ZERO_SHOT_ROW = f"zero-shot: nearest prompt of the other modality ({PROMPTS_PER_CLASS} per digit)"
CHOICES = 30  # captions of the zero-shot question: every (colour, digit) of one slot
ZERO_SHOT_MARGIN = {"ci": 2, "lab": 3, "full": 3}  # zero-shot must beat chance by this factor (claim 2)
SOUNDNET_MARGIN = {"ci": 2, "lab": 3, "full": 3}  # the distilled sound network, likewise (claim 3)


@dataclass(frozen=True)
class Sizes(config.Profile):
    """The shared profile plus notebook 11's sizes. The names 08's functions read (``images``, ``gallery``,
    ``tower_width``, ``pairs_per_step``, ``steps``, ``seconds``, ``validation``, ``shortcut_steps``) mean what they
    mean there."""

    images: int  # MNIST training images, each paired once with a recording of its digit (08's videos)
    gallery: int  # MNIST test images: the gallery of retrieval and the test set of zero-shot
    tower_width: int  # width of every tower (a Backbone)
    pairs_per_step: int  # pairs per step of every image-sound model (the same images and sounds per step for all)
    steps: int  # optimiser steps of each image-sound model (InfoNCE, AVE-Net, concatenation)
    seconds: float  # time cap of each training run
    validation: int  # training images held out of the probes' labelled pool (08's probe sets)
    shortcut_steps: int  # unused here (08's shortcut run); kept so that 08's functions read these sizes
    scenes: int  # captioned training scenes
    test_scenes: int  # captioned test scenes (MNIST test digits), and as many with a held-out combination
    text_steps: int  # optimiser steps of the image-text model
    teacher_steps: int  # optimiser steps of the vision teacher (a digit classifier on labelled images)
    sound_steps: int  # optimiser steps of the distilled sound network and of the supervised one (the same)
    draws: int  # prompt draws and labelled draws averaged in zero-shot and the probes


SIZES = config.lesson_sizes(
    Sizes,
    ci=dict(images=6000, gallery=1000, tower_width=8, pairs_per_step=128, steps=150, seconds=30, validation=1000,
            shortcut_steps=0, scenes=6000, test_scenes=1000, text_steps=150, teacher_steps=60, sound_steps=100,
            draws=3),
    lab=dict(images=20_000, gallery=2000, tower_width=8, pairs_per_step=128, steps=500, seconds=60,
             validation=2000, shortcut_steps=0, scenes=20_000, test_scenes=2000, text_steps=500, teacher_steps=200,
             sound_steps=300, draws=5),
    full=dict(images=60_000, gallery=10_000, tower_width=32, pairs_per_step=256, steps=3000, seconds=300,
              validation=5000, shortcut_steps=0, scenes=60_000, test_scenes=5000, text_steps=3000,
              teacher_steps=1000, sound_steps=2000, draws=5),
)


def load(sizes: Sizes, device: torch.device | str = "cpu", seed: int = 0) -> ss.SoundsAndImages:
    """Notebook 08's data, split by speaker: MNIST images, FSDD spectrograms, and the fixed videos (every image
    paired once with a recording of its digit; the test videos pair MNIST test images with the held-out voice)."""
    return ss.load(sizes, split="speaker", device=device, seed=seed)


# --- part 1: the image-sound joint space ---------------------------------------------------------------------------

def make_infonce(sizes: Sizes, seed: int, device: torch.device | str = "cpu") -> je.JointEmbedding:
    """The CLIP-style model from 08's initial towers (the weights every model of the comparison starts from)."""
    image_tower, audio_tower = ss.towers(sizes, seed, device)
    with config.isolated_rng(seed):
        return je.JointEmbedding(image_tower, audio_tower, image_tower.out_dim, audio_tower.out_dim).to(device)


def train_infonce(d: ss.SoundsAndImages, sizes: Sizes, seed: int = 0, progress: bool = True):
    """Two towers trained with the symmetric InfoNCE on batches of ``sizes.pairs_per_step`` videos (every other
    video of the batch a negative); returns (model, history)."""
    model = make_infonce(sizes, seed, d.images.device)
    stream = je.pair_batches(d.images, d.sounds, d.soundtrack, sizes.pairs_per_step, seed)
    history = train.fit(model, stream, je.clip_loss, steps=sizes.steps, max_seconds=sizes.seconds,
                        desc="InfoNCE, image-sound", progress=progress)
    return model, history


def train_avc(fusion: str, d: ss.SoundsAndImages, sizes: Sizes, seed: int = 0, progress: bool = True):
    """08's correspondence model (``fusion``: AVE-Net or concatenation), trained here at the same budget."""
    return ss.train_avc(fusion, d, sizes, seed=seed, progress=progress)


def show_batch(d: ss.SoundsAndImages, n: int = 8, seed: int = 0):
    """A batch of ``n`` videos as the InfoNCE model sees it: frame i (top) and its soundtrack (below) are the
    diagonal of the n x n question; every other (frame, sound) pair is a negative."""
    images, sounds = next(je.pair_batches(d.images, d.sounds, d.soundtrack, n, seed))
    fig, axes = plt.subplots(2, n, figsize=(1.3 * n, 2.8))
    for i in range(n):
        ss._image_and_spectrogram(axes[0, i], axes[1, i], images[i], sounds[i], f"video {i}")
    axes[1, 0].set_ylabel("sound", fontsize=8)
    return show.finish(fig)


@torch.no_grad()
def _scores(model, d: ss.SoundsAndImages) -> dict[str, torch.Tensor]:
    """Every direction's score matrix on the test set. Across the modalities: the cosine of the two embeddings
    where the model has a shared space (InfoNCE, AVE-Net: the same ranking as its own score), the model's own
    correspondence score of every pair for concatenation (its only way to compare a sound with an image). Within
    a modality: the cosine of that modality's embeddings (pooled towers for concatenation)."""
    a, v = evaluate.embed(model.embed_audio, d.test_sounds), evaluate.embed(model.embed_image, d.test_images)
    if isinstance(model, av.ConcatFusion):
        across = av.pair_scores(model.cpu(), a, v)
        model.to(d.images.device)
    else:
        across = av.cosine_scores(a, v)
    a, v = F.normalize(a, dim=1), F.normalize(v, dim=1)
    return {"audio_to_image": across, "image_to_audio": across.T, "audio_to_audio": a @ a.T, "image_to_image": v @ v.T}


def retrieval_table(models: dict, d: ss.SoundsAndImages) -> pd.DataFrame:
    """Recall@1/5/10 and mAP of every model (rows: model, direction). Queries: the held-out voice's recordings and
    the MNIST test images; a hit is an item of the query's digit; within a modality the query itself is left out
    of its gallery. Chance: recall@1 of a random ranking."""
    labels = {"audio": d.test_sound_digits.cpu(), "image": d.test_image_digits.cpu()}
    rows = {}
    for name, model in models.items():
        for direction, scores in _scores(model, d).items():
            query, gallery = direction.split("_to_")
            q, g = labels[query], labels[gallery]
            exclude = torch.eye(len(q), dtype=torch.bool) if query == gallery else None
            if exclude is not None:
                scores = scores.masked_fill(exclude, -math.inf)
            rows[(name, direction.replace("_", " "))] = {
                **{f"recall@{k}": evaluate.recall_at_k(scores, q, g, k) for k in (1, 5, 10)},
                "mAP": evaluate.mean_average_precision(scores, q, g, exclude),
                "chance recall@1": av.chance_recall(q, g)}
    return pd.DataFrame(rows).T


@torch.no_grad()
def show_map(model, d: ss.SoundsAndImages, n: int = 300, seed: int = 0, title: str = ""):
    """t-SNE (scikit-learn) of ``n`` test images and ``n`` held-out recordings in the model's space: colour = digit,
    dots = images, crosses = recordings. In a shared space the two modalities of a digit meet."""
    generator = torch.Generator().manual_seed(seed)
    pick = torch.randperm(len(d.test_images), generator=generator)[:n]
    heard = torch.randperm(len(d.test_sounds), generator=generator)[:n]  # the recordings are sorted by digit
    v = evaluate.embed(model.embed_image, d.test_images[pick.to(d.test_images.device)])
    a = evaluate.embed(model.embed_audio, d.test_sounds[heard.to(d.test_sounds.device)])
    both = F.normalize(torch.cat([v, a]), dim=1).numpy()
    xy = TSNE(n_components=2, init="pca", perplexity=30, random_state=seed).fit_transform(both)
    digits = torch.cat([d.test_image_digits.cpu()[pick], d.test_sound_digits.cpu()[heard]]).numpy()
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    cmap = plt.get_cmap("tab10")
    for part, (marker, label) in enumerate((("o", "images"), ("x", "recordings"))):
        sl = slice(0, len(v)) if part == 0 else slice(len(v), None)
        ax.scatter(xy[sl, 0], xy[sl, 1], c=cmap(digits[sl]), marker=marker, s=14, alpha=0.7, label=label)
    for digit in range(10):
        centre = xy[digits == digit].mean(0)
        ax.text(*centre, str(digit), fontsize=13, weight="bold", ha="center", va="center")
    ax.legend(loc="best", fontsize=8)
    ax.set(xticks=[], yticks=[], title=title or "t-SNE of both modalities (colour: digit)")
    return show.finish(fig)


# --- part 2: zero-shot ---------------------------------------------------------------------------------------------

def _accuracy(predicted: torch.Tensor, truth: torch.Tensor) -> float:
    return 100.0 * (predicted.cpu() == truth.cpu()).float().mean().item()


def zero_shot_table(model: je.JointEmbedding, d: ss.SoundsAndImages, sizes: Sizes, seed: int = 0) -> pd.DataFrame:
    """Zero-shot against probes, on the frozen embeddings of the joint space (mean ± std over ``sizes.draws``).

    * images: each MNIST test image gets the digit of its nearest *spoken prompt* -- the mean embedding of
      ``PROMPTS_PER_CLASS`` training-voice recordings of each digit (labelled recordings, no labelled image);
    * recordings: each held-out-voice recording gets the digit of its nearest *image prompt* (the mean of
      ``PROMPTS_PER_CLASS`` training images of each digit);
    * probes: a linear probe of the same embeddings trained on 10 and 100 labelled examples of the modality itself
      (1 and 10 per digit; images from 08's probe pool, recordings of the training voices).
    Each cell is an ``evaluate.Spread`` (accuracy %, its std over draws); chance is 10 %."""
    (pool_x, pool_y), _, _ = ss.image_probe_sets(d, sizes, seed)
    embeddings = {"image": (evaluate.embed(model.embed_image, pool_x), pool_y.cpu(),
                            evaluate.embed(model.embed_image, d.test_images), d.test_image_digits.cpu()),
                  "audio": (evaluate.embed(model.embed_audio, d.sounds), d.sound_digits.cpu(),
                            evaluate.embed(model.embed_audio, d.test_sounds), d.test_sound_digits.cpu())}
    other = {"image": "audio", "audio": "image"}
    columns = {}
    for modality, (train_x, train_y, test_x, test_y) in embeddings.items():
        prompt_x, prompt_y = embeddings[other[modality]][:2]

        def zero_shot(draw: int, prompt_x=prompt_x, prompt_y=prompt_y, test_x=test_x, test_y=test_y) -> float:
            chosen = evaluate.few_labels(prompt_y, PROMPTS_PER_CLASS, seed + 1000 * draw)
            return _accuracy(je.zero_shot(test_x, je.prompts(prompt_x[chosen], prompt_y[chosen], 10)), test_y)

        column = {ZERO_SHOT_ROW:
                  evaluate.Spread.of(zero_shot(k) for k in range(sizes.draws))}
        curve = evaluate.label_efficiency(
            lambda idx, train_x=train_x, train_y=train_y, test_x=test_x, test_y=test_y:
            evaluate.linear_probe(train_x[idx], train_y[idx], test_x, test_y),
            train_y, PROBE_LABELS, seed, sizes.draws)
        column.update({f"linear probe, {10 * k} labels": curve[k] for k in PROBE_LABELS})
        column["chance"] = evaluate.Spread(10.0)
        columns[{"image": "MNIST test images", "audio": "held-out voice"}[modality]] = column
    return _spread_frame(columns)


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


# --- part 3: image-text ------------------------------------------------------------------------------------------

@dataclass
class Scenes:
    train: cs.CaptionedScenes  # training scenes: no held-out (colour, digit) pair anywhere
    test: cs.CaptionedScenes  # test scenes of MNIST test digits, no held-out pair (seen combinations)
    heldout: cs.CaptionedScenes  # test scenes with exactly one held-out pair (never seen together in training)


def load_scenes(d: ss.SoundsAndImages, sizes: Sizes, seed: int = 0) -> Scenes:
    """Captioned scenes from 08's MNIST images (training scenes from training digits, test scenes from test digits),
    ``HELDOUT`` kept out of every training scene."""
    base = seed + SCENE_SEED
    return Scenes(
        cs.make_scenes(d.images, d.image_digits, sizes.scenes, heldout=HELDOUT, seed=base),
        cs.make_scenes(d.test_images, d.test_image_digits, sizes.test_scenes, heldout=HELDOUT, seed=base + 1),
        cs.make_scenes(d.test_images, d.test_image_digits, sizes.test_scenes, heldout=HELDOUT,
                       include_heldout=True, seed=base + 2))


def show_scenes(scenes: cs.CaptionedScenes, n: int = 8, ncols: int = 4):
    """A few scenes with their captions."""
    rows = math.ceil(n / ncols)
    fig, axes = plt.subplots(rows, ncols, figsize=(2.4 * ncols, 1.5 * rows), squeeze=False)
    for ax, image, caption in zip(axes.flat, scenes.images[:n].cpu(), scenes.captions(slice(0, n)), strict=False):
        ax.imshow(image.permute(1, 2, 0).numpy())
        ax.set_title(caption, fontsize=8)
    for ax in axes.flat:
        ax.axis("off")
    return show.finish(fig)


def make_text_model(sizes: Sizes, seed: int, encoder: str = "gru", device: torch.device | str = "cpu"):
    """An image tower for the scenes (``nets.SceneTower``: left and right kept apart) and a caption encoder
    (``"gru"``: ``nets.TextEncoder``, reads word order; ``"bag"``: ``nets.BagOfWords``), in one joint space."""
    with config.isolated_rng(seed + 7):
        image = nets.SceneTower(nets.Backbone(3, sizes.tower_width))
        text = nets.TextEncoder(len(cs.VOCABULARY)) if encoder == "gru" else nets.BagOfWords(len(cs.VOCABULARY))
        return je.JointEmbedding(image, text, image.out_dim, text.out_dim).to(device)


def train_text(scenes: Scenes, sizes: Sizes, seed: int = 0, encoder: str = "gru", progress: bool = True):
    """The image tower and a caption encoder trained with the same symmetric InfoNCE on (scene, caption) pairs;
    returns (model, history)."""
    model = make_text_model(sizes, seed, encoder, scenes.train.images.device)
    stream = je.pair_batches(scenes.train.images, scenes.train.tokens, None, sizes.pairs_per_step, seed)
    history = train.fit(model, stream, je.clip_loss, steps=sizes.text_steps, max_seconds=sizes.seconds,
                        desc=f"InfoNCE, image-text ({encoder})", progress=progress)
    return model, history


@torch.no_grad()
def _choose(model: je.JointEmbedding, scenes: cs.CaptionedScenes, captions: torch.Tensor) -> torch.Tensor:
    """For each scene, the index of its most similar caption among ``captions[i]`` (N x C x words)."""
    v = evaluate.embed(model.embed_image, scenes.images)
    t = evaluate.embed(model.embed_text, captions.flatten(0, 1)).view(*captions.shape[:2], -1)
    return torch.einsum("nd,ncd->nc", v, t).argmax(1)


def _heldout_slot(scenes: cs.CaptionedScenes) -> torch.Tensor:
    """Which slot of each scene holds a held-out pair (0 left, 1 right)."""
    pairs = {(cs.COLOURS.index(c), digit) for c, digit in HELDOUT}
    held = torch.tensor([[(int(c), int(g)) in pairs for c, g in zip(cr, gr, strict=True)]
                         for cr, gr in zip(scenes.colour.cpu(), scenes.digit.cpu(), strict=True)])
    return held.int().argmax(1)


def compositional(model: je.JointEmbedding, scenes: cs.CaptionedScenes, slot: torch.Tensor) -> dict[str, float]:
    """The 30-way zero-shot question on one slot of each scene: which of the 30 captions that differ only in that
    slot's colour and digit fits? Accuracy (%), and how often the chosen caption has the right digit and colour."""
    chosen = _choose(model, scenes, cs.alternatives(scenes, slot))
    rows = torch.arange(len(scenes))
    colour, digit = scenes.colour.cpu()[rows, slot.cpu()], scenes.digit.cpu()[rows, slot.cpu()]
    return {"accuracy": _accuracy(chosen, colour * 10 + digit), "digit right": _accuracy(chosen % 10, digit),
            "colour right": _accuracy(chosen // 10, colour)}


def swapped_captions(scenes: cs.CaptionedScenes) -> torch.Tensor:
    """Each scene's caption (said left to right) and its twin with the two colours swapped ("a red 3 left of a blue
    7" / "a blue 3 left of a red 7"): the same words, bound differently. N x 2 x words; the first is right."""
    left_first = torch.zeros(len(scenes), dtype=torch.bool)
    colour, digit = scenes.colour.cpu(), scenes.digit.cpu()
    true = cs.caption_tokens(colour, digit, left_first)
    twin = cs.caption_tokens(colour.flip(1), digit, left_first)
    return torch.stack([true, twin], dim=1).to(scenes.tokens.device)


@torch.no_grad()
def twin_accuracy(model: je.JointEmbedding, scenes: cs.CaptionedScenes) -> float:
    """How often (%) a scene is closer to its caption than to the colour-swapped twin; a tie (an encoder that
    cannot tell the two apart, up to rounding) counts half, as a coin toss would."""
    v = evaluate.embed(model.embed_image, scenes.images)
    captions = swapped_captions(scenes)
    t = evaluate.embed(model.embed_text, captions.flatten(0, 1)).view(len(scenes), 2, -1)
    gap = torch.einsum("nd,ncd->nc", v, t).diff(dim=1).squeeze(1)  # twin minus true
    tie = gap.abs() <= 1e-5
    return 100.0 * ((gap < 0) & ~tie).float().add(0.5 * tie.float()).mean().item()


def text_table(models: dict[str, je.JointEmbedding], scenes: Scenes, seed: int = 0) -> pd.DataFrame:
    """Per caption encoder (rows): text -> image recall@1/5/10 (a fraction; each test caption queries the test
    scenes; a hit is a scene with the same four attributes) and, as accuracies in %, the 30-way zero-shot question
    on a held-out pair's slot and on a random slot of seen-combination scenes, and the choice between a caption and
    its colour-swapped twin (on scenes whose two colours differ)."""
    rows = {}
    test, held = scenes.test, scenes.heldout
    random_slot = torch.randint(2, (len(test),), generator=torch.Generator().manual_seed(seed))
    differ = (test.colour[:, 0] != test.colour[:, 1]).cpu()
    for name, model in models.items():
        v, t = evaluate.embed(model.embed_image, test.images), evaluate.embed(model.embed_text, test.tokens)
        row = {f"text->image recall@{k}": evaluate.recall_at_k(t @ v.T, test.kind, test.kind, k)
               for k in (1, 5, 10)}
        seen, unseen = compositional(model, test, random_slot), compositional(model, held, _heldout_slot(held))
        row["30-way, seen combinations"] = seen["accuracy"]
        row["30-way, held-out combinations"] = unseen["accuracy"]
        row["held-out: digit right"], row["held-out: colour right"] = unseen["digit right"], unseen["colour right"]
        twins = test.__class__(*(getattr(test, f)[differ.to(test.images.device)] for f in
                                 ("images", "tokens", "colour", "digit", "source")))
        row["caption vs colour-swapped twin"] = twin_accuracy(model, twins)
        rows[name] = row
    table = pd.DataFrame(rows).T
    table.attrs["chance"] = {"text->image recall@1": 1 / 900, "30-way (%)": 100 / CHOICES, "twin (%)": 50.0}
    return table


def example_captions() -> list[str]:
    """Captions to search the test scenes with: two with a held-out pair, one with seen pairs only."""
    return ["a red 3 left of a green 5", "a blue 9 right of a green 7", "a green 2 left of a blue 4"]


@torch.no_grad()
def show_text_retrieval(model: je.JointEmbedding, scenes: Scenes, captions: list[str], top: int = 5):
    """For each caption (a string), the ``top`` test scenes (seen and held-out combinations together) the model
    ranks first."""
    images = torch.cat([scenes.test.images, scenes.heldout.images])
    v = evaluate.embed(model.embed_image, images)
    t = evaluate.embed(model.embed_text, torch.stack([cs.encode(c) for c in captions]).to(images.device))
    best = (t @ v.T).topk(top, dim=1).indices
    fig, axes = plt.subplots(len(captions), top, figsize=(1.9 * top, 1.2 * len(captions)), squeeze=False)
    for r, caption in enumerate(captions):
        for c, i in enumerate(best[r].tolist()):
            axes[r, c].imshow(images[i].cpu().permute(1, 2, 0).numpy())
            axes[r, c].set(xticks=[], yticks=[])
            if c == 0:
                axes[r, c].set_title(f'"{caption}"', fontsize=8, loc="left")
    return show.finish(fig)


# --- part 4: classes just by hearing (SoundNet) --------------------------------------------------------------------

def _sound_classifier(sizes: Sizes, seed: int, device) -> nets.Classifier:
    """A sound network: 08's audio tower (its initial weights for ``seed``) and a linear layer over the digits."""
    _, audio_tower = ss.towers(sizes, seed, device)
    with config.isolated_rng(seed + 5):
        return nets.Classifier(audio_tower, 10).to(device)


def train_teacher(d: ss.SoundsAndImages, sizes: Sizes, seed: int = 0, progress: bool = True):
    """The vision network: a digit classifier trained on labelled MNIST images (SoundNet's teachers were trained on
    labelled ImageNet and Places images). Returns (classifier, history)."""
    image_tower, _ = ss.towers(sizes, seed, d.images.device)
    with config.isolated_rng(seed + 6):
        teacher = nets.Classifier(image_tower, 10).to(d.images.device)
    history = train.train_classifier(teacher, d.images, d.image_digits, steps=sizes.teacher_steps,
                                     batch_size=sizes.pairs_per_step, seed=seed, max_seconds=sizes.seconds,
                                     progress=progress, desc="vision teacher (image labels)")
    return teacher.eval(), history


def train_soundnet(teacher: nets.Classifier, d: ss.SoundsAndImages, sizes: Sizes, seed: int = 0,
                   progress: bool = True):
    """The sound network learns the teacher's posteriors on each video's frame from the video's sound (KL); no
    label of any sound is read. Returns (the sound classifier, history)."""
    model = sn.Distillation(_sound_classifier(sizes, seed, d.images.device), teacher)
    stream = sn.video_batches(d.images, d.soundtrack, d.sounds, sizes.pairs_per_step, seed)
    history = train.fit(model, stream, sn.soundnet_loss, steps=sizes.sound_steps, max_seconds=sizes.seconds,
                        desc="SoundNet student (teacher's posteriors)", progress=progress)
    return model.student.eval(), history


def train_sound_supervised(d: ss.SoundsAndImages, sizes: Sizes, seed: int = 0, progress: bool = True):
    """The same sound network, from the same initial weights, for as many steps, told the digit of every training
    recording. Returns (classifier, history)."""
    model = _sound_classifier(sizes, seed, d.images.device)
    history = train.train_classifier(model, d.sounds, d.sound_digits, steps=sizes.sound_steps,
                                     batch_size=sizes.pairs_per_step, seed=seed, max_seconds=sizes.seconds,
                                     progress=progress, desc="sound network (sound labels)")
    return model.eval(), history


def soundnet_table(teacher, student, supervised, d: ss.SoundsAndImages) -> pd.DataFrame:
    """Accuracy (%) of digit classification: the teacher on MNIST test images; the two sound networks on the
    held-out voice (a speaker neither ever heard). Chance is 10 %."""
    rows = {"vision teacher (image labels), MNIST test images": evaluate.accuracy(teacher, d.test_images,
                                                                                  d.test_image_digits),
            "SoundNet student (no sound label), held-out voice": evaluate.accuracy(student, d.test_sounds,
                                                                                   d.test_sound_digits),
            "sound network told the digits, held-out voice": evaluate.accuracy(supervised, d.test_sounds,
                                                                               d.test_sound_digits)}
    return pd.DataFrame({"accuracy (%)": rows, "chance (%)": dict.fromkeys(rows, 10.0)})


# --- the explorer -------------------------------------------------------------------------------------------------

def _spectrogram_picture(spec: torch.Tensor) -> np.ndarray:
    grey = spec.detach().float().cpu().squeeze(0).flip(0)  # low pitch at the bottom, as the figures draw it
    grey = (grey - grey.min()) / (grey.max() - grey.min()).clamp_min(1e-8)
    return plt.get_cmap("magma")(grey.numpy())[..., :3]


@torch.no_grad()
def explorer_search(sound_model: je.JointEmbedding, text_model: je.JointEmbedding, d: ss.SoundsAndImages,
                    scenes: cs.CaptionedScenes, n_queries: int = 10, top: int = 6, seed: int = 0):
    """The explorer's two arguments: ``neighbours(kind, name)`` and the queries by kind. A recording (held-out
    voice) finds MNIST test images; an image finds recordings; a caption finds test scenes; a scene finds
    captions (the test captions, as text)."""
    a = evaluate.embed(sound_model.embed_audio, d.test_sounds)
    v = evaluate.embed(sound_model.embed_image, d.test_images)
    sv, st = evaluate.embed(text_model.embed_image, scenes.images), evaluate.embed(text_model.embed_text, scenes.tokens)
    generator = torch.Generator().manual_seed(seed)
    recordings = torch.randperm(len(a), generator=generator)[:n_queries].tolist()
    images = torch.randperm(len(v), generator=generator)[:n_queries].tolist()
    picked = torch.randperm(len(sv), generator=generator)[:n_queries].tolist()
    captions = scenes.captions(picked)
    queries = {"a recording": [f'recording #{i}: says "{int(d.test_sound_digits[i])}"' for i in recordings],
               "an image": [f"MNIST test image #{i} (a {int(d.test_image_digits[i])})" for i in images],
               "a caption": captions,
               "a scene": [f"scene #{i}" for i in picked]}

    def neighbours(kind: str, name: str):
        position = queries[kind].index(name)
        if kind == "a recording":
            best = (a[recordings[position]] @ v.T).topk(top).indices.tolist()
            found = [int(d.test_image_digits[i]) for i in best]
            return [d.test_images[i].cpu().squeeze(0).numpy() for i in best], f"images showing {found}"
        if kind == "an image":
            best = (v[images[position]] @ a.T).topk(top).indices.tolist()
            said = [int(d.test_sound_digits[i]) for i in best]
            return [_spectrogram_picture(d.test_sounds[i]) for i in best], f"recordings saying {said}"
        if kind == "a caption":
            best = (st[picked[position]] @ sv.T).topk(top).indices.tolist()
            return [scenes.images[i].cpu().permute(1, 2, 0).numpy() for i in best], f'scenes for "{name}"'
        i = picked[position]
        best = (sv[i] @ st.T).topk(3).indices.tolist()
        return [scenes.images[i].cpu().permute(1, 2, 0).numpy()], "best captions: " + " | ".join(
            dict.fromkeys(scenes.captions(best)))

    return neighbours, queries


def explorer(sound_model, text_model, d, scenes, seed: int = 0) -> widgets.Demo:
    """Pick a recording, an image, a caption or a scene; see its nearest items of the other modality."""
    neighbours, queries = explorer_search(sound_model, text_model, d, scenes, seed=seed)
    return widgets.nearest_neighbours(neighbours, queries)


def show_neighbours(sound_model, text_model, d, scenes, seed: int = 0):
    """The explorer drawn without a kernel: the first query of each kind and what it finds."""
    neighbours, queries = explorer_search(sound_model, text_model, d, scenes, seed=seed)
    kinds = list(queries)
    fig, axes = plt.subplots(len(kinds), 1, figsize=(9, 1.5 * len(kinds)))
    for ax, kind in zip(axes, kinds, strict=True):
        pictures, text = neighbours(kind, queries[kind][0])
        ax.imshow(widgets.picture_strip(pictures))
        ax.set_title(f"{kind}: {queries[kind][0]} -> {text}", fontsize=8, loc="left")
        ax.set(xticks=[], yticks=[])
    return show.finish(fig)


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


# --- exercise checker ----------------------------------------------------------------------------------------------

def check_infonce(fn) -> None:
    """Exercise: ``fn(image, other, log_scale)`` = the symmetric InfoNCE loss, ``je.symmetric_infonce``, on random
    embeddings that are not unit length; the hints name the usual mistakes."""
    with config.isolated_rng(0):
        image, other = 3 * torch.randn(8, 5), 0.5 * torch.randn(8, 5)
    t = math.log(10.0)
    want = je.symmetric_infonce(image, other, t)
    got = torch.as_tensor(fn(image, other, t)).float()
    own = torch.arange(8)
    v, a = F.normalize(image, dim=1), F.normalize(other, dim=1)
    logits = math.exp(t) * v @ a.T

    def near(x) -> bool:
        return got.numel() == 1 and abs(float(got) - float(x)) < 1e-4

    def both_ways(scores: torch.Tensor) -> torch.Tensor:
        return (F.cross_entropy(scores, own) + F.cross_entropy(scores.T, own)) / 2

    checks.verdict("symmetric InfoNCE", [
        (lambda: got.numel() == 1, f"return one number (the mean loss over the batch); got shape {tuple(got.shape)}"),
        (lambda: not near(F.cross_entropy(logits, own)) and not near(F.cross_entropy(logits.T, own)),
         "only one direction: average the cross-entropy along the rows (image -> other) and along the columns "
         "(other -> image, the transposed logits)"),
        (lambda: not near(both_ways(v @ a.T / math.exp(t))) and not near(both_ways(t * v @ a.T)),
         "the temperature the wrong way: log_scale is t, the logits are exp(t) * cosine (multiply by the scale "
         "1 / temperature, do not divide, and take the exp of t)"),
        (lambda: not near(both_ways(math.exp(t) * image @ other.T)),
         "normalise the embeddings first (F.normalize(x, dim=1)): the score is a cosine"),
        (lambda: near(want), f"expected {float(want):.4f}, got {float(got):.4f}: logits exp(t) * v @ a.T of unit "
         "vectors v, a; the target of row i (and of column i) is i; average the two cross-entropies"),
    ])
