"""Sound as supervision (notebook 08): MNIST images paired with real spoken digits, as simulated videos.

The methods are ``course_lib.pretext.audio_visual``; this module runs the notebook's experiment:

* ``load``          MNIST images and FSDD recordings (split by take or by speaker), spectrograms computed once
                    as tensors (centred in the window, and start-aligned for the shortcut lab), and the simulated
                    videos: every image paired *once* with a recording of its digit (``av.simulate_videos``);
* ``train_owens``   classes from sound: k-means on sound statistics, the cluster of each video's soundtrack
                    supervises the image tower;
* ``train_avc``     audio-visual correspondence with either fusion (concatenation = L3-Net, distance = AVE-Net) on
                    the fixed videos, negatives = another video's soundtrack drawn at random; and the shortcut run
                    (positives' recordings padded differently from the negatives');
* ``train_supervised``  the reference that *is* told the digits: each tower trained as a digit classifier;
* ``image_probes`` / ``audio_probes``  linear probes of digit labels at every stage of every frozen tower, the
                    layer chosen on validation data held out of the training data, the image probe with
                    ``LABELS_PER_CLASS`` labels per digit averaged over ``sizes.label_draws`` labelled draws;
* ``retrieval_table``  cross-modal recall@1 audio -> image, by each model's own score and by the cosine of the
                    embeddings each model fuses;
* pictures, the metrics and the exercise checkers.

``SIZES`` holds the notebook's sizes for ``ci``, ``lab`` and ``full``.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import audio, checks, config, data, evaluate, nets, show, train
from course_lib.data.fsdd import SpokenDigits, load_fsdd
from course_lib.pretext import audio_visual as av

FUSIONS = ("concatenation (L3-Net)", "distance (AVE-Net)")
RANDOM = "random init"
OWENS = "classes from sound"
SUPERVISED = "supervised reference (told the digits)"
SPLITS = ("take", "speaker")
TEST_PAIRS = 2000  # test pairs the AVC accuracy is measured on (half positives)
LABELS_PER_CLASS = 10  # the image probe's labelled examples per digit (100 in all)
VALIDATION_SPEAKER = "jackson"  # a training voice the audio probes choose their layer on (the test voice is unheard)
VIDEO_SEED = 2000  # the simulated videos are the run's seed + this: their own draw, never a training stream's
OWENS_K = 30  # k-means clusters of the sound statistics ("classes from sound")
AUDIO_SEED = 1000  # the audio tower's seed is the run's seed + this: its own draw, never another run's image tower


@dataclass(frozen=True)
class Sizes(config.Profile):
    """The shared profile plus what notebook 08 alone needs."""

    images: int  # MNIST training images paired with the recordings (images of the spoken digit)
    gallery: int  # MNIST test images: the test pairs' images and the gallery of audio -> image retrieval
    tower_width: int  # width of the image tower and of the audio tower (both a Backbone; 8 keeps it fast)
    pairs_per_step: int  # (image, recording) pairs per step, half of them together; also Owens' batch
    steps: int  # optimiser steps of each AVC model (concatenation, AVE-Net)
    shortcut_steps: int  # optimiser steps of the shortcut run (it finds the artefact in a few dozen)
    seconds: float  # time cap of each training (AVC models, shortcut run, classes from sound, supervised)
    owens_steps: int  # optimiser steps of the image tower predicting the sound's cluster
    supervised_steps: int  # optimiser steps of each tower of the supervised reference (digit classifiers)
    validation: int  # training images held out to choose the image probe's layer on (the towers still see them)


SIZES = config.lesson_sizes(
    Sizes,
    ci=dict(images=10_000, gallery=1000, tower_width=8, pairs_per_step=128, steps=200, shortcut_steps=100,
            seconds=60, owens_steps=100, supervised_steps=100, validation=1000),
    lab=dict(images=20_000, gallery=2000, tower_width=8, pairs_per_step=128, steps=1200, shortcut_steps=200,
             seconds=180, owens_steps=300, supervised_steps=300, validation=2000),
    full=dict(images=60_000, gallery=10_000, tower_width=32, pairs_per_step=256, steps=3000, shortcut_steps=1000,
              seconds=300, owens_steps=2000, supervised_steps=2000, validation=5000),
)


@dataclass
class SoundsAndImages:
    """Everything the experiment reads, as tensors on one device. Digits are labels: the simulator reads them once,
    to make the videos (``soundtrack``), and the probes read them at the end, to judge the features; the
    self-supervised training reads only the videos."""

    images: torch.Tensor  # N x 1 x 28 x 28 MNIST training images: the frames of the training videos
    image_digits: torch.Tensor
    test_images: torch.Tensor  # the gallery of retrieval and the images of the test pairs
    test_image_digits: torch.Tensor
    sounds: torch.Tensor  # M x 1 x 32 x 32 log-mel spectrograms, each recording centred in its window
    sounds_start: torch.Tensor  # the same recordings padded at the start instead: the shortcut lab's artefact
    sound_digits: torch.Tensor
    test_sounds: torch.Tensor
    test_sounds_start: torch.Tensor
    test_sound_digits: torch.Tensor
    spoken: SpokenDigits  # the training recordings themselves (waveforms, speakers), for players and pictures
    test_spoken: SpokenDigits
    split: str
    soundtrack: torch.Tensor  # N: the recording heard in training video i (a recording of image i's digit)
    test_soundtrack: torch.Tensor  # the same for the test videos (test images, held-out recordings)


def split_fsdd(spoken: SpokenDigits, split: str) -> tuple[SpokenDigits, SpokenDigits]:
    """(train, test) recordings: ``take`` = the official split (takes 0-4 of every speaker are the test set),
    ``speaker`` = one whole speaker held out."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return audio.by_take(spoken) if split == "take" else audio.by_speaker(spoken)


