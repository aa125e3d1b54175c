"""Notebook 11's sizes and data, and part 1: one space for image and sound (InfoNCE beside 08's AVC)."""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.manifold import TSNE

from course_lib import config, evaluate, pretrained, show, train
from course_lib.lessons import sound_supervision as ss
from course_lib.pretext import audio_visual as av
from course_lib.pretext import joint_embedding as je

NOTEBOOK = "11_multimodal_embeddings"  # its runs' shipped weights are named after it

INFONCE = "two towers, symmetric InfoNCE (CLIP)"
AVE, CONCAT = ss.FUSIONS[1], ss.FUSIONS[0]
MODELS = (INFONCE, AVE, CONCAT)
SHORT = {INFONCE: "infonce", AVE: "ave", CONCAT: "concat"}
# 08's correspondence models trained for as many steps as 08 trains them (``at_08s_budget``): whether 11's equal,
# shorter budget is what orders them
LONGER = {AVE: f"{AVE}, 08's budget", CONCAT: f"{CONCAT}, 08's budget"}
LONGER_SHORT = {LONGER[AVE]: "ave_08_budget", LONGER[CONCAT]: "concat_08_budget"}
DIRECTIONS = ("audio_to_image", "image_to_audio", "audio_to_audio", "image_to_image")
PROMPTS_PER_CLASS = 5  # recordings (or images) averaged into one prompt per digit
PROBE_LABELS = (1, 10)  # labels per digit of the probes: 10 and 100 labels in all
HELDOUT = (("red", 3), ("green", 7), ("blue", 1), ("red", 8), ("green", 0))  # never seen together in training
SCENE_SEED = 3000  # the captioned scenes are the run's seed + this (+1, +2 for the test sets)
ZERO_SHOT_ROW = f"zero-shot: nearest prompt of the other modality ({PROMPTS_PER_CLASS} per digit)"
NEAREST_MEAN_ROW = f"nearest class mean, same modality ({PROMPTS_PER_CLASS} labelled per digit)"
CHOICES = 30  # captions of the zero-shot question: every (colour, digit) of one slot
ZERO_SHOT_MARGIN = {"ci": 2, "lab": 3, "full": 3}  # zero-shot must beat chance by this factor (claim 2)
SOUNDNET_MARGIN = {"ci": 2, "lab": 3, "full": 3}  # the distilled sound network, likewise (claim 3)


@dataclass(frozen=True)
class Sizes(config.Profile):
    """The shared profile plus notebook 11's sizes. The names 08's functions read (``images``, ``gallery``,
    ``tower_width``, ``pairs_per_step``, ``steps``, ``seconds``, ``validation``) mean what they mean there."""

    images: int  # MNIST training images, each paired once with a recording of its digit (08's videos)
    gallery: int  # MNIST test images: the gallery of retrieval and the test set of zero-shot
    tower_width: int  # width of every tower (a Backbone)
    pairs_per_step: int  # pairs per step of every image-sound model (the same images and sounds per step for all)
    steps: int  # optimiser steps of each image-sound model (InfoNCE, AVE-Net, concatenation)
    seconds: float  # time cap of each training run
    validation: int  # training images held out of the probes' labelled pool (08's probe sets)
    scenes: int  # captioned training scenes
    test_scenes: int  # captioned test scenes (MNIST test digits), and as many with a held-out combination
    text_steps: int  # optimiser steps of the image-text model
    teacher_steps: int  # optimiser steps of the vision teacher (a digit classifier on labelled images)
    sound_steps: int  # optimiser steps of the distilled sound network and of the supervised one (the same)
    draws: int  # prompt draws and labelled draws averaged in zero-shot and the probes


