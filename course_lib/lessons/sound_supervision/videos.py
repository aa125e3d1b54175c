"""Notebook 08's sizes and data: MNIST images and FSDD recordings (split by take or by speaker), spectrograms
computed once as tensors, the simulated videos (every image paired *once* with a recording of its digit), and the
towers' initial weights."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from course_lib import audio, config, data, nets
from course_lib.data.fsdd import SpokenDigits, load_fsdd
from course_lib.pretext import audio_visual as av

NOTEBOOK = "08_sound_supervision"  # its runs' shipped weights are named after it

FUSIONS = ("concatenation (L3-Net)", "distance (AVE-Net)")
RANDOM = "random init"
OWENS = "classes from sound"
SUPERVISED = "supervised reference (told the digits)"
SPLITS = ("take", "speaker")
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
    steps: int  # optimiser steps of each AVC model (concatenation, AVE-Net, and the shortcut run: equal budgets)
    seconds: float  # time cap of each training (AVC models, shortcut run, classes from sound, supervised)
    owens_steps: int  # optimiser steps of the image tower predicting the sound's cluster
    supervised_steps: int  # optimiser steps of each tower of the supervised reference (digit classifiers)
    validation: int  # training images held out to choose the image probe's layer on (the towers still see them)


SIZES = config.lesson_sizes(
    Sizes,
    ci=dict(images=10_000, gallery=1000, tower_width=8, pairs_per_step=128, steps=200,
            seconds=60, owens_steps=100, supervised_steps=100, validation=1000),
    lab=dict(images=20_000, gallery=2000, tower_width=8, pairs_per_step=128, steps=1200,
             seconds=180, owens_steps=300, supervised_steps=300, validation=2000),
    full=dict(images=60_000, gallery=10_000, tower_width=32, pairs_per_step=256, steps=3000,
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
    ``split``, made into videos (``videos_of``)."""
    mnist = data.load_mnist(train=True, n=sizes.images)
    mnist_test = data.load_mnist(train=False, n=sizes.gallery)
    return videos_of(mnist.x, mnist.y, mnist_test.x, mnist_test.y, split, device, seed)


def videos_of(images: torch.Tensor, digits: torch.Tensor, test_images: torch.Tensor, test_digits: torch.Tensor,
              split: str = "take", device: torch.device | str = "cpu", seed: int = 0) -> SoundsAndImages:
    """The videos of these digit images: FSDD's recordings split by ``split``, as spectrograms standardised with the
    training recordings' statistics (``audio.spectrograms``), and every image paired once with a recording of its
    digit (``soundtrack``), drawn for ``seed``, training with training, test with test. ``load`` makes 08's videos of
    MNIST with it, the scoreboard (12) the videos of its own digits."""
    train_spoken, test_spoken = split_fsdd(load_fsdd("all"), split)
    specs = {}
    for align, suffix in (("centre", ""), ("start", "_start")):
        specs[f"sounds{suffix}"], specs[f"test_sounds{suffix}"] = audio.spectrograms(train_spoken, test_spoken, align)
    specs = {name: x.to(device) for name, x in specs.items()}
    videos = {"soundtrack": soundtrack(digits, train_spoken, seed),
              "test_soundtrack": soundtrack(test_digits, test_spoken, seed, test=True)}
    return SoundsAndImages(images.to(device), digits.to(device), test_images.to(device), test_digits.to(device),
                           sound_digits=train_spoken.digit.to(device), test_sound_digits=test_spoken.digit.to(device),
                           spoken=train_spoken, test_spoken=test_spoken, split=split, **specs, **videos)


def soundtrack(image_digits: torch.Tensor, recordings: SpokenDigits, seed: int, test: bool = False) -> torch.Tensor:
    """The simulated videos of images of ``image_digits``: each image paired once with a recording of its digit
    (``av.simulate_videos``), the index of that recording in ``recordings``; drawn for ``seed`` by a draw of their own
    (the test videos by another), never a training stream's. ``load`` makes 08's videos with it, the scoreboard (12)
    the videos of its own digits."""
    return av.simulate_videos(image_digits, recordings.digit, seed + VIDEO_SEED + int(test))


def towers(sizes: Sizes, seed: int, device: torch.device | str = "cpu") -> tuple[nets.Backbone, nets.Backbone]:
    """(image tower, audio tower) at their initial weights: the same ``seed`` gives the same weights, so the
    random-init baseline is exactly where every trained model started."""
    return (nets.random_backbone(1, sizes.tower_width, seed, device),
            nets.random_backbone(1, sizes.tower_width, seed + AUDIO_SEED, device))
