"""Sound as supervision (notebook 08): MNIST images paired with real spoken digits, an AV-MNIST-style pairing.

The methods are ``course_lib.pretext.audio_visual``; this module runs the notebook's experiment:

* ``load``          MNIST images and FSDD recordings (split by take or by speaker), spectrograms computed once
                    as tensors (centred in the window, and start-aligned for the shortcut lab);
* ``train_owens``   classes from sound: k-means on sound statistics, the cluster ids supervise the image tower;
* ``train_avc``     audio-visual correspondence with either fusion (concatenation = L3-Net, distance = AVE-Net),
                    and the shortcut run (positives' recordings padded differently from the negatives');
* ``probe_table``   linear probes of digit labels on every frozen tower, against the same towers at random init;
* ``retrieval_table``  cross-modal recall@1 audio -> image, by each model's own score and by the cosine of the
                    embeddings each model fuses;
* pictures, the table beside the papers, the metrics and the exercise checkers.

``SIZES`` holds the notebook's sizes for ``ci``, ``lab`` and ``full``.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd
import torch
import torch.nn.functional as F

from course_lib import audio, checks, config, data, evaluate, nets, papers, show, train
from course_lib.data.fsdd import SpokenDigits, load_fsdd
from course_lib.pretext import audio_visual as av

FUSIONS = ("concatenation (L3-Net)", "distance (AVE-Net)")
SPLITS = ("take", "speaker")
TEST_PAIRS = 2000  # test pairs the AVC accuracy is measured on (half positives)
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
    seconds: float  # time cap of each training (AVC models, shortcut run, classes from sound)
    owens_steps: int  # optimiser steps of the image tower predicting the sound's cluster


SIZES = config.lesson_sizes(
    Sizes,
    ci=dict(images=10_000, gallery=1000, tower_width=8, pairs_per_step=128, steps=200, shortcut_steps=100,
            seconds=60, owens_steps=100),
    lab=dict(images=20_000, gallery=2000, tower_width=8, pairs_per_step=128, steps=1200, shortcut_steps=200,
             seconds=180, owens_steps=300),
    full=dict(images=60_000, gallery=10_000, tower_width=32, pairs_per_step=256, steps=3000, shortcut_steps=1000,
              seconds=300, owens_steps=2000),
)


@dataclass
class SoundsAndImages:
    """Everything the experiment reads, as tensors on one device. Digits are labels, used only to *pair* an image
    with a recording (as a video pairs a frame with its soundtrack) and to judge the features at the end."""

    images: torch.Tensor  # N x 1 x 28 x 28 MNIST training images
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


def split_fsdd(spoken: SpokenDigits, split: str) -> tuple[SpokenDigits, SpokenDigits]:
    """(train, test) recordings: ``take`` = the official split (takes 0-4 of every speaker are the test set),
    ``speaker`` = one whole speaker held out."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return audio.by_take(spoken) if split == "take" else audio.by_speaker(spoken)


def load(sizes: Sizes, split: str = "take", device: torch.device | str = "cpu") -> SoundsAndImages:
    """MNIST (``sizes.images`` training images, ``sizes.gallery`` test images) and all FSDD recordings, split by
    ``split``; spectrograms standardised with the training recordings' statistics (``audio.spectrograms``)."""
    train_spoken, test_spoken = split_fsdd(load_fsdd("all"), split)
    specs = {}
    for align, suffix in (("centre", ""), ("start", "_start")):
        specs[f"sounds{suffix}"], specs[f"test_sounds{suffix}"] = audio.spectrograms(train_spoken, test_spoken, align)
    specs = {name: x.to(device) for name, x in specs.items()}
    mnist = data.load_mnist(train=True, n=sizes.images)
    mnist_test = data.load_mnist(train=False, n=sizes.gallery)
    return SoundsAndImages(mnist.x.to(device), mnist.y.to(device), mnist_test.x.to(device), mnist_test.y.to(device),
                           sound_digits=train_spoken.digit.to(device), test_sound_digits=test_spoken.digit.to(device),
                           spoken=train_spoken, test_spoken=test_spoken, split=split, **specs)