SIZES = config.lesson_sizes(
    Sizes,
    ci=dict(images=6000, gallery=1000, tower_width=8, pairs_per_step=128, steps=150, seconds=30, validation=1000,
            scenes=6000, test_scenes=1000, text_steps=150, teacher_steps=60, sound_steps=100,
            draws=3),
    lab=dict(images=20_000, gallery=2000, tower_width=8, pairs_per_step=128, steps=500, seconds=60,
             validation=2000, scenes=20_000, test_scenes=2000, text_steps=500, teacher_steps=200,
             sound_steps=300, draws=5),
    full=dict(images=60_000, gallery=10_000, tower_width=32, pairs_per_step=256, steps=3000, seconds=300,
              validation=5000, scenes=60_000, test_scenes=5000, text_steps=3000,
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


def train_infonce(d: ss.SoundsAndImages, sizes: Sizes, seed: int = 0, progress: bool = True,
                  notebook: str = NOTEBOOK, desc: str = "InfoNCE, image-sound"):
    """Two towers trained with the symmetric InfoNCE on batches of ``sizes.pairs_per_step`` videos (every other
    video of the batch a negative); returns (model, history). ``notebook`` and ``desc``: whose run it is and its
    name there (the scoreboard, 12, trains it on its own digits at its own sizes)."""
    model = make_infonce(sizes, seed, d.images.device)
    stream = je.pair_batches(d.images, d.sounds, d.soundtrack, sizes.pairs_per_step, seed)
    history = pretrained.load_or_train(
        model, f"{notebook}/{desc}",
        lambda: train.fit(model, stream, je.clip_loss, steps=sizes.steps, max_seconds=sizes.seconds, desc=desc,
                          progress=progress),
        sizes=sizes, seed=seed, loss=je.clip_loss)
    return model, history


# The short run a student's own symmetric InfoNCE trains (after the exercise). It starts from temperature 1, where a
# softmax over a batch of 128 cosines is nearly flat, and gives log_scale a learning rate 50 x the towers' (which keep
# the course's), so that a few dozen steps show the temperature learn: the notebook's own run starts at CLIP's 0.07
# with the course's rate, and its temperature hardly moves in 500 steps.
YOUR_RUN_STEPS = {"ci": 50, "lab": 150, "full": 400}
YOUR_RUN_TEMPERATURE = 1.0
YOUR_RUN_SCALE_LR = 50 * train.LR


def train_with_your_loss(infonce, d: ss.SoundsAndImages, sizes: Sizes, seed: int = 0):
    """A fresh image-sound model (08's initial towers) trained for ``YOUR_RUN_STEPS`` steps by ``je.clip_loss`` with
    ``infonce(image, other, log_scale)`` as its loss (a student's, or the course's), its temperature starting at
    ``YOUR_RUN_TEMPERATURE``; returns (model, history). Never saved: it shows a loss at work, not a row of a table."""
    model = make_infonce(sizes, seed, d.images.device)
    with torch.no_grad():
        model.log_scale.fill_(math.log(1 / YOUR_RUN_TEMPERATURE))
    towers = [p for name, p in model.named_parameters() if name != "log_scale"]
    optimizer = torch.optim.AdamW([{"params": towers}, {"params": [model.log_scale], "lr": YOUR_RUN_SCALE_LR}],
                                  lr=train.LR, weight_decay=train.WEIGHT_DECAY)
    stream = je.pair_batches(d.images, d.sounds, d.soundtrack, sizes.pairs_per_step, seed)
    with config.isolated_rng(seed):
        history = train.fit(model, stream, functools.partial(je.clip_loss, infonce=infonce),
                            steps=YOUR_RUN_STEPS[sizes.name], max_seconds=sizes.seconds, optimizer=optimizer,
                            log_every=5, desc="your InfoNCE")
    return model.eval(), history


@torch.no_grad()
def _heard_to_seen(model, d: ss.SoundsAndImages) -> tuple[float, float]:
    """(recall@1, chance) of audio -> image on the test set: the unheard voice's recordings query the test images."""
    a, v = evaluate.embed(model.embed_audio, d.test_sounds), evaluate.embed(model.embed_image, d.test_images)
    q, g = d.test_sound_digits.cpu(), d.test_image_digits.cpu()
    return evaluate.recall_at_k(av.cosine_scores(a, v), q, g, 1), av.chance_recall(q, g)


def show_your_run(model, history, d: ss.SoundsAndImages, sizes: Sizes):
    """The short run's in-batch recall@1 (an image's own soundtrack ranked first among the batch's, chance 1 / B)
    beside its chance level, its held-out audio -> image recall@1, and its temperature, at the start and after."""
    chance, recent = 1 / sizes.pairs_per_step, history["acc"][-4:]  # the last 4 logged batches: 20 steps
    heard, heard_chance = _heard_to_seen(model, d)
    start, end = YOUR_RUN_TEMPERATURE, history.last("temperature")
    print(f"after {history.step[-1]} steps: in-batch recall@1 {sum(recent) / len(recent):.0%} (chance {chance:.1%}); "
          f"held-out audio -> image recall@1 {heard:.0%} (chance {heard_chance:.0%})")
    print(f"learnt temperature 1 / e^t: {start:.3f} at the start, {end:.3f} after (scale e^t: {1 / start:.1f} -> "
          f"{1 / end:.1f})")
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    left.plot(history.step, history["acc"], label="own soundtrack ranked first")
    left.axhline(chance, color="grey", linestyle="--", label=f"chance (1 / {sizes.pairs_per_step})")
    left.set(xlabel="step", ylabel="in-batch recall@1", title="your InfoNCE: partners found in the batch")
    right.plot([0, *history.step], [start, *history["temperature"]], color="C1")
    right.set(xlabel="step", ylabel="temperature $1 / e^t$", ylim=(0, None), title="the temperature, learnt")
    left.legend(fontsize=8)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    return show.finish(fig)


def train_avc(fusion: str, d: ss.SoundsAndImages, sizes: Sizes, seed: int = 0, progress: bool = True):
    """08's correspondence model (``fusion``: AVE-Net or concatenation), trained here at the same budget."""
    return ss.train_avc(fusion, d, sizes, seed=seed, progress=progress, notebook=NOTEBOOK)


def at_08s_budget(sizes: Sizes) -> Sizes:
    """11's sizes with 08's steps and time cap for the profile (lab: 1,200 steps instead of 500)."""
    theirs = ss.SIZES[sizes.name]
    return dataclasses.replace(sizes, steps=theirs.steps, seconds=theirs.seconds)


def train_at_08s_budget(d: ss.SoundsAndImages, sizes: Sizes, seed: int = 0, progress: bool = True):
    """AVE-Net and concatenation as 11 trains them, from the same initial towers, but for 08's steps
    (``at_08s_budget``); returns ({name: model}, {name: history}) under the names of ``LONGER``."""
    longer = at_08s_budget(sizes)
    runs = {LONGER[fusion]: ss.train_avc(fusion, d, longer, seed=seed, progress=progress, notebook=NOTEBOOK,
                                         desc=f"AVC, {fusion}, 08's budget") for fusion in LONGER}
    return {name: model for name, (model, _) in runs.items()}, {name: history for name, (_, history) in runs.items()}


def budget_table(retrieval: pd.DataFrame, longer: pd.DataFrame, histories: dict[str, train.History]
                 ) -> pd.DataFrame:
    """Cross-modal retrieval of each model (the ``retrieval_table`` of 11's runs and of the ``longer`` ones),
    recall@1 and mAP both ways, beside the optimiser steps it trained (``histories``), so that a gap between two
    models can be read against their budgets."""
    both = pd.concat([retrieval, longer])
    across = [direction.replace("_", " ") for direction in DIRECTIONS[:2]]  # audio to image, image to audio
    return pd.DataFrame({name: {"steps": history.step[-1],
                                **{f"{what}, {direction}": both.loc[(name, direction), what]
                                   for direction in across for what in ("recall@1", "mAP")}}
                         for name, history in histories.items()}).T


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