def load(sizes: Sizes, split: str = "take", device: torch.device | str = "cpu", seed: int = 0) -> SoundsAndImages:
    """MNIST (``sizes.images`` training images, ``sizes.gallery`` test images) and all FSDD recordings, split by
    ``split``; spectrograms standardised with the training recordings' statistics (``audio.spectrograms``); and the
    videos, drawn once for ``seed``: every image with one recording of its digit, training with training, test with
    test."""
    train_spoken, test_spoken = split_fsdd(load_fsdd("all"), split)
    specs = {}
    for align, suffix in (("centre", ""), ("start", "_start")):
        specs[f"sounds{suffix}"], specs[f"test_sounds{suffix}"] = audio.spectrograms(train_spoken, test_spoken, align)
    specs = {name: x.to(device) for name, x in specs.items()}
    mnist = data.load_mnist(train=True, n=sizes.images)
    mnist_test = data.load_mnist(train=False, n=sizes.gallery)
    videos = {"soundtrack": av.simulate_videos(mnist.y, train_spoken.digit, seed + VIDEO_SEED),
              "test_soundtrack": av.simulate_videos(mnist_test.y, test_spoken.digit, seed + VIDEO_SEED + 1)}
    return SoundsAndImages(mnist.x.to(device), mnist.y.to(device), mnist_test.x.to(device), mnist_test.y.to(device),
                           sound_digits=train_spoken.digit.to(device), test_sound_digits=test_spoken.digit.to(device),
                           spoken=train_spoken, test_spoken=test_spoken, split=split, **specs, **videos)


def towers(sizes: Sizes, seed: int, device: torch.device | str = "cpu") -> tuple[nets.Backbone, nets.Backbone]:
    """(image tower, audio tower) at their initial weights: the same ``seed`` gives the same weights, so the
    random-init baseline is exactly where every trained model started."""
    return (nets.random_backbone(1, sizes.tower_width, seed, device),
            nets.random_backbone(1, sizes.tower_width, seed + AUDIO_SEED, device))


# --- the pretext tasks ---------------------------------------------------------------------------------------------

def train_owens(d: SoundsAndImages, sizes: Sizes, seed: int = 0, progress: bool = True, k: int = OWENS_K):
    """Classes from sound: k-means (``k`` clusters) on the training recordings' statistics, then the image tower
    learns to predict the cluster of its own video's soundtrack.
    Returns (classifier, history, cluster id per recording)."""
    clusters, _ = av.sound_clusters(av.sound_statistics(d.sounds.cpu()), k, seed)
    image_tower, _ = towers(sizes, seed, d.images.device)
    with config.isolated_rng(seed):  # the classifier's initial weights: the same for the same seed
        model = nets.Classifier(image_tower, k).to(d.images.device)
    stream = av.image_cluster_batches(d.images, d.soundtrack, clusters, sizes.pairs_per_step, seed)
    history = train.fit(model, stream, av.cluster_loss, steps=sizes.owens_steps, max_seconds=sizes.seconds,
                        desc="classes from sound", progress=progress)
    return model, history, clusters


