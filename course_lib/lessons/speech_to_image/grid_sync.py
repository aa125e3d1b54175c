"""GRID: does the mouth move with the sound? Mouth motion, loudness, and their best offset."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from course_lib import audio, show
from course_lib.data.grid import CLIPS as GRID_CLIPS
from course_lib.data.grid import TalkingClip, load_grid
from course_lib.lessons.speech_to_image.evaluation import _correlation
from course_lib.pretext import temporal_order

# --- GRID: does the mouth move with the sound? ------------------------------------------------------------------

MOUTH_BOX = (190, 240, 120, 200)  # top, bottom, left, right in GRID's 288 x 360 frames: the lower face, fixed
MAX_OFFSET = 10  # frames (0.4 s at 25 fps) searched on either side


def motion_energy(clip: TalkingClip, box: tuple[int, int, int, int] = MOUTH_BOX) -> torch.Tensor:
    """Mean absolute grey-level change inside ``box`` between frames t and t + 1 (T - 1 values): how much the
    mouth moves (notebook 03's ``motion_energy``, on the crop). Value t sits between frames t and t + 1, where the
    loudness of sound chunk t sits too."""
    top, bottom, left, right = box
    return temporal_order.motion_energy(clip.grey()[None, :, :, top:bottom, left:right])[0]  # as 1 clip of T frames


def loudness(clip: TalkingClip) -> torch.Tensor:
    """The log energy of the sound during each video frame (``audio.envelope`` with one frame's samples as hop)."""
    return audio.envelope(clip.wave, hop=round(clip.samples_per_frame()))


def sync_curve(sound: torch.Tensor, motion: torch.Tensor, max_offset: int = MAX_OFFSET) -> torch.Tensor:
    """Pearson correlation of ``sound[t]`` with ``motion[t + o]`` for o = -max_offset ... max_offset.

    o > 0: the mouth moves o frames *after* the sound. Every offset compares the same frames of the sound (all but
    ``max_offset`` at each end), so no offset wins by being averaged over fewer frames.
    """
    n = min(len(sound), len(motion))
    if n <= 2 * max_offset + 2:
        raise ValueError(f"{n} frames are too few for offsets up to {max_offset}")
    a = sound[max_offset:n - max_offset].float()
    curve = [_correlation(a, motion[max_offset + o:n - max_offset + o]) for o in range(-max_offset, max_offset + 1)]
    return torch.tensor(curve)


def best_offset(curve: torch.Tensor) -> int:
    """The offset (frames) where a ``sync_curve`` peaks."""
    return int(curve.argmax()) - (len(curve) - 1) // 2


def sync_table(names=tuple(GRID_CLIPS), root=None, box=MOUTH_BOX, max_offset: int = MAX_OFFSET):
    """For every GRID clip: its sentence, the best offset and the correlation there and at 0. Returns (table, curves).

    Clips are loaded one at a time (a clip's frames take about 90 MB as floats)."""
    rows, curves = {}, {}
    for name in names:
        clip = load_grid(name, root)
        curve = sync_curve(loudness(clip), motion_energy(clip, box), max_offset)
        curves[name] = curve
        rows[name] = {"sentence": clip.sentence, "best offset (frames)": best_offset(curve),
                      "r at best": round(float(curve.max()), 3), "r at 0": round(float(curve[max_offset]), 3)}
    return pd.DataFrame.from_dict(rows, orient="index"), curves


def mismatched_curves(names=tuple(GRID_CLIPS), root=None, box=MOUTH_BOX,
                      max_offset: int = MAX_OFFSET) -> dict[tuple[str, str], torch.Tensor]:
    """The control for synchrony: ``sync_curve`` of each clip's loudness against every *other* clip's mouth motion,
    {(sound's clip, mouth's clip): curve}. GRID's sentences share one rhythm (six words between two silences), so a
    sound and a mouth that never met can correlate too: matched clips show synchrony only above these."""
    signals = {}
    for name in names:  # one clip's frames at a time
        clip = load_grid(name, root)
        signals[name] = loudness(clip), motion_energy(clip, box)
    return {(a, b): sync_curve(signals[a][0], signals[b][1], max_offset) for a in names for b in names if a != b}


def matched_and_mismatched(curves: dict[str, torch.Tensor],
                           mismatched: dict[tuple[str, str], torch.Tensor]) -> pd.DataFrame:
    """Matched clips against the mismatched control: the mean curve's r at offset 0 and at its peak (and where), and
    how many of the curves are above the other kind's mean at offset 0."""
    rows = {}
    for name, group in (("matched (a clip's own sound)", curves), ("mismatched (another clip's sound)", mismatched)):
        stacked = torch.stack(list(group.values()))
        mean, centre = stacked.mean(0), (stacked.shape[1] - 1) // 2
        rows[name] = {"curves": len(group), "mean r at 0": round(float(mean[centre]), 3),
                      "mean curve's peak r": round(float(mean.max()), 3), "at offset": best_offset(mean),
                      "std of r at 0": round(float(stacked[:, centre].std()), 3)}
    return pd.DataFrame.from_dict(rows, orient="index")


def shuffled_pairings(curves: dict[str, torch.Tensor], mismatched: dict[tuple[str, str], torch.Tensor],
                      shuffles: int = 10_000, seed: int = 0) -> tuple[float, float, float]:
    """A permutation test of synchrony at offset 0: pair the clips' sounds with their mouths at random ``shuffles``
    times. Returns (the matched pairing's mean r at 0, the random pairings' mean, p: the share of random pairings
    whose mean r reaches the matched one's). Every clip's sound stays in the test, so the shared rhythm of GRID's
    sentences is in both sides; only who goes with whom differs."""
    names = list(curves)
    centre = (len(curves[names[0]]) - 1) // 2
    r = torch.tensor([[float((curves[a] if a == b else mismatched[a, b])[centre]) for b in names] for a in names])
    generator = torch.Generator().manual_seed(seed)
    rows = torch.arange(len(names))
    shuffled = torch.stack([r[rows, torch.randperm(len(names), generator=generator)].mean() for _ in range(shuffles)])
    matched = r.diag().mean()
    return float(matched), float(shuffled.mean()), float((shuffled >= matched).float().mean())


def show_mouth_box(clip: TalkingClip, box=MOUTH_BOX, frame: int = 35):
    """A frame with the mouth box drawn on it, and the two signals of the clip over time."""
    top, bottom, left, right = box
    fig, (ax_image, ax_signals) = plt.subplots(1, 2, figsize=(10, 3.2), gridspec_kw={"width_ratios": [1, 1.7]})
    ax_image.imshow(clip.frames[frame].permute(1, 2, 0).numpy())
    ax_image.add_patch(plt.Rectangle((left, top), right - left, bottom - top, fill=False, color="red", lw=2))
    ax_image.set(xticks=[], yticks=[], title=f"{clip.name}: '{clip.sentence}'")
    sound, motion = loudness(clip), motion_energy(clip, box)
    seconds = np.arange(len(sound)) / clip.fps
    ax_signals.plot(seconds, (sound - sound.mean()) / sound.std(), label="loudness (log energy)")
    seconds = (np.arange(len(motion)) + 0.5) / clip.fps
    ax_signals.plot(seconds, (motion - motion.mean()) / motion.std(), label="mouth motion energy")
    ax_signals.set(xlabel="time (s)", ylabel="standardised", title="sound and mouth motion")
    ax_signals.legend(fontsize=8)
    ax_signals.grid(alpha=0.3)
    return show.finish(fig)


def show_sync_curves(curves: dict[str, torch.Tensor], mismatched: dict | None = None):
    """Correlation against offset for every clip (thin) and their mean (thick); with ``mismatched``, the mean of
    the mismatched control (dashed)."""
    fig, ax = plt.subplots(figsize=(6, 3.4))
    offsets = np.arange(len(next(iter(curves.values())))) - (len(next(iter(curves.values()))) - 1) // 2
    for curve in curves.values():
        ax.plot(offsets, curve.numpy(), color="gray", alpha=0.4, lw=1)
    mean = torch.stack(list(curves.values())).mean(0)
    ax.plot(offsets, mean.numpy(), color="C0", lw=2.5, label=f"mean of {len(curves)} clips")
    if mismatched:
        control = torch.stack(list(mismatched.values())).mean(0)
        ax.plot(offsets, control.numpy(), color="C3", lw=2, ls="--",
                label=f"mismatched control: mean of {len(mismatched)} pairs")
    ax.axvline(0, color="k", lw=0.8, ls=":")
    ax.set(xlabel="offset o (frames; o > 0: the mouth moves after the sound)", ylabel="Pearson r",
           title="loudness vs mouth motion at each offset")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return show.finish(fig)
