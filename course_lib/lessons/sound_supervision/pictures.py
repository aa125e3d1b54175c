"""Notebook 08's pictures: what the correspondence network is asked, and what it retrieves."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from course_lib import evaluate, show
from course_lib.lessons.sound_supervision.training import pair_stream
from course_lib.lessons.sound_supervision.videos import SoundsAndImages
from course_lib.pretext import audio_visual as av


def _image_and_spectrogram(ax_image, ax_sound, image, spec, title):
    ax_image.imshow(image.cpu().squeeze(0), cmap="gray")
    ax_image.set_title(title, fontsize=8)
    ax_sound.imshow(spec.cpu().squeeze(0), origin="lower", aspect="auto", cmap="magma")
    for ax in (ax_image, ax_sound):
        ax.set(xticks=[], yticks=[])


def show_pairs(d: SoundsAndImages, n: int = 8, seed: int = 0, shortcut: bool = False):
    """What the AVC network is asked: a frame (top) and a spectrogram (below); from the same video (y = 1) or the
    soundtrack of another video (y = 0)? Another video may say the same digit."""
    images, specs, y = next(pair_stream(d, n, seed, shortcut))
    fig, axes = plt.subplots(2, n, figsize=(1.3 * n, 2.8))
    for i in range(n):
        _image_and_spectrogram(axes[0, i], axes[1, i], images[i], specs[i], "same video" if y[i] else "another")
    axes[1, 0].set_ylabel("sound", fontsize=8)
    return show.finish(fig)


def show_retrieval(model, d: SoundsAndImages, n_queries: int = 6, top: int = 6, seed: int = 0):
    """For a few held-out recordings (their spectrogram on the left), the ``top`` MNIST test images the model
    ranks first (a green title: the spoken digit; red: another)."""
    pick = torch.randperm(len(d.test_sounds), generator=torch.Generator().manual_seed(seed))[:n_queries]
    a = evaluate.embed(model.embed_audio, d.test_sounds[pick.to(d.test_sounds.device)])
    v = evaluate.embed(model.embed_image, d.test_images)
    best = av.pair_scores(model.cpu(), a, v).topk(top, dim=1).indices
    model.to(d.images.device)
    fig, axes = plt.subplots(n_queries, top + 1, figsize=(1.1 * (top + 1), 1.1 * n_queries))
    for r, q in enumerate(pick.tolist()):
        spoken = int(d.test_sound_digits[q])
        axes[r, 0].imshow(d.test_sounds[q].cpu().squeeze(0), origin="lower", aspect="auto", cmap="magma")
        axes[r, 0].set_title(f"says {spoken}", fontsize=8)
        for c, i in enumerate(best[r].tolist()):
            axes[r, c + 1].imshow(d.test_images[i].cpu().squeeze(0), cmap="gray")
            shown = int(d.test_image_digits[i])
            axes[r, c + 1].set_title(str(shown), fontsize=8, color="green" if shown == spoken else "red")
        for ax in axes[r]:
            ax.set(xticks=[], yticks=[])
    return show.finish(fig)
