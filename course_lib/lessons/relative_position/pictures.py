"""Notebook 02's pictures: the patch grid, patch pairs as the network sees them, detections on scenes."""

from __future__ import annotations

import matplotlib.patches as patches
import matplotlib.pyplot as plt
import torch

from course_lib import config, show
from course_lib.detection import (
    Scenes,
)
from course_lib.lessons.relative_position.detection_transfer import GRID
from course_lib.pretext import relative_position as rp


def show_grid(images: torch.Tensor, grid: rp.PatchGrid | None = None, n: int = 4, seed: int = 0):
    """Photos (upsampled) with the 3x3 grid of jittered patches drawn on them, the first patch in yellow."""
    grid = grid or GRID
    photos = rp.upsample(images[:n].cpu(), grid.image_side)
    cells = torch.tensor([[r, c] for r in range(3) for c in range(3)])
    with config.isolated_rng(seed):  # the same jitter every time, and the notebook's stream is left alone
        corners = [grid.corners(cells) for _ in photos]
    fig, axes = plt.subplots(1, n, figsize=(2.2 * n, 2.4), squeeze=False)
    for ax, photo, jittered in zip(axes[0], photos, corners, strict=True):
        ax.imshow(show._as_hwc(photo), interpolation="nearest")
        for cell, (row, col) in zip(cells.tolist(), jittered.tolist(), strict=True):
            first = tuple(cell) == rp.CENTRE
            ax.add_patch(patches.Rectangle((col - 0.5, row - 0.5), grid.patch, grid.patch, fill=False, lw=1.5,
                                           color="yellow" if first else "white"))
            if not first:
                label = rp.NEIGHBOURS.index((cell[0] - 1, cell[1] - 1))
                ax.text(col + 1, row + 5, str(label), color="white", fontsize=8, weight="bold")
        ax.axis("off")
    fig.suptitle(f"3x3 grid: {grid.patch}-px patches, {grid.gap}-px gap, +-{grid.jitter} px jitter", fontsize=9)
    return show.finish(fig)


def show_pairs(images: torch.Tensor, grid: rp.PatchGrid | None = None, n: int = 6, colour_dropping: bool = True,
               lens=None, seed: int = 0):
    """What the network sees: pairs of patches (first, second) and the label y it must predict."""
    grid = grid or GRID
    with config.isolated_rng(seed):
        photos = rp.upsample(images[:n].cpu(), grid.image_side)
        photos = lens(photos) if lens is not None else photos
        first, second, y = rp.patch_pairs(photos, grid)
        if colour_dropping:
            first, second = rp.drop_colour(first), rp.drop_colour(second)
    arrows = ("↖", "↑", "↗", "←", "→", "↙", "↓", "↘")
    titles = [t for i in range(n) for t in ("first", f"second: y={int(y[i])} {arrows[int(y[i])]}")]
    return show.image_grid(torch.stack([first, second], 1).flatten(0, 1), titles, ncols=4, size=1.5)


def show_detections(scenes: Scenes, predictions: list[dict] | None = None, n: int = 6, min_score: float = 0.3):
    """Scenes with their true boxes (dashed white) and, if given, the detections scoring at least ``min_score``."""
    fig, axes = plt.subplots(1, n, figsize=(2.3 * n, 2.6), squeeze=False)
    for i, ax in enumerate(axes[0]):
        ax.imshow(show._as_hwc(scenes.x[i]), interpolation="nearest")
        for box, label in zip(scenes.boxes[i].tolist(), scenes.labels[i].tolist(), strict=True):
            if label >= 0:
                ax.add_patch(patches.Rectangle((box[0] - 0.5, box[1] - 0.5), box[2] - box[0], box[3] - box[1],
                                               fill=False, color="white", ls="--", lw=1))
                if not predictions:
                    ax.text(box[0], box[1] - 1, scenes.classes[label], color="white", fontsize=7)
        found = predictions[i] if predictions else {"boxes": torch.zeros(0, 4), "scores": torch.zeros(0),
                                                     "labels": torch.zeros(0)}
        for box, score, label in zip(found["boxes"].tolist(), found["scores"].tolist(), found["labels"].tolist(),
                                     strict=True):
            if score >= min_score:
                ax.add_patch(patches.Rectangle((box[0] - 0.5, box[1] - 0.5), box[2] - box[0], box[3] - box[1],
                                               fill=False, color="yellow", lw=1.5))
                ax.text(box[0], box[1] - 1, f"{scenes.classes[label]} {score:.2f}", color="yellow", fontsize=7)
        ax.axis("off")
    return show.finish(fig)
