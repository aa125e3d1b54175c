"""Notebook 02's pictures: the patch grid, patch pairs as the network sees them, detections on scenes."""

from __future__ import annotations

import matplotlib.patches as patches
import matplotlib.pyplot as plt
import torch
from torchvision.ops import box_iou, nms

from course_lib import config, show
from course_lib.detection import Scenes, detect
from course_lib.lessons.relative_position.detection_transfer import GRID, Split
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


def correct_detections(found: dict[str, torch.Tensor], boxes: torch.Tensor, labels: torch.Tensor,
                       iou: float = 0.5) -> torch.Tensor:
    """Which detections of one scene count as correct at mAP@``iou``: taken from the highest score down, each is
    matched to a not yet matched true box of its class that it overlaps with IoU >= ``iou`` (PASCAL VOC's rule)."""
    keep = labels >= 0
    boxes, labels = boxes[keep].cpu(), labels[keep].cpu()
    right = torch.zeros(len(found["scores"]), dtype=torch.bool)
    if len(boxes) == 0 or len(right) == 0:
        return right
    overlap = box_iou(found["boxes"].float(), boxes.float())  # detections x true boxes
    taken = torch.zeros(len(boxes), dtype=torch.bool)
    for i in found["scores"].argsort(descending=True).tolist():
        fits = (overlap[i] >= iou) & (labels == found["labels"][i]) & ~taken
        if fits.any():
            taken[int(fits.nonzero()[0])] = right[i] = True
    return right


def f1_threshold(predictions: list[dict[str, torch.Tensor]], scenes: Scenes) -> float:
    """The score threshold (0.05, 0.10, ... 0.95) at which the detections balance precision and recall best
    (highest F1 at IoU 0.5) on ``scenes``: chosen on training scenes, it says which detections to draw."""
    right = torch.cat([correct_detections(found, b, lab) for found, b, lab in
                       zip(predictions, scenes.boxes, scenes.labels, strict=True)])
    scores = torch.cat([found["scores"] for found in predictions])
    objects = int((scenes.labels >= 0).sum())
    best, best_f1 = 0.5, -1.0
    for threshold in torch.arange(0.05, 0.96, 0.05).tolist():
        kept = scores >= threshold
        hits = int((right & kept).sum())
        f1 = 2 * hits / max(int(kept.sum()) + objects, 1)  # 2 TP / (2 TP + FP + FN)
        if f1 > best_f1:
            best, best_f1 = round(threshold, 2), f1
    return best


def one_box_per_place(found: dict[str, torch.Tensor], iou: float = 0.3) -> dict[str, torch.Tensor]:
    """A scene's detections without those that overlap a higher-scoring one by IoU > ``iou``, whatever their class
    (class-agnostic non-maximum suppression): the detector's peaks are per class, a picture wants one box per place."""
    keep = nms(found["boxes"].float(), found["scores"].float(), iou)
    return {key: value[keep] for key, value in found.items()}


def _label(ax, x, y, text, colour, above=True):
    ax.text(x, y, text, color="white", fontsize=9, va="bottom" if above else "top", clip_on=True,
            bbox=dict(facecolor=colour, alpha=0.75, pad=1.5, linewidth=0))


def show_detections(scenes: Scenes, predictions: list[dict] | None = None, n: int = 4, min_score: float = 0.3,
                    title: str | None = None):
    """Scenes with their true boxes (dashed white, named below) and, if given, the detections scoring at least
    ``min_score`` (named above with their score): green if correct at IoU 0.5, red if not."""
    fig, axes = plt.subplots(1, n, figsize=(3.4 * n, 3.6), squeeze=False)
    for i, ax in enumerate(axes[0]):
        ax.imshow(show._as_hwc(scenes.x[i]), interpolation="nearest")
        for box, label in zip(scenes.boxes[i].tolist(), scenes.labels[i].tolist(), strict=True):
            if label >= 0:
                ax.add_patch(patches.Rectangle((box[0] - 0.5, box[1] - 0.5), box[2] - box[0], box[3] - box[1],
                                               fill=False, color="white", ls="--", lw=1.2))
                _label(ax, box[0], box[3] - 0.5, scenes.classes[label], "black", above=False)
        if predictions:
            found = predictions[i]
            right = correct_detections(found, scenes.boxes[i], scenes.labels[i])
            for box, score, label, ok in zip(found["boxes"].tolist(), found["scores"].tolist(),
                                             found["labels"].tolist(), right.tolist(), strict=True):
                if score >= min_score:
                    colour = "tab:green" if ok else "tab:red"
                    ax.add_patch(patches.Rectangle((box[0] - 0.5, box[1] - 0.5), box[2] - box[0], box[3] - box[1],
                                                   fill=False, color=colour, lw=2))
                    _label(ax, box[0] - 0.5, box[1] - 0.5, f"{scenes.classes[label]} {score:.2f}", colour)
        ax.set_xlim(-0.5, scenes.side - 0.5)
        ax.set_ylim(scenes.side + 7, -8)  # room for the names above and below the boxes at the borders
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    return show.finish(fig)


def show_found(detector, data: Split, n: int = 4):
    """What a detector finds on the first ``n`` test scenes, one box per place (``one_box_per_place``), drawn above
    the score threshold that balances precision and recall best on the *training* scenes (``f1_threshold``)."""
    def found(scenes: Scenes) -> list[dict[str, torch.Tensor]]:
        return [one_box_per_place(d) for d in detect(detector, scenes.x, scenes.side)]

    threshold = f1_threshold(found(data.scenes), data.scenes)
    test = Scenes(data.test_scenes.x[:n], data.test_scenes.boxes[:n], data.test_scenes.labels[:n],
                  data.test_scenes.classes)
    return show_detections(test, found(test), n, threshold,
                           f"detections scoring >= {threshold:.2f} (best F1 on the training scenes), one per place; "
                           "green: correct at IoU 0.5, red: wrong class or place; dashed white: the true objects")
