"""Every knob of the course in one place: profiles, device, seed and data root.

The environment decides (and nothing else reads it):

    COURSE_PROFILE  ci | lab (default) | full     how big every experiment is
    COURSE_DATA     folder with the datasets      default: <repo>/data in a checkout, else a per-user cache
    COURSE_DEVICE   cuda | mps | cpu              default: the best one available
    COURSE_SEED     integer                       default: 0

A notebook's first cell calls ``setup("NN_name")``; everything else asks this module.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

PROFILE_NAMES = ("ci", "lab", "full")


@dataclass(frozen=True)
class Profile:
    """How big the experiments of one profile are. One row of ``PROFILES``."""

    name: str
    budget: str  # what the profile promises, in words
    n_train: int  # training images loaded per dataset (10,000 = one CIFAR-10 batch, what the shared copy holds)
    n_test: int  # test images every evaluation uses
    width: int  # base width of the backbone (stages have width x 1, 2, 4, 4, 8)
    batch_size: int
    pretrain_steps: int  # optimiser steps of a pretraining run
    finetune_steps: int  # optimiser steps of a few-label fine-tuning run
    max_seconds: float  # safety cap on any single training run (stops early, says so)
    labels_per_class: tuple[int, ...]  # points of a label-efficiency curve
    label_draws: int  # labelled subsets averaged per point of a curve (few labels: which ones matters)
    mnist_train: int  # 04, 05: unlabelled MNIST training images (the labelled subsets are drawn from them)
    pretext_steps: int  # 05: optimiser steps of each pretext task (the same for every method)
    label_budgets: tuple[int, ...]  # 05: labelled training images in total (10 % of them per class)
    bandit_runs: int  # 00: independent bandit problems averaged (Sutton & Barto use 2,000)
    bandit_steps: int  # 00: steps per bandit run
    rl_episodes: int  # 00: Q-learning episodes on the cliff walk
    ae_steps: int  # 04: optimiser steps of each autoencoder (plain and two denoising ones)
    ae_batch: int  # 04: images per autoencoder step (small batches: more steps for the same compute)
    ae_noise: float  # 04: masking noise nu, the fraction of pixels a denoising autoencoder sees zeroed
    latent_points: int  # 04: test images in the picture of the latent space and the latent explorer
    color_steps: int  # 06: optimiser steps of each colorizer (l2, classification, classification + rebalancing)
    color_seconds: float  # 06: time cap of each colorizer's training (stops early, says so)
    probe_labels: int  # 06, 07: labelled CIFAR-10 training images of every linear probe (a tenth of them per class)
    split_width: int  # 07: width of the full-size networks; each split-brain half has half of it
    split_steps: int  # 07: optimiser steps of each network (halves, full-width, autoencoder, supervised)
    split_seconds: float  # 07: time cap of each of those trainings
    pretrain_images: int  # 02: CIFAR-10 training photos that pretrain (the other loaded ones make detection scenes)
    supervised_steps: int  # 02: optimiser steps of the supervised pretraining on CIFAR-10 labels
    relpos_steps: int  # 02: optimiser steps of the relative-position pretext task
    pretrain_seconds: float  # 02: time cap of each pretraining run and of each detector training
    shortcut_steps: int  # 02: steps of each of the three pretext runs of the shortcut lab
    aberration: float  # 02: strength of the synthetic chromatic aberration (green magnified by 1 + it)
    scenes_train: int  # 02: detection scenes (64 x 64, 1-3 pasted photos) the detectors train on
    scenes_test: int  # 02: detection scenes mAP@0.5 is measured on (made from test-set photos)
    head_steps: int  # 02: steps of a detection head on a frozen backbone
    detector_batch: int  # 02: scenes per step of a detection head or a fine-tuned detector
    finetune_detector_steps: int  # 02: steps of a detector fine-tuned end to end (backbone and head)
    video_width: int  # 03: backbone width of the video track (16 frames of 48 x 48 per clip: 8 keeps it fast on a CPU)
    video_clips: int  # 03: unlabelled moving-digit clips tuple verification learns from (training-set digits)
    tuple_batch: int  # 03: clips per step of tuple verification (16 tuples drawn from each clip)
    tuple_steps: int  # 03: optimiser steps of tuple verification (the constant-velocity run gets as many)
    tuple_seconds: float  # 03: time cap of each pretraining run (tuples, digit labels, constant velocity)
    digit_steps: int  # 03: optimiser steps of the supervised pretraining on digit labels (frames of the same clips)
    action_labels: int  # 03: labelled clips per action for action recognition (drawn from twice as many)
    action_test: int  # 03: test clips per action
    avol_mnist: int  # 09: MNIST training digits pasted onto the training canvases (test canvases use n_test)
    avol_digits: int  # 09: different digits on each 64 x 64 canvas (the recording names one of them)
    avol_batch: int  # 09: canvases (each with a recording) per step; every recording is scored against every canvas
    avol_steps: int  # 09: optimiser steps of each AVOL-Net (the one-negative ablation gets as many)
    avol_seconds: float  # 09: time cap of each AVOL-Net training (stops early, says so)
    avol_test_canvases: int  # 09: test canvases (test digits, held-out voice) pointing accuracy is measured on
    s2i_images: int  # 10: MNIST training images the speech-to-image pairs are drawn from (identities and targets)
    s2i_width: int  # 10: width of the speech-to-image encoders and decoder, and of the judge (an MNIST classifier)
    s2i_batch: int  # 10: (recording, identity, target) triples per step; also the judge's batch
    s2i_steps: int  # 10: optimiser steps of each generator (with skips, without skips)
    s2i_judge_steps: int  # 10: optimiser steps of the judge
    s2i_seconds: float  # 10: time cap of each of those trainings
    avc_images: int  # 08: MNIST training images paired with the recordings (images of the spoken digit)
    avc_gallery: int  # 08: MNIST test images: the test pairs' images and the gallery of audio -> image retrieval
    avc_width: int  # 08: width of the image tower and of the audio tower (both a Backbone; 8 keeps it fast)
    avc_batch: int  # 08: (image, recording) pairs per step, half of them together; also Owens' batch
    avc_steps: int  # 08: optimiser steps of each AVC model (concatenation, AVE-Net)
    avc_shortcut_steps: int  # 08: optimiser steps of the shortcut run (it finds the artefact in a few dozen)
    avc_seconds: float  # 08: time cap of each of those trainings
    owens_k: int  # 08: k-means clusters of the sound statistics ("classes from sound")
    owens_steps: int  # 08: optimiser steps of the image tower predicting the sound's cluster


PROFILES: dict[str, Profile] = {
    "ci": Profile(
        name="ci", budget="<= 90 s per notebook on 2 CPU cores (what CI runs)",
        n_train=10_000, n_test=4_000, width=16, batch_size=128,
        pretrain_steps=500, finetune_steps=100, max_seconds=40,
        labels_per_class=(2, 10), label_draws=3,
        mnist_train=10_000, pretext_steps=80, label_budgets=(100, 1_000),
        bandit_runs=200, bandit_steps=500, rl_episodes=300,
        ae_steps=200, ae_batch=64, ae_noise=0.25, latent_points=1000,
        color_steps=150, color_seconds=40, probe_labels=1000,
        split_width=16, split_steps=60, split_seconds=8,
        pretrain_images=6000, supervised_steps=60, relpos_steps=150, pretrain_seconds=20, shortcut_steps=40,
        aberration=0.05, scenes_train=1000, scenes_test=400, head_steps=100, detector_batch=64,
        finetune_detector_steps=10,
        video_width=8, video_clips=300, tuple_batch=16, tuple_steps=40, tuple_seconds=20, digit_steps=40,
        action_labels=20, action_test=20,
        avol_mnist=10_000, avol_digits=2, avol_batch=64, avol_steps=120, avol_seconds=60, avol_test_canvases=1000,
        s2i_images=6000, s2i_width=8, s2i_batch=64, s2i_steps=150, s2i_judge_steps=100, s2i_seconds=30,
        avc_images=10_000, avc_gallery=1000, avc_width=8, avc_batch=128, avc_steps=200, avc_shortcut_steps=100,
        avc_seconds=60, owens_k=30, owens_steps=100,
    ),
    "lab": Profile(
        name="lab", budget="<= 4 min per notebook on 2 CPU cores, <= 1 min on a GPU (what students run)",
        n_train=10_000, n_test=10_000, width=16, batch_size=128,
        pretrain_steps=1_500, finetune_steps=150, max_seconds=100,
        labels_per_class=(1, 2, 5, 10, 20, 50, 100), label_draws=1,
        mnist_train=20_000, pretext_steps=400, label_budgets=(100, 300, 1_000, 10_000),
        bandit_runs=1000, bandit_steps=1000, rl_episodes=500,
        ae_steps=600, ae_batch=64, ae_noise=0.25, latent_points=1500,
        color_steps=400, color_seconds=60, probe_labels=2000,
        split_width=16, split_steps=400, split_seconds=40,
        pretrain_images=7000, supervised_steps=150, relpos_steps=500, pretrain_seconds=60, shortcut_steps=150,
        aberration=0.05, scenes_train=1500, scenes_test=500, head_steps=200, detector_batch=64,
        finetune_detector_steps=30,
        video_width=8, video_clips=1000, tuple_batch=16, tuple_steps=150, tuple_seconds=150, digit_steps=150,
        action_labels=20, action_test=100,
        avol_mnist=20_000, avol_digits=2, avol_batch=64, avol_steps=500, avol_seconds=300, avol_test_canvases=2000,
        s2i_images=20_000, s2i_width=8, s2i_batch=64, s2i_steps=600, s2i_judge_steps=300, s2i_seconds=150,
        avc_images=20_000, avc_gallery=2000, avc_width=8, avc_batch=128, avc_steps=1200, avc_shortcut_steps=200,
        avc_seconds=180, owens_k=30, owens_steps=300,
    ),
    "full": Profile(
        name="full", budget="<= 15 min per notebook on one GPU (closest to the papers)",
        n_train=50_000, n_test=10_000, width=64, batch_size=256,
        pretrain_steps=6_000, finetune_steps=300, max_seconds=400,
        labels_per_class=(1, 2, 5, 10, 20, 50, 100, 500), label_draws=5,
        mnist_train=60_000, pretext_steps=3_000, label_budgets=(100, 300, 1_000, 10_000),
        bandit_runs=2000, bandit_steps=1000, rl_episodes=500,
        ae_steps=3000, ae_batch=256, ae_noise=0.25, latent_points=5000,
        color_steps=3000, color_seconds=200, probe_labels=10_000,
        split_width=64, split_steps=2000, split_seconds=90,
        pretrain_images=40_000, supervised_steps=3000, relpos_steps=6000, pretrain_seconds=300,
        shortcut_steps=1500, aberration=0.05, scenes_train=10_000, scenes_test=2000, head_steps=1500,
        detector_batch=128, finetune_detector_steps=1000,
        video_width=16, video_clips=6000, tuple_batch=32, tuple_steps=3000, tuple_seconds=400, digit_steps=1500,
        action_labels=20, action_test=300,
        avol_mnist=60_000, avol_digits=2, avol_batch=128, avol_steps=3000, avol_seconds=300, avol_test_canvases=5000,
        s2i_images=60_000, s2i_width=32, s2i_batch=128, s2i_steps=4000, s2i_judge_steps=1500, s2i_seconds=300,
        avc_images=60_000, avc_gallery=10_000, avc_width=32, avc_batch=256, avc_steps=3000, avc_shortcut_steps=1000,
        avc_seconds=300, owens_k=30, owens_steps=2000,
    ),
}

REPO_ROOT = Path(__file__).resolve().parents[1]


def _in_checkout() -> bool:
    """True when course_lib is imported from a clone of the repository (not an installed wheel)."""
    return (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "notebooks").is_dir()


def profile_name() -> str:
    name = os.environ.get("COURSE_PROFILE", "lab").strip().lower() or "lab"
    if name not in PROFILES:
        raise ValueError(f"COURSE_PROFILE={name!r} is not a profile; choose one of {', '.join(PROFILE_NAMES)}.")
    return name


def get_profile(name: str | None = None) -> Profile:
    return PROFILES[name or profile_name()]


def data_root() -> Path:
    """Where datasets are looked for and downloaded to."""
    if os.environ.get("COURSE_DATA"):
        return Path(os.environ["COURSE_DATA"]).expanduser().resolve()
    if _in_checkout():
        return REPO_ROOT / "data"
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "course_lib" / "data"


def results_root() -> Path:
    """Where ``results.record`` writes: <repo>/results in a checkout, else ./results."""
    return REPO_ROOT / "results" if _in_checkout() else Path.cwd() / "results"


def seed() -> int:
    raw = os.environ.get("COURSE_SEED", "0").strip() or "0"
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"COURSE_SEED={raw!r} is not an integer.") from None


def _mps_available() -> bool:
    return hasattr(torch.backends, "mps") and torch.backends.mps.is_available()


def device() -> torch.device:
    """COURSE_DEVICE if set (and present), else cuda -> mps -> cpu."""
    wanted = os.environ.get("COURSE_DEVICE", "").strip().lower()
    available = {"cuda": torch.cuda.is_available(), "mps": _mps_available(), "cpu": True}
    if wanted:
        if wanted not in available:
            raise ValueError(f"COURSE_DEVICE={wanted!r} is not one of cuda, mps, cpu.")
        if not available[wanted]:
            raise RuntimeError(
                f"COURSE_DEVICE={wanted} but no {wanted} device is visible to torch. "
                "Unset COURSE_DEVICE to use the best device available (the lab profile fits a CPU)."
            )
        return torch.device(wanted)
    for name in ("cuda", "mps"):
        if available[name]:
            return torch.device(name)
    return torch.device("cpu")


def seed_everything(value: int) -> torch.Generator:
    """Seed python, numpy and torch; return a torch generator for code that wants its own stream."""
    random.seed(value)
    np.random.seed(value)
    torch.manual_seed(value)
    return torch.Generator().manual_seed(value)


@dataclass
class Session:
    """What ``setup`` found: the notebook's profile, device, seed and data root, and when it started."""

    notebook: str
    profile: Profile
    device: torch.device
    seed: int
    data_root: Path
    started: float = field(default_factory=time.perf_counter)

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def record(self, **metrics: float) -> Path:
        """Write this notebook's headline numbers to results/<profile>/<notebook>.json."""
        from course_lib import results

        return results.record(self.notebook, metrics, profile=self.profile.name, seed=self.seed,
                              seconds=self.seconds)

    def _shown_data_root(self) -> str:
        """The data root as a reader recognises it: repo-relative or ~-relative when it can be."""
        for base, label in ((REPO_ROOT, "<course>"), (Path.home(), "~")):
            if self.data_root.is_relative_to(base):
                return f"{label}/{self.data_root.relative_to(base)}"
        return str(self.data_root)

    def __str__(self) -> str:
        chosen = "" if os.environ.get("COURSE_DEVICE") or self.device.type != "cpu" else " (no GPU found)"
        return (f"{self.notebook}: profile={self.profile.name} ({self.profile.budget}) | "
                f"device={self.device}{chosen} | seed={self.seed} | data={self._shown_data_root()}")


def setup(notebook: str, *, quiet: bool = False) -> Session:
    """The first call of every notebook: read the knobs, seed everything, print one line."""
    session = Session(notebook=notebook, profile=get_profile(), device=device(), seed=seed(),
                      data_root=data_root())
    seed_everything(session.seed)
    if not quiet:
        print(session)
    return session
