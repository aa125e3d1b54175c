"""Figures and tables: image grids, training curves, label-efficiency plots, "paper vs ours" tables.

Every function draws one picture (or returns one table) and returns it, so that notebook cells stay one line.
Figures come back closed in pyplot (see ``finish``), so a notebook shows each exactly once: as the cell's value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch


def finish(fig):
    """Tidy a figure and close it in pyplot, so a notebook shows it once: as the cell's value."""
    fig.tight_layout()
    plt.close(fig)
    return fig


def _as_hwc(image) -> np.ndarray:
    """A CHW or HW tensor/array in [0, 1] (or uint8) as an HWC/HW numpy image for imshow."""
    arr = image.detach().cpu().float().numpy() if isinstance(image, torch.Tensor) else np.asarray(image, float)
    if arr.max() > 1.0:
        arr = arr / 255.0
    if arr.ndim == 3 and arr.shape[0] in (1, 3):
        arr = arr.transpose(1, 2, 0)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    return np.clip(arr, 0.0, 1.0)


def image_grid(images, titles: Sequence[str] | None = None, ncols: int = 8, size: float = 1.3,
               suptitle: str | None = None):
    """Show a batch of images (N x C x H x W, values in [0, 1]) in a grid, with optional titles."""
    n = len(images)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows * (1.2 if titles else 1.0)),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, ax in enumerate(axes.flat[:n]):
        img = _as_hwc(images[i])
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    return finish(fig)