def make_model(fusion: str, sizes: Sizes, seed: int, device: torch.device | str = "cpu"):
    """A correspondence network with fresh towers and fusion head (initial weights from ``seed``)."""
    fusions = {FUSIONS[0]: av.ConcatFusion, FUSIONS[1]: av.AVENet}
    if fusion not in fusions:
        raise ValueError(f"unknown fusion {fusion!r}; choose from {FUSIONS}")
    image_tower, audio_tower = towers(sizes, seed, device)
    with config.isolated_rng(seed):
        return fusions[fusion](image_tower, audio_tower).to(device)


def pair_stream(d: SoundsAndImages, batch_size: int, seed: int, shortcut: bool = False, test: bool = False):
    """AVC batches of the training (or test) videos: a video's own frame and soundtrack, or its frame with another
    video's soundtrack. ``shortcut``: positives' recordings padded at the start, negatives' centred -- positives and
    negatives *not* sampled the same way. The digits are not passed: the stream cannot read them."""
    images, soundtrack = (d.test_images, d.test_soundtrack) if test else (d.images, d.soundtrack)
    centred, start = (d.test_sounds, d.test_sounds_start) if test else (d.sounds, d.sounds_start)
    positives, negatives = (start, centred) if shortcut else (centred, centred)
    return av.correspondence_batches(images, soundtrack, positives, batch_size, negative_audio=negatives, seed=seed)


def train_avc(fusion: str, d: SoundsAndImages, sizes: Sizes, seed: int = 0, shortcut: bool = False,
              progress: bool = True):
    """Train one correspondence network from the towers' initial weights; returns (model, history)."""
    model = make_model(fusion, sizes, seed, d.images.device)
    steps = sizes.shortcut_steps if shortcut else sizes.steps
    history = train.fit(model, pair_stream(d, sizes.pairs_per_step, seed, shortcut), av.correspondence_loss,
                        steps=steps, max_seconds=sizes.seconds, progress=progress,
                        desc=f"AVC, {fusion}" + (", shortcut" if shortcut else ""))
    return model, history


@torch.no_grad()
def avc_accuracy(model, d: SoundsAndImages, seed: int = 0, shortcut: bool = False, n: int = TEST_PAIRS) -> float:
    """AVC accuracy (%) on ``n`` test pairs (test videos: MNIST test images, held-out recordings), sampled the fair
    way or, with ``shortcut``, the way the shortcut run was trained (positives start-aligned). A negative says the
    frame's digit about one time in ten, and nothing can tell those apart: about 95 % is the ceiling."""
    images, specs, y = next(pair_stream(d, n, seed + 10_000, shortcut, test=True))
    model.eval()
    logits = torch.cat([model(images[i:i + 500], specs[i:i + 500]) for i in range(0, n, 500)])
    return 100.0 * ((logits > 0).float() == y).float().mean().item()


# --- the reference that is told the digits -------------------------------------------------------------------------

