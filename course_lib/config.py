"""The knobs every notebook shares: profile, device, seed and data root.

The environment decides (and nothing else reads it):

    COURSE_PROFILE  ci | lab (default) | full     how big every experiment is
    COURSE_DATA     folder with the datasets      default: <repo>/data in a checkout, else a per-user cache
    COURSE_DEVICE   cuda | mps | cpu              default: the best one available
    COURSE_SEED     integer                       default: 0

    COURSE_PRETRAINED     1: load the shipped weights instead of training   default: off
    COURSE_CHECKPOINTS    folder of the lab weights     default: <repo>/checkpoints in a checkout, else a per-user cache

Set by ``python -m course_lib.results seeds`` for its runs (a reader never needs them):

    COURSE_RESULTS        folder the run's numbers go to             default: <repo>/results in a checkout
    COURSE_CLAIMS         report: a failed claim is printed, not raised (a seeds run must reach the end)
    COURSE_CLAIMS_LOG     a file every checked claim is appended to (one JSON line each)

Knobs only: this module imports nothing else of the course. A notebook's first cell is ``session.setup("NN_name")``
(``course_lib.session``), which reads them here. Only what every notebook shares lives here; each lesson
(``course_lib.lessons``) declares its own sizes for ci / lab / full beside its code.
"""

from __future__ import annotations

import contextlib
import os
import random
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

PROFILE_NAMES = ("ci", "lab", "full")

# The inverse regularisation strengths a probe chooses from on validation (``evaluate.probe_layers(Cs=...)``):
# scikit-learn's default C = 1 and a factor of 3 either way. On 05's seed-0 networks at 100 labels validation often
# takes the weakest, 3; widening the grid to 0.1 ... 10 moved no row's test error by more than 0.1 points there, at 1.5
# times the solver's time (a grid of three costs about twice one C, warm-started).
PROBE_CS = (0.3, 1.0, 3.0)
# A size that decides only how a trained network is judged, never its weights: left out of checkpoint fingerprints
# (``checkpoints.canonical``), so changing it does not make shipped weights stale.
EVALUATION_ONLY = {"recipe": False}


@dataclass(frozen=True)
class Profile:
    """What every notebook of one profile shares. Each lesson adds its own sizes beside its code (``lesson_sizes``)."""

    name: str
    budget: str  # what the profile promises, in words
    n_train: int  # training images loaded per dataset (10,000 = one CIFAR-10 batch, what the shared copy holds)
    n_test: int  # test images every evaluation uses
    width: int  # base width of the backbone (stages have width x 1, 2, 4, 4, 8)
    batch_size: int
    max_seconds: float  # safety cap on a training run that has no cap of its own (stops early, says so)
    label_draws: int  # labelled subsets averaged per few-label point (with few labels, which ones matters)
    # the probe's C grid (``PROBE_CS``); ci fits C = 1 alone: the grid triples the probes and ci has 90 s
    probe_cs: tuple[float, ...] = field(metadata=EVALUATION_ONLY)


PROFILES: dict[str, Profile] = {
    "ci": Profile(name="ci", budget="<= 90 s per notebook on 2 CPU cores (what CI runs)",
                  n_train=10_000, n_test=4_000, width=16, batch_size=128, max_seconds=40, label_draws=3,
                  probe_cs=(1.0,)),
    "lab": Profile(name="lab", budget="<= 4 min per notebook on 2 CPU cores, <= 1 min on a GPU (what students run)",
                   n_train=10_000, n_test=10_000, width=16, batch_size=128, max_seconds=100, label_draws=3,
                   probe_cs=PROBE_CS),
    "full": Profile(name="full", budget="<= 15 min per notebook on one GPU (closest to the papers)",
                    n_train=50_000, n_test=10_000, width=64, batch_size=256, max_seconds=400, label_draws=5,
                    probe_cs=PROBE_CS),
}

LessonSizes = TypeVar("LessonSizes", bound=Profile)


def lesson_sizes(sizes: type[LessonSizes], **own: dict[str, Any]) -> dict[str, LessonSizes]:
    """A lesson's sizes for every profile: the shared ``PROFILES`` row plus the lesson's own fields.

    ``sizes`` is the lesson's frozen dataclass (a subclass of ``Profile`` that adds its fields); ``own`` gives its
    values per profile, e.g. ``lesson_sizes(Sizes, ci=dict(steps=60), lab=dict(steps=400), full=dict(steps=2000))``.
    A notebook then reads ``sizes = lesson.SIZES[session.profile.name]`` and finds both kinds there.
    """
    if set(own) != set(PROFILE_NAMES):
        raise ValueError(f"{sizes.__qualname__}: give sizes for exactly the profiles {PROFILE_NAMES}, got {tuple(own)}")
    shared = [f.name for f in fields(Profile)]
    return {name: sizes(**{f: getattr(PROFILES[name], f) for f in shared}, **own[name]) for name in PROFILE_NAMES}


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
    return user_cache() / "data"


def user_cache() -> Path:
    """The per-user cache of an installed course (datasets and downloaded weights)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "course_lib"


def results_root() -> Path:
    """Where ``results.record`` writes: COURSE_RESULTS if set; <repo>/results in a checkout, else ./results."""
    if os.environ.get("COURSE_RESULTS"):
        return Path(os.environ["COURSE_RESULTS"]).expanduser()
    return REPO_ROOT / "results" if _in_checkout() else Path.cwd() / "results"


def claims_reported() -> bool:
    """COURSE_CLAIMS=report: a claim that fails is printed and logged, not raised (the seeds runs of
    ``python -m course_lib.results seeds`` must reach the end of the notebook to measure everything)."""
    return os.environ.get("COURSE_CLAIMS", "").strip().lower() == "report"


def claims_log() -> Path | None:
    """COURSE_CLAIMS_LOG: a file each checked claim is appended to as one JSON line, or None."""
    value = os.environ.get("COURSE_CLAIMS_LOG", "").strip()
    return Path(value) if value else None


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


@contextlib.contextmanager
def isolated_rng(seed: int):
    """Run a block with torch's random streams (CPU and every visible GPU) seeded with ``seed``, then put them back.

    For pictures and exercise checkers: what they draw is the same every time, and drawing it does not change what
    the notebook trains next (``torch.random.fork_rng`` saves and restores the streams).
    """
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def pretrained() -> bool:
    """COURSE_PRETRAINED=1: every training run loads its shipped weights instead of training (``pretrained``)."""
    return os.environ.get("COURSE_PRETRAINED", "").strip() == "1"


def checkpoint_build() -> str:
    """The id of the checkpoint build under way (COURSE_CHECKPOINT_BUILD, set by ``python -m course_lib.checkpoints
    build``), or "" outside a build. A build keeps the weights of every run it trains."""
    value = os.environ.get("COURSE_CHECKPOINT_BUILD", "").strip()
    return "" if value in ("", "0") else value


def checkpoints_root(profile: str | None = None) -> Path:
    """Where the shipped weights of a profile are: COURSE_CHECKPOINTS if set; in a checkout, the committed lab weights
    in <repo>/checkpoints; else (an installed course, e.g. on Colab, or the full profile) a per-user cache folder that
    the release's weights archive is unpacked into."""
    if os.environ.get("COURSE_CHECKPOINTS"):
        return Path(os.environ["COURSE_CHECKPOINTS"]).expanduser()
    profile = profile or profile_name()
    if profile == "lab" and _in_checkout():
        return REPO_ROOT / "checkpoints"
    return user_cache() / "checkpoints" / profile
