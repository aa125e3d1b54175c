"""Notebook 03's pictures: training accuracy beside the majority answer, tuples, clips, a real clip."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from course_lib import show, train
from course_lib.data.moving_digits import ACTIONS, MOTIONS, MovingDigits
from course_lib.pretext import temporal_order

# ---------------------------------------------------------------- what the pretext task asks


def majority_share(videos: torch.Tensor, per_clip: int = 16, seed: int = 0) -> float:
    """The share (%) of negatives among tuples drawn from ``videos`` as in training: the accuracy of always answering
    "shuffled", the level a training accuracy must beat before it means anything."""
    _, labels = temporal_order.draw_tuples(videos, per_clip, generator=torch.Generator().manual_seed(seed))
    return 100.0 * float((labels == 0).float().mean())


def show_training_accuracy(history: train.History, majority: float):
    """Training accuracy (%) of tuple verification against the step, with the majority answer's level drawn."""
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    ax.plot(history.step, 100 * np.asarray(history["acc"]), label="tuple verification (training tuples)")
    ax.axhline(majority, color="gray", linestyle=":",
               label=f'always "shuffled": {majority:.0f} % (the share of negatives)')
    ax.set(xlabel="step", ylabel="training accuracy (%)", title="Order verification while it trains")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    return show.finish(fig)


# ---------------------------------------------------------------- pictures


def show_tuples(videos: torch.Tensor, n: int = 2, window: int = 12, seed: int = 0):
    """What the network is asked, for each of the first ``n`` clips: five frames a < b < c < d < e drawn from a
    high-motion window as in training, and the three tuples they make, one row each -- the positive (b, c, d) above
    the two negatives (b, a, d) and (b, e, d). Shown forwards (training also reverses half of all tuples)."""
    generator = torch.Generator().manual_seed(seed)
    clips = videos[:n].cpu()
    starts = temporal_order.high_motion_starts(clips, window, 1, generator)
    a, b, c, d, e = temporal_order.five_frames(starts, window, generator)[:, 0].unbind(-1)
    rows = {"IN ORDER\n(b, c, d)": (b, c, d), "SHUFFLED\n(b, a, d)": (b, a, d), "SHUFFLED\n(b, e, d)": (b, e, d)}
    fig, axes = plt.subplots(3 * n, 3, figsize=(4.8, 1.75 * 3 * n), squeeze=False)
    for i in range(n):
        for r, (label, frames) in enumerate(rows.items()):
            for j, t in enumerate(frames):
                ax = axes[3 * i + r, j]
                ax.imshow(clips[i, t[i]].permute(1, 2, 0).squeeze(-1).numpy(), cmap="gray", vmin=0, vmax=1,
                          interpolation="nearest")
                ax.set(xticks=[], yticks=[])
                ax.set_title(f"t={int(t[i])}", fontsize=8)
            axes[3 * i + r, 0].set_ylabel(f"clip {i + 1}: {label}", fontsize=8)
    return show.finish(fig)


def show_clips(clips: MovingDigits, per_action: int = 1, frames: int = 8):
    """One row per clip (``per_action`` of each action), ``frames`` frames spread over the clip."""
    rows = [i for k in range(len(ACTIONS)) for i in torch.nonzero(clips.motion == k).flatten()[:per_action].tolist()]
    keep = torch.linspace(0, clips.videos.shape[1] - 1, frames).round().long()
    titles = [f"{MOTIONS[int(clips.motion[i])]}" if j == 0 else f"t={int(keep[j])}" for i in rows
              for j in range(frames)]
    return show.image_grid(clips.videos[rows][:, keep].flatten(0, 1).cpu(), titles, ncols=frames, size=1.0)


def show_real_tuples(clip, window: int = 40, min_gap: int = 10, seed: int = 0):
    """High-motion sampling on a real clip: its motion energy with the window drawn and the five frames a ... e
    (a at least ``min_gap`` frames before b, e at least as far after d), then the positive (b, c, d) and the two
    negatives (b, a, d), (b, e, d) made from them."""
    grey = clip.grey()[None]  # (1, T, 1, H, W)
    generator = torch.Generator().manual_seed(seed)
    start = temporal_order.high_motion_starts(grey, window, 1, generator)
    a, b, c, d, e = temporal_order.five_frames(start, window, generator, min_gap)[0, 0].tolist()
    fig = plt.figure(figsize=(7.5, 8.2))
    grid = fig.add_gridspec(4, 3, height_ratios=(0.8, 1, 1, 1))
    energy = temporal_order.motion_energy(grey)[0]
    top = fig.add_subplot(grid[0, :])
    top.plot(energy.numpy(), color="k", lw=1)
    top.axvspan(int(start), int(start) + window - 1, color="tab:orange", alpha=0.25, label="window drawn")
    for name, t in zip("abcde", (a, b, c, d, e), strict=True):
        top.annotate(name, (t, float(energy[min(t, len(energy) - 1)])), color="tab:blue", fontsize=10)
    top.set(xlabel="frame", ylabel="mean |frame difference|", title=f"{clip.name}: where does it move?")
    top.legend(fontsize=8)
    rows = {"IN ORDER (b, c, d)": (b, c, d), "SHUFFLED (b, a, d)": (b, a, d), "SHUFFLED (b, e, d)": (b, e, d)}
    for r, (label, frames) in enumerate(rows.items(), start=1):
        for j, t in enumerate(frames):
            ax = fig.add_subplot(grid[r, j])
            ax.imshow(clip.frames[t].permute(1, 2, 0).numpy())
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"frame {t}", fontsize=8)
            if j == 0:
                ax.set_ylabel(label, fontsize=8)
    return show.finish(fig)