def curves(series: Mapping[str, Sequence[float]], xlabel: str = "step", ylabel: str = "loss",
           x: Mapping[str, Sequence[float]] | None = None, title: str | None = None, logy: bool = False):
    """Plot named curves (e.g. training losses) on one axis."""
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for name, ys in series.items():
        xs = x[name] if x is not None else range(len(ys))
        ax.plot(list(xs), list(ys), label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if logy:
        ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    return finish(fig)


def training(histories, metric: str = "loss", ylabel: str | None = None, separate: bool = False,
             title: str | None = None, logy: bool = False):
    """One logged metric of several training runs against the step (``train.History`` objects by name).

    ``separate=True`` gives each run a panel of its own: for runs with different losses, whose heights do not compare.
    """
    ylabel = ylabel or metric
    if not separate:
        return curves({name: h[metric] for name, h in histories.items()}, ylabel=ylabel, title=title, logy=logy,
                      x={name: h.step for name, h in histories.items()})
    fig, axes = _panels(len(histories), ncols=4, size=3.2, height=2.4)
    for ax, (name, history) in zip(axes, histories.items(), strict=True):
        ax.axis("on")  # a curve needs its axes, unlike the image panels
        ax.plot(history.step, history[metric])
        ax.set(xlabel="step", ylabel=ylabel)
        ax.set_title(name, fontsize=8)
        if logy:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return finish(fig)


def against_chance(history, metric: str, chance: float, ylabel: str | None = None, title: str | None = None):
    """One run's logged ``metric`` (a pretext task's own accuracy, say) against the step, with the level of
    ``chance`` as a dashed line: a run that never leaves it learned nothing, whatever its loss did."""
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(history.step, history[metric], label=metric)
    ax.axhline(chance, color="grey", linestyle="--", label=f"chance ({chance:.3g})")
    ax.set(xlabel="step", ylabel=ylabel or metric, title=title)
    ax.legend()
    ax.grid(alpha=0.3)
    return finish(fig)


def label_efficiency(curves_by_method: Mapping[str, Mapping[int, float]], ylabel: str = "test accuracy (%)",
                     title: str | None = None, chance: float | None = None,
                     xlabel: str = "labelled examples per class"):
    """Accuracy (or error) against the number of labels (log x axis), one line per method; where the points are
    means over labelled draws (``evaluate.Spread``), a band of ± one std around each line."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for name, points in curves_by_method.items():
        xs = sorted(points)
        means = np.array([float(points[k]) for k in xs])
        stds = np.array([getattr(points[k], "std", 0.0) for k in xs])
        (line,) = ax.plot(xs, means, marker="o", label=name)
        if stds.any():
            ax.fill_between(xs, means - stds, means + stds, color=line.get_color(), alpha=0.2, linewidth=0)
    if chance is not None:
        ax.axhline(chance, color="gray", linestyle=":", label="chance")
    ax.set_xscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    return finish(fig)


def paper_vs_ours(rows: Sequence[Mapping]) -> pd.DataFrame:
    """A side-by-side table: each row has "what", "paper", "ours" (and optionally "note").

    Missing numbers show as "-", so a row may hold only the paper's figure or only ours.
    """
    table = pd.DataFrame([{"": r["what"], "paper": r.get("paper"), "ours": r.get("ours"),
                           "note": r.get("note", "")} for r in rows]).set_index("")
    return table.astype(object).where(table.notna(), "-")


def withheld_parts(images: torch.Tensor, seed: int = 0):
    """Self-supervision as a picture: for each image, a part withheld (input) and what is to be predicted.

    Rows: the image; a patch hidden (predict the patch: context encoders); the colour removed (predict it:
    colorization); tiles shuffled (predict their positions: relative position / jigsaw).
    """
    generator = torch.Generator().manual_seed(seed)
    x = images[:6].float()
    n, _, h, w = x.shape
    hidden = x.clone()
    hidden[:, :, h // 4: 3 * h // 4, w // 4: 3 * w // 4] = 0.5
    gray = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1).expand_as(x)
    tiles = x.unfold(2, h // 2, h // 2).unfold(3, w // 2, w // 2)  # n, c, 2, 2, h/2, w/2
    order = torch.randperm(4, generator=generator)
    shuffled = tiles.reshape(n, x.shape[1], 4, h // 2, w // 2)[:, :, order].reshape_as(tiles)
    shuffled = shuffled.permute(0, 1, 2, 4, 3, 5).reshape_as(x)
    rows = {"the data": x, "hide a patch": hidden, "drop the colour": gray, "shuffle the tiles": shuffled}
    fig, axes = plt.subplots(len(rows), n, figsize=(1.4 * n, 1.5 * len(rows)), squeeze=False)
    for r, (name, batch) in enumerate(rows.items()):
        for i in range(n):
            axes[r, i].imshow(_as_hwc(batch[i]), interpolation="nearest")
            axes[r, i].set_xticks([])
            axes[r, i].set_yticks([])
        axes[r, 0].set_ylabel(name, fontsize=9)
    fig.suptitle("withhold part of the data, train the network to predict it", fontsize=10)
    return finish(fig)


def image_rows(rows: Mapping[str, torch.Tensor], size: float = 1.0):
    """Rows of images (each N x C x H x W in [0, 1], the same N), each row named on its left."""
    n = len(next(iter(rows.values())))
    fig, axes = plt.subplots(len(rows), n, figsize=(0.95 * size * n + 2.2, size * len(rows)), squeeze=False)
    for r, (name, images) in enumerate(rows.items()):
        for i in range(n):
            picture = _as_hwc(images[i])
            axes[r, i].imshow(picture, cmap="gray" if picture.ndim == 2 else None, vmin=0, vmax=1,
                              interpolation="nearest")
            axes[r, i].set(xticks=[], yticks=[])
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    return finish(fig)


def _panels(n: int, ncols: int, size: float, height: float | None = None):
    """A figure of ``n`` panels without axes, ``ncols`` wide, each ``size`` wide and ``height`` tall (default: square,
    with room for a title above): (figure, the n axes)."""
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (height or size * 1.15) * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    return fig, axes.flat[:n]


def spectrograms(specs: torch.Tensor, titles: Sequence[str] | None = None, ncols: int = 6, size: float = 1.6):
    """Log-mel spectrograms (N x 1 x mels x frames) side by side: time runs right, pitch up."""
    fig, axes = _panels(len(specs), ncols, size)
    for i, ax in enumerate(axes):
        ax.imshow(specs[i].detach().cpu().float().reshape(specs.shape[-2:]).numpy(), origin="lower",
                  aspect="auto", cmap="magma")
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8)
    return finish(fig)


def audio_player(wave: torch.Tensor, sample_rate: int = 8000):
    """A player for one waveform (the notebook shows it as the cell's value). Scaled by IPython to full volume."""
    from IPython.display import Audio  # imported here: only notebooks need it

    return Audio(wave.detach().cpu().float().numpy(), rate=sample_rate)


def heatmaps(images: torch.Tensor, maps: torch.Tensor, titles: Sequence[str] | None = None, ncols: int = 6,
             size: float = 1.6, vmin: float | None = None, vmax: float | None = None):
    """Images (N x C x H x W in [0, 1]) with a heat map (N x h x w, any range) laid over each, upsampled to fit.

    Each map is coloured over its own range, unless ``vmin`` and ``vmax`` give one range for all (to compare maps)."""
    fig, axes = _panels(len(images), ncols, size)
    for i, ax in enumerate(axes):
        picture = _as_hwc(images[i])
        h, w = picture.shape[:2]
        ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None, vmin=0, vmax=1)
        ax.imshow(maps[i].detach().cpu().float().numpy(), cmap="jet", alpha=0.45, extent=(-0.5, w - 0.5, h - 0.5, -0.5),
                  interpolation="bilinear", vmin=vmin, vmax=vmax)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8)
    return finish(fig)