class SupervisedPair(nn.Module):
    """The supervised reference as a two-tower model: each tower a digit classifier trained on digit labels. Its
    "embeddings" are the class probabilities, and two of them go together as much as they name the same digit
    (the product of the probabilities): a retrieval that is told what the digits are."""

    def __init__(self, image_classifier: nets.Classifier, audio_classifier: nets.Classifier):
        super().__init__()
        self.image_classifier, self.audio_classifier = image_classifier, audio_classifier
        self.image_tower, self.audio_tower = image_classifier.backbone, audio_classifier.backbone

    def embed_image(self, images: torch.Tensor) -> torch.Tensor:
        return self.image_classifier(images).softmax(1)

    def embed_audio(self, specs: torch.Tensor) -> torch.Tensor:
        return self.audio_classifier(specs).softmax(1)

    def fuse(self, v: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return (v * a).sum(1)


def train_supervised(d: SoundsAndImages, sizes: Sizes, seed: int = 0, progress: bool = True):
    """The supervised reference: the image tower trained to classify the digit of every training image outside the
    validation split, the audio tower the digit of every training recording outside the validation voice (the data
    the probes are trained on, with every label). Same initial weights as every other model.
    Returns (SupervisedPair, {"supervised image tower": history, "supervised audio tower": history})."""
    (images, image_digits), _, _ = image_probe_sets(d, sizes, seed)
    (sounds, sound_digits), _, _ = audio_probe_sets(d)
    image_tower, audio_tower = towers(sizes, seed, d.images.device)
    with config.isolated_rng(seed):
        classifiers = {"image": nets.Classifier(image_tower, 10).to(d.images.device),
                       "audio": nets.Classifier(audio_tower, 10).to(d.images.device)}
    histories = {f"supervised {name} tower": train.train_classifier(
        classifiers[name], x, y, steps=sizes.supervised_steps, batch_size=sizes.pairs_per_step, seed=seed,
        max_seconds=sizes.seconds, progress=progress, desc=f"supervised {name} tower")
        for name, (x, y) in {"image": (images, image_digits), "audio": (sounds, sound_digits)}.items()}
    return SupervisedPair(classifiers["image"], classifiers["audio"]).eval(), histories


# --- evaluation ----------------------------------------------------------------------------------------------------

def image_probe_sets(d: SoundsAndImages, sizes: Sizes, seed: int = 0):
    """((training pool x, y), (validation x, y), (test x, y)) of the image probe: ``sizes.validation`` training
    images held out to choose the layer on, the rest the pool the labelled draws come from, the MNIST test images."""
    pool, validation = evaluate.split_validation(d.images, d.image_digits, sizes.validation, seed)
    return pool, validation, (d.test_images, d.test_image_digits)


def audio_probe_sets(d: SoundsAndImages):
    """((training x, y), (validation x, y), (test x, y)) of the audio probe: the training recordings of every voice
    but ``VALIDATION_SPEAKER``, that voice's recordings (the layer is chosen on a voice the probe has not heard, as
    the test voice is unheard), the held-out recordings."""
    held = torch.tensor([s == VALIDATION_SPEAKER for s in d.spoken.speaker], device=d.sounds.device)
    digits = d.sound_digits
    return ((d.sounds[~held], digits[~held]), (d.sounds[held], digits[held]), (d.test_sounds, d.test_sound_digits))


def _probe_towers(backbones: dict, sets, per_class: int | None, draws: int, seed: int) -> pd.DataFrame:
    """``evaluate.probe_table`` of the towers that are there (a ``None`` tower has no row)."""
    present = {name: tower for name, tower in backbones.items() if tower is not None}
    return evaluate.probe_table(present, *sets, per_class=per_class, draws=draws, seed=seed)


def image_probes(image_towers: dict[str, nets.Backbone | None], d: SoundsAndImages, sizes: Sizes,
                 seed: int = 0) -> pd.DataFrame:
    """Linear-probe accuracy (%) of digit labels at every stage of each frozen image tower (rows), with
    ``LABELS_PER_CLASS`` labelled images per digit, mean over ``sizes.label_draws`` labelled draws; each row's layer
    chosen on the validation images (``evaluate.layer_table``'s columns)."""
    return _probe_towers(image_towers, image_probe_sets(d, sizes, seed), LABELS_PER_CLASS, sizes.label_draws, seed)


def audio_probes(audio_towers: dict[str, nets.Backbone | None], d: SoundsAndImages, sizes: Sizes,
                 seed: int = 0) -> pd.DataFrame:
    """Linear-probe accuracy (%) of digit labels at every stage of each frozen audio tower, as ``image_probes``:
    ``LABELS_PER_CLASS`` labelled recordings per digit from the training voices but the validation voice, mean over
    ``sizes.label_draws`` draws, the layer chosen on the validation voice, tested on the held-out voice."""
    return _probe_towers(audio_towers, audio_probe_sets(d), LABELS_PER_CLASS, sizes.label_draws, seed)


def probe_summary(image: pd.DataFrame, sound: pd.DataFrame) -> pd.DataFrame:
    """Both probes at each row's chosen layer, as "mean ± std (layer)" text: one line per model."""
    def cell(table, row):
        if row not in table.index:
            return "-"
        return f"{evaluate.best_of(table, row).text()} ({table.loc[row, evaluate.BEST_LAYER]})"

    rows = list(dict.fromkeys([*image.index, *sound.index]))
    return pd.DataFrame({f"image probe, {10 * LABELS_PER_CLASS} labels": [cell(image, r) for r in rows],
                         f"audio probe, {10 * LABELS_PER_CLASS} labels": [cell(sound, r) for r in rows]}, index=rows)


def compare_rows(image: pd.DataFrame, sound: pd.DataFrame, a: str, b: str, names: tuple[str, str]) -> list[str]:
    """Two rows of both probe tables compared at their chosen layers (``evaluate.compare_text``): which is higher,
    or "no difference at this scale" when the gap is inside the spread of the labelled draws."""
    return [f"{tower} probe: " + evaluate.compare_text(evaluate.best_of(table, a), evaluate.best_of(table, b), names)
            for tower, table in (("image", image), ("audio", sound))]


def retrieval_table(models: dict, d: SoundsAndImages) -> pd.DataFrame:
    """Recall@1 audio -> image (each held-out recording queries the MNIST test images; a hit is an image of the
    spoken digit), ranked by the model's own correspondence score of every pair, and by the cosine of the two
    embeddings the model fuses (for AVE-Net the same ranking as its score; for concatenation, the pooled towers)."""
    chance = av.chance_recall(d.test_sound_digits.cpu(), d.test_image_digits.cpu())
    rows = {}
    for name, model in models.items():
        a, v = evaluate.embed(model.embed_audio, d.test_sounds), evaluate.embed(model.embed_image, d.test_images)
        rows[name] = {
            "recall@1, the model's score": evaluate.recall_at_k(
                av.pair_scores(model.cpu(), a, v), d.test_sound_digits, d.test_image_digits),
            "recall@1, cosine of the embeddings": evaluate.recall_at_k(
                av.cosine_scores(a, v), d.test_sound_digits, d.test_image_digits),
            "chance": chance}
        model.to(d.images.device)
    return pd.DataFrame(rows).T


SHORTCUT_ROWS = ("positives padded at the start (shortcut)", "both sampled the same way (fixed)")


def shortcut_table(fair_model, shortcut_model, d: SoundsAndImages, sizes: Sizes, seed: int = 0) -> pd.DataFrame:
    """The shortcut lab in numbers: each model's AVC accuracy on test pairs made the way it was trained and made
    the fair way, and the probes of its towers at their chosen layers (as ``image_probes`` / ``audio_probes``), each
    with the std over the labelled draws in the column after it."""
    runs = dict(zip(SHORTCUT_ROWS, ((shortcut_model, True), (fair_model, False)), strict=True))
    columns = {
        "AVC accuracy, test pairs made as in training": [avc_accuracy(m, d, seed, s) for m, s in runs.values()],
        "AVC accuracy, fair test pairs": [avc_accuracy(m, d, seed) for m, _ in runs.values()],
    }
    probes = {"image": image_probes({name: m.image_tower for name, (m, _) in runs.items()}, d, sizes, seed),
              "audio": audio_probes({name: m.audio_tower for name, (m, _) in runs.items()}, d, sizes, seed)}
    for tower, table in probes.items():
        best = [evaluate.best_of(table, name) for name in runs]
        columns[f"{tower} probe, {10 * LABELS_PER_CLASS} labels"] = [float(b) for b in best]
        columns[f"{tower} probe ±"] = [b.std for b in best]
    return pd.DataFrame(columns, index=list(runs))


def shortcut_probes(shortcut: pd.DataFrame, tower: str) -> tuple[evaluate.Spread, evaluate.Spread]:
    """(shortcut run, fixed run) probe of one ``tower`` ("image" or "audio") from ``shortcut_table``, as Spreads."""
    mean, std = shortcut[f"{tower} probe, {10 * LABELS_PER_CLASS} labels"], shortcut[f"{tower} probe ±"]
    return tuple(evaluate.Spread(float(mean[row]), float(std[row]), 2) for row in SHORTCUT_ROWS)


def cluster_table(clusters: torch.Tensor, d: SoundsAndImages, seed: int = 0) -> pd.DataFrame:
    """How much of *what* is said and of *who* says it the sound clusters capture: purity (1 = every cluster holds
    one digit, or one voice), beside the purity of as many random clusters of the same recordings."""
    speakers = sorted(set(d.spoken.speaker))
    truths = {"digit (what is said)": d.sound_digits.cpu(),
              "speaker (who says it)": torch.tensor([speakers.index(s) for s in d.spoken.speaker])}
    shuffled = clusters[torch.randperm(len(clusters), generator=torch.Generator().manual_seed(seed))]
    columns = {"purity of the sound clusters": clusters, "purity of random clusters": shuffled}
    return pd.DataFrame({column: {k: evaluate.cluster_purity(c, t) for k, t in truths.items()}
                         for column, c in columns.items()})


# --- pictures ------------------------------------------------------------------------------------------------------

def _image_and_spectrogram(ax_image, ax_sound, image, spec, title):
    ax_image.imshow(image.cpu().squeeze(0), cmap="gray")
    ax_image.set_title(title, fontsize=8)
    ax_sound.imshow(spec.cpu().squeeze(0), origin="lower", aspect="auto", cmap="magma")
    for ax in (ax_image, ax_sound):
        ax.set(xticks=[], yticks=[])


def show_pairs(d: SoundsAndImages, n: int = 8, seed: int = 0, shortcut: bool = False):
    """What the AVC network is asked: a frame (top) and a spectrogram (below); from the same video (y = 1) or the
    soundtrack of another video (y = 0)? Another video may say the same digit."""
    images, specs, y = next(pair_stream(d, n, seed, shortcut))
    fig, axes = plt.subplots(2, n, figsize=(1.3 * n, 2.8))
    for i in range(n):
        _image_and_spectrogram(axes[0, i], axes[1, i], images[i], specs[i], "same video" if y[i] else "another")
    axes[1, 0].set_ylabel("sound", fontsize=8)
    return show.finish(fig)


def show_retrieval(model, d: SoundsAndImages, n_queries: int = 6, top: int = 6, seed: int = 0):
    """For a few held-out recordings (their spectrogram on the left), the ``top`` MNIST test images the model
    ranks first (a green title: the spoken digit; red: another)."""
    pick = torch.randperm(len(d.test_sounds), generator=torch.Generator().manual_seed(seed))[:n_queries]
    a = evaluate.embed(model.embed_audio, d.test_sounds[pick.to(d.test_sounds.device)])
    v = evaluate.embed(model.embed_image, d.test_images)
    best = av.pair_scores(model.cpu(), a, v).topk(top, dim=1).indices
    model.to(d.images.device)
    fig, axes = plt.subplots(n_queries, top + 1, figsize=(1.1 * (top + 1), 1.1 * n_queries))
    for r, q in enumerate(pick.tolist()):
        spoken = int(d.test_sound_digits[q])
        axes[r, 0].imshow(d.test_sounds[q].cpu().squeeze(0), origin="lower", aspect="auto", cmap="magma")
        axes[r, 0].set_title(f"says {spoken}", fontsize=8)
        for c, i in enumerate(best[r].tolist()):
            axes[r, c + 1].imshow(d.test_images[i].cpu().squeeze(0), cmap="gray")
            shown = int(d.test_image_digits[i])
            axes[r, c + 1].set_title(str(shown), fontsize=8, color="green" if shown == spoken else "red")
        for ax in axes[r]:
            ax.set(xticks=[], yticks=[])
    return show.finish(fig)


# --- metrics ------------------------------------------------------------------------------------------------------

def capped_runs(histories: dict[str, train.History]) -> list[str]:
    """The names of the runs that stopped at their time cap (for ``session.record(capped=...)`` and the claims)."""
    return [name for name, history in histories.items() if history.capped]


def metrics(avc: dict[str, float], image: pd.DataFrame, sound: pd.DataFrame, retrieval: pd.DataFrame,
            shortcut: pd.DataFrame) -> dict[str, float]:
    """The numbers to record (the concatenation model is *the* AVC model, as in L3-Net's paper): probes at each
    row's chosen layer (mean, and the std over labelled draws for the image probe), recall@1, AVC accuracy, the
    AVE-Net's, Owens', the supervised reference's and the shortcut run's."""
    score, cosine = "recall@1, the model's score", "recall@1, cosine of the embeddings"
    short = SHORTCUT_ROWS[0]
    out = {
        "avc_accuracy": avc[FUSIONS[0]],
        "avc_accuracy_ave": avc[FUSIONS[1]],
        "recall1_audio_to_image_concat": retrieval.loc[FUSIONS[0], score],
        "recall1_audio_to_image_ave": retrieval.loc[FUSIONS[1], score],
        "recall1_cosine_concat": retrieval.loc[FUSIONS[0], cosine],
        "recall1_cosine_ave": retrieval.loc[FUSIONS[1], cosine],
        "avc_accuracy_shortcut_own_pairs": shortcut.loc[short, "AVC accuracy, test pairs made as in training"],
        "avc_accuracy_shortcut_fair_pairs": shortcut.loc[short, "AVC accuracy, fair test pairs"],
        "probe_image_100_shortcut": shortcut.loc[short, f"image probe, {10 * LABELS_PER_CLASS} labels"],
        "probe_image_100_shortcut_std": shortcut.loc[short, "image probe ±"],
        "probe_audio_shortcut": shortcut.loc[short, f"audio probe, {10 * LABELS_PER_CLASS} labels"],
        "probe_audio_shortcut_std": shortcut.loc[short, "audio probe ±"],
    }
    if SUPERVISED in retrieval.index:
        out["recall1_audio_to_image_supervised"] = retrieval.loc[SUPERVISED, score]
    names = {FUSIONS[0]: "trained", FUSIONS[1]: "ave", RANDOM: "random", OWENS: "owens", SUPERVISED: "supervised"}
    for row, short_name in names.items():
        if row in image.index:
            best = evaluate.best_of(image, row)
            out[f"probe_image_100_{short_name}"], out[f"probe_image_100_{short_name}_std"] = best, best.std
        if row in sound.index:
            best = evaluate.best_of(sound, row)
            out[f"probe_audio_{short_name}"], out[f"probe_audio_{short_name}_std"] = best, best.std
    return {k: float(v) for k, v in out.items()}


# --- exercise checkers ---------------------------------------------------------------------------------------------

def check_distance_logit(fn) -> None:
    """Exercise: ``fn(a, v, b, s)`` = the AVE-Net logit b - s ||a - v||^2 for each row of a and v."""
    with config.isolated_rng(0):  # the same test vectors every time, and the notebook's random stream is left alone
        a, v = F.normalize(torch.randn(5, 8), dim=1), F.normalize(torch.randn(5, 8), dim=1)
    want = 3.0 - 2.0 * (a - v).pow(2).sum(1)
    got = torch.as_tensor(fn(a, v, 3.0, 2.0)).float()
    hint = ("the squared Euclidean distance per row is (a - v).pow(2).sum(1); a pair at distance 0 must get the "
            "largest logit, b")
    checks.verdict("AVE-Net logit", [
        (lambda: got.shape == want.shape,
         f"return one logit per pair, shape {tuple(want.shape)}; got {tuple(got.shape)}"),
        (lambda: torch.allclose(got, want, atol=1e-5), hint),
        (lambda: bool((torch.as_tensor(fn(a, a, 3.0, 2.0)).float() >= got).all()), hint),
    ])


def check_recall_at_1(fn) -> None:
    """Exercise: ``fn(scores, query_labels, gallery_labels)`` = recall@1, as ``evaluate.recall_at_k`` computes it."""
    with config.isolated_rng(0):
        scores, queries, gallery = torch.randn(50, 40), torch.randint(4, (50,)), torch.randint(4, (40,))
    want = evaluate.recall_at_k(scores, queries, gallery, k=1)
    got = float(fn(scores, queries, gallery))
    checks.exercise("recall@1", abs(got - want) < 1e-6,
                    f"expected {want:.3f}, got {got:.3f}: for each query (row) take the gallery item with the highest "
                    "score (argmax over dim 1); a hit is when its label equals the query's; average the hits")
