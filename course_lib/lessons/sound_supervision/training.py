"""Notebook 08's pretext tasks: classes from sound (Owens et al. 2016) and audio-visual correspondence (Arandjelović &
Zisserman 2017) with either fusion, on the fixed videos; and the shortcut run."""

from __future__ import annotations

import functools

import torch

from course_lib import config, nets, pretrained, show, train
from course_lib.lessons.sound_supervision.videos import FUSIONS, NOTEBOOK, OWENS_K, Sizes, SoundsAndImages, towers
from course_lib.pretext import audio_visual as av

TEST_PAIRS = 2000  # test pairs the AVC accuracy is measured on (half positives)


def train_owens(d: SoundsAndImages, sizes: Sizes, seed: int = 0, progress: bool = True, k: int = OWENS_K):
    """Classes from sound on the notebook's videos (``train_classes_from_sound``).
    Returns (classifier, history, cluster id per recording)."""
    return train_classes_from_sound(d.images, d.soundtrack, d.sounds, sizes, seed, progress, k)


def train_classes_from_sound(images: torch.Tensor, videos: torch.Tensor, sounds: torch.Tensor, sizes: Sizes,
                             seed: int = 0, progress: bool = True, k: int = OWENS_K, notebook: str = NOTEBOOK,
                             desc: str | None = None):
    """Classes from sound: k-means (``k`` clusters) on the statistics of the recordings ``sounds`` (spectrograms),
    then the image tower learns to predict the cluster of its own video's soundtrack (``videos``: the recording of
    each image, ``soundtrack``). ``notebook`` and ``desc``: whose run it is and its name there (default: this
    notebook's); the scoreboard (12) trains it on its own digits at its own sizes.
    Returns (classifier, history, cluster id per recording)."""
    clusters, _ = av.sound_clusters(av.sound_statistics(sounds.cpu()), k, seed)
    image_tower, _ = towers(sizes, seed, images.device)
    with config.isolated_rng(seed):  # the classifier's initial weights: the same for the same seed
        model = nets.Classifier(image_tower, k).to(images.device)
    stream = av.image_cluster_batches(images, videos, clusters, sizes.pairs_per_step, seed)
    desc = desc or "classes from sound" + ("" if k == OWENS_K else f", k {k}")
    history = pretrained.load_or_train(
        model, f"{notebook}/{desc}",
        lambda: train.fit(model, stream, av.cluster_loss, steps=sizes.owens_steps, max_seconds=sizes.seconds,
                          desc=desc, progress=progress),
        sizes=sizes, seed=seed, loss=av.cluster_loss, k=k)
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
              progress: bool = True, notebook: str = NOTEBOOK, desc: str | None = None):
    """Train one correspondence network from the towers' initial weights; returns (model, history). ``notebook``:
    whose run it is (11 trains it at its own sizes); ``desc`` names the run where a notebook trains two of a kind."""
    model = make_model(fusion, sizes, seed, d.images.device)
    desc = desc or (f"AVC, {fusion}" + (", shortcut" if shortcut else ""))
    history = pretrained.load_or_train(
        model, f"{notebook}/{desc}",
        lambda: train.fit(model, pair_stream(d, sizes.pairs_per_step, seed, shortcut), av.correspondence_loss,
                          steps=sizes.steps, max_seconds=sizes.seconds, progress=progress, desc=desc),
        sizes=sizes, seed=seed, loss=av.correspondence_loss, shortcut=shortcut)
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


# Steps of the short AVC run a student's own correspondence loss trains (notebook 08, after its exercise): enough to
# leave the 50 % of chance behind on the test pairs, short enough to rerun after every edit.
YOUR_RUN_STEPS = {"ci": 100, "lab": 300, "full": 600}


def train_with_your_loss(avc, d: SoundsAndImages, sizes: Sizes, seed: int = 0, progress: bool = True):
    """A fresh AVE-Net (the towers' initial weights of ``seed``) trained for ``YOUR_RUN_STEPS`` steps on batches of
    different videos, ``avc(fuse, v, a)`` building each batch's negatives and its loss (a student's ``avc_loss``, or
    the course's ``av.avc_loss``); ``sizes.pairs_per_step`` pairs per step, as the notebook's own runs. Never saved: it
    shows a loss at work, it is not one of the notebook's rows. Returns (model, history)."""
    model = make_model(FUSIONS[1], sizes, seed, d.images.device)
    stream = av.video_batches(d.images, d.soundtrack, d.sounds, sizes.pairs_per_step // 2, seed)
    with config.isolated_rng(seed):  # the negatives a loss draws: the same for the same seed
        history = train.fit(model, stream, functools.partial(av.video_correspondence_loss, avc=avc),
                            steps=YOUR_RUN_STEPS[sizes.name], max_seconds=sizes.seconds, progress=progress,
                            desc="your AVC loss")
    return model, history


def show_your_run(model, history: train.History, d: SoundsAndImages, seed: int = 0):
    """The short run's AVC accuracy on the test pairs (the unheard voice, half positives: chance 50 %), in one line,
    and its training batches' accuracy against chance."""
    print(f"after {history.step[-1]} steps: AVC accuracy {avc_accuracy(model, d, seed):.1f} % on test pairs of the "
          f"unheard voice (chance 50 %)")
    return show.against_chance(history, "acc", 0.5, ylabel="AVC accuracy (training batches)",
                               title="AVE-Net trained by the correspondence loss above")