def towers(sizes: Sizes, seed: int, device: torch.device | str = "cpu") -> tuple[nets.Backbone, nets.Backbone]:
    """(image tower, audio tower) at their initial weights: the same ``seed`` gives the same weights, so the
    random-init baseline is exactly where every trained model started."""
    return (nets.random_backbone(1, sizes.tower_width, seed, device),
            nets.random_backbone(1, sizes.tower_width, seed + AUDIO_SEED, device))


# --- the pretext tasks ---------------------------------------------------------------------------------------------

def train_owens(d: SoundsAndImages, sizes: Sizes, seed: int = 0, progress: bool = True, k: int = OWENS_K):
    """Classes from sound: k-means (``k`` clusters) on the training recordings' statistics, then the image tower
    learns to predict the cluster of the recording paired with each image.
    Returns (classifier, history, cluster id per recording)."""
    clusters, _ = av.sound_clusters(av.sound_statistics(d.sounds.cpu()), k, seed)
    image_tower, _ = towers(sizes, seed, d.images.device)
    with config.isolated_rng(seed):  # the classifier's initial weights: the same for the same seed
        model = nets.Classifier(image_tower, k).to(d.images.device)
    stream = av.image_cluster_batches(d.images, d.image_digits, d.sound_digits.cpu(), clusters,
                                      sizes.pairs_per_step, seed)
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
    """AVC batches from the training (or test) data. ``shortcut``: positives' recordings padded at the start,
    negatives' centred -- positives and negatives *not* sampled the same way."""
    images, digits = (d.test_images, d.test_image_digits) if test else (d.images, d.image_digits)
    centred, start = (d.test_sounds, d.test_sounds_start) if test else (d.sounds, d.sounds_start)
    sound_digits = (d.test_sound_digits if test else d.sound_digits).cpu()
    positives, negatives = (start, centred) if shortcut else (centred, centred)
    return av.correspondence_batches(images, digits, positives, sound_digits, batch_size, negative_audio=negatives,
                                     seed=seed)


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
    """AVC accuracy (%) on ``n`` test pairs (MNIST test images, held-out recordings), sampled the fair way or,
    with ``shortcut``, the way the shortcut run was trained (positives start-aligned)."""
    images, specs, y = next(pair_stream(d, n, seed + 10_000, shortcut, test=True))
    model.eval()
    logits = torch.cat([model(images[i:i + 500], specs[i:i + 500]) for i in range(0, n, 500)])
    return 100.0 * ((logits > 0).float() == y).float().mean().item()


# --- evaluation ----------------------------------------------------------------------------------------------------

def probe_table(tower_pairs: dict[str, tuple[nets.Backbone | None, nets.Backbone | None]], d: SoundsAndImages,
                seed: int = 0, labels_per_class: int = 10) -> pd.DataFrame:
    """Linear-probe accuracy (%) of digit labels on frozen, pooled conv5 features of each model's towers.

    Image tower: ``labels_per_class`` labelled MNIST training images per digit (100 in all), the MNIST test images.
    Audio tower: every training recording's label, the held-out recordings. ``None`` leaves a cell empty."""
    idx = evaluate.few_labels(d.image_digits, labels_per_class, seed).to(d.images.device)
    rows = {}
    for name, (image_tower, audio_tower) in tower_pairs.items():
        row = {}
        if image_tower is not None:
            row[f"image, {10 * labels_per_class} labels"] = evaluate.linear_probe(
                evaluate.embed(image_tower.embed, d.images[idx]), d.image_digits[idx].cpu(),
                evaluate.embed(image_tower.embed, d.test_images), d.test_image_digits.cpu())
        if audio_tower is not None:
            row[f"audio, {len(d.sounds)} labels"] = evaluate.linear_probe(
                evaluate.embed(audio_tower.embed, d.sounds), d.sound_digits.cpu(),
                evaluate.embed(audio_tower.embed, d.test_sounds), d.test_sound_digits.cpu())
        rows[name] = row
    return pd.DataFrame(rows).T


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


