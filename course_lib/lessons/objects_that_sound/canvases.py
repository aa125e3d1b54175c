"""Notebook 09's sizes and data (MNIST digits, FSDD recordings, simulated videos) and its scenes."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from course_lib import audio, config
from course_lib.data import ImageData, SpokenDigits, load_fsdd, load_mnist
from course_lib.pretext import audio_visual as av
from course_lib.pretext import objects_that_sound as ots

NOTEBOOK = "09_objects_that_sound"  # its runs' shipped weights are named after it

DIGITS = 2  # different digits on each 64 x 64 canvas (the recording names one of them); the same in every profile
SINGLE = "AVOL-Net, label-free: single-digit videos only"
LABEL_FREE = "AVOL-Net, label-free: then two-digit canvases (the paper's setting)"
WEAK = "AVOL-Net, told the digits on each canvas (weak labels)"
LOSSES = {"every pair in the batch": ots.all_pairs_loss, "one negative per canvas": ots.one_negative_loss}
TEST_SPEAKERS = ("theo",)  # the held-out voice: FSDD split by speaker, not by take
VIDEO_SEED = 2000  # the simulated videos are the run's seed + this: their own draw
BASELINES = {"centre of the canvas": "pointing_centre_prior", "a random point": "pointing_random",
             "one of the digits at random": "pointing_pick_a_digit"}
METRICS = {SINGLE: "pointing_label_free_single_digits", LABEL_FREE: "pointing_label_free",
           WEAK: "pointing_weak_labels", **BASELINES}


@dataclass(frozen=True)
class Sizes(config.Profile):
    """The shared profile plus this notebook's own sizes."""

    train_images: int  # MNIST training digits pasted onto the training canvases (test canvases use n_test)
    batch: int  # canvases (each with a recording) per step; every recording is scored against every canvas
    steps: int  # optimiser steps of each weakly labelled AVOL-Net (the one-negative ablation gets as many)
    single_steps: int  # label-free: optimiser steps on single-digit videos (28 x 28 frames) before the canvases
    single_batch: int  # label-free: single-digit videos per step
    canvas_steps: int  # label-free: optimiser steps on the canvases after the single-digit videos
    seconds: float  # time cap of each training phase (stops early, says so)
    test_canvases: int  # test canvases (test digits, held-out voice) pointing accuracy is measured on


SIZES = config.lesson_sizes(
    Sizes,
    ci=dict(train_images=10_000, batch=64, steps=120, single_steps=300, single_batch=128, canvas_steps=40,
            seconds=60, test_canvases=1000),
    lab=dict(train_images=20_000, batch=64, steps=500, single_steps=300, single_batch=128, canvas_steps=200,
             seconds=300, test_canvases=2000),
    full=dict(train_images=60_000, batch=128, steps=3000, single_steps=2000, single_batch=256, canvas_steps=2000,
              seconds=300, test_canvases=5000),
)


@dataclass
class SoundsAndDigits:
    """Digit images to paste and recordings to pair, for training and for testing; ``*_soundtrack[i]`` is the
    recording of image i's video (a recording of its digit, drawn once)."""

    train_images: ImageData
    test_images: ImageData
    train_sounds: torch.Tensor  # N x 1 x 32 x 32 standardised log-mel spectrograms
    test_sounds: torch.Tensor
    train_spoken: SpokenDigits
    test_spoken: SpokenDigits
    train_soundtrack: torch.Tensor
    test_soundtrack: torch.Tensor


def load(sizes: Sizes, seed: int = 0) -> SoundsAndDigits:
    """MNIST train / test digits and FSDD recordings split by speaker (``TEST_SPEAKERS`` held out); the test
    spectrograms are standardised with the training set's statistics; the videos are drawn for ``seed``."""
    train_spoken, test_spoken = audio.by_speaker(load_fsdd("all"), TEST_SPEAKERS)
    train_sounds, test_sounds = audio.spectrograms(train_spoken, test_spoken)
    train_images, test_images = load_mnist(True, sizes.train_images), load_mnist(False, sizes.n_test)
    return SoundsAndDigits(train_images, test_images, train_sounds, test_sounds, train_spoken, test_spoken,
                           av.simulate_videos(train_images.y, train_spoken.digit, seed + VIDEO_SEED),
                           av.simulate_videos(test_images.y, test_spoken.digit, seed + VIDEO_SEED + 1))


# --- scenes with a recording ---------------------------------------------------------------------------------------

@dataclass
class Scenes:
    """Canvases, and for each one the recording that names one of its digits (``slot``: which one)."""

    canvases: ots.Canvases
    slot: torch.Tensor  # N: index into canvases.digits of the spoken digit
    recording: torch.Tensor  # N: index into the recordings

    @property
    def spoken(self) -> torch.Tensor:
        return self.canvases.digits.gather(1, self.slot[:, None])[:, 0]

    @property
    def spoken_box(self) -> torch.Tensor:
        return self.canvases.boxes[torch.arange(len(self.slot)), self.slot]


def scenes(images: ImageData, soundtrack: torch.Tensor, n: int, k: int, generator: torch.Generator) -> Scenes:
    """``n`` canvases of ``k`` different digits, each with the soundtrack of one of its digit images (a video of
    several objects, one of which sounds)."""
    canvases = ots.make_canvases(images.x, images.y, n, k, generator=generator)
    slot = ots.spoken_slot(n, k, generator)
    sounding = canvases.sources.gather(1, slot[:, None])[:, 0]  # the image whose soundtrack is heard
    return Scenes(canvases, slot, soundtrack[sounding])


def video_batches(data: SoundsAndDigits, batch_size: int, k: int, seed: int, device="cpu"):
    """The paper's setting: endless batches (spectrograms, canvases) of fresh scenes, recording i with canvas i.
    Nothing else: no digit reaches the loss, which can only say "own canvas" or "another canvas"."""
    generator = torch.Generator().manual_seed(seed)
    while True:
        s = scenes(data.train_images, data.train_soundtrack, batch_size, k, generator)
        yield data.train_sounds[s.recording].to(device), s.canvases.x.to(device)


def single_digit_videos(data: SoundsAndDigits, batch_size: int, seed: int, device="cpu"):
    """Endless batches (spectrograms, 28 x 28 frames) of different single-digit videos, each frame with its own
    soundtrack (``av.video_batches``): 08's label-free setting, the warm start of ``train_label_free``."""
    for frames, sounds in av.video_batches(data.train_images.x.to(device), data.train_soundtrack,
                                           data.train_sounds.to(device), batch_size, seed):
        yield sounds, frames


def labelled_batches(data: SoundsAndDigits, batch_size: int, k: int, seed: int, device="cpu"):
    """The weakly labelled variant: the same scenes as ``video_batches`` (same seed, same scenes), plus the digit
    each recording says and the digits on each canvas -- labels the paper did not have."""
    generator = torch.Generator().manual_seed(seed)
    while True:
        s = scenes(data.train_images, data.train_soundtrack, batch_size, k, generator)
        yield (data.train_sounds[s.recording].to(device), s.canvases.x.to(device), s.spoken.to(device),
               s.canvases.digits.to(device))


def test_scenes(data: SoundsAndDigits, sizes: Sizes, seed: int, digits: int = DIGITS) -> Scenes:
    """The evaluation: test-set digits on the canvases (``digits`` on each), the held-out speaker's recordings."""
    return scenes(data.test_images, data.test_soundtrack, sizes.test_canvases, digits,
                  torch.Generator().manual_seed(10_000 + seed))