def shortcut_table(fair_model, shortcut_model, d: SoundsAndImages, seed: int = 0) -> pd.DataFrame:
    """The shortcut lab in numbers: each model's AVC accuracy on test pairs made the way it was trained and made
    the fair way, and the linear probes of its towers (digit labels, as in ``probe_table``)."""
    runs = {"positives padded at the start (shortcut)": (shortcut_model, True),
            "both sampled the same way (fixed)": (fair_model, False)}
    table = probe_table({name: (m.image_tower, m.audio_tower) for name, (m, _) in runs.items()}, d, seed)
    table.insert(0, "AVC accuracy, test pairs made as in training", [avc_accuracy(m, d, seed, shortcut)
                                                                    for m, shortcut in runs.values()])
    table.insert(1, "AVC accuracy, fair test pairs", [avc_accuracy(m, d, seed) for m, _ in runs.values()])
    return table


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
    """What the AVC network is asked: an image (top) and a spectrogram (below); together (y = 1) or not (y = 0)?"""
    images, specs, y = next(pair_stream(d, n, seed, shortcut))
    fig, axes = plt.subplots(2, n, figsize=(1.3 * n, 2.8))
    for i in range(n):
        _image_and_spectrogram(axes[0, i], axes[1, i], images[i], specs[i], "together" if y[i] else "not")
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


# --- beside the papers, metrics ------------------------------------------------------------------------------------

def paper_table(avc: dict[str, float], probes: pd.DataFrame) -> pd.DataFrame:
    """L3-Net's AVC accuracy and audio transfer beside ours (different data: compare the pattern, not the values)."""
    audio_column = [c for c in probes.columns if c.startswith("audio")][0]
    return papers.side_by_side("arandjelovic2017", {
        "AVC accuracy, Kinetics-Sounds": ("AVC accuracy, Kinetics-Sounds", None),
        "AVC accuracy, Flickr-SoundNet": ("AVC accuracy, Flickr-SoundNet", None),
        "ours: AVC accuracy, MNIST + FSDD (concatenation)": (None, round(avc[FUSIONS[0]], 1)),
        "ours: AVC accuracy, MNIST + FSDD (AVE-Net)": (None, round(avc[FUSIONS[1]], 1)),
        "ESC-50 sound classification, audio features": ("ESC-50 accuracy, L3-Net audio features", None),
        "ours: FSDD digits, linear probe of the audio tower": (None, round(probes.loc[FUSIONS[0], audio_column], 1)),
    })


def metrics(avc: dict[str, float], probes: pd.DataFrame, retrieval: pd.DataFrame,
            shortcut: pd.DataFrame) -> dict[str, float]:
    """The issue's metrics (the concatenation model is *the* AVC model, as in L3-Net's paper) and a few more: the
    AVE-Net's and Owens' towers, and the shortcut run."""
    image = [c for c in probes.columns if c.startswith("image")][0]
    sound = [c for c in probes.columns if c.startswith("audio")][0]
    score = "recall@1, the model's score"
    short = shortcut.index[0]
    out = {
        "avc_accuracy": avc[FUSIONS[0]],
        "probe_image_100_trained": probes.loc[FUSIONS[0], image],
        "probe_image_100_random": probes.loc["random init", image],
        "probe_audio_trained": probes.loc[FUSIONS[0], sound],
        "probe_audio_random": probes.loc["random init", sound],
        "recall1_audio_to_image_concat": retrieval.loc[FUSIONS[0], score],
        "recall1_audio_to_image_ave": retrieval.loc[FUSIONS[1], score],
        "avc_accuracy_ave": avc[FUSIONS[1]],
        "probe_image_100_ave": probes.loc[FUSIONS[1], image],
        "probe_audio_ave": probes.loc[FUSIONS[1], sound],
        "probe_image_100_owens": probes.loc["classes from sound", image],
        "avc_accuracy_shortcut_own_pairs": shortcut.loc[short, "AVC accuracy, test pairs made as in training"],
        "avc_accuracy_shortcut_fair_pairs": shortcut.loc[short, "AVC accuracy, fair test pairs"],
        "probe_image_100_shortcut": shortcut.loc[short, image],
        "probe_audio_shortcut": shortcut.loc[short, sound],
    }
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
