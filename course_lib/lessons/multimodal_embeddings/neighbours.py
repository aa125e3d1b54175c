"""The explorer: the nearest items of the other modality to a recording, an image, a caption, a scene."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from course_lib import evaluate, show, widgets
from course_lib.data import captioned_scenes as cs
from course_lib.lessons import sound_supervision as ss
from course_lib.pretext import joint_embedding as je

# --- the explorer -------------------------------------------------------------------------------------------------

def _spectrogram_picture(spec: torch.Tensor) -> np.ndarray:
    grey = spec.detach().float().cpu().squeeze(0).flip(0)  # low pitch at the bottom, as the figures draw it
    grey = (grey - grey.min()) / (grey.max() - grey.min()).clamp_min(1e-8)
    return plt.get_cmap("magma")(grey.numpy())[..., :3]


@torch.no_grad()
def explorer_search(sound_model: je.JointEmbedding, text_model: je.JointEmbedding, d: ss.SoundsAndImages,
                    scenes: cs.CaptionedScenes, n_queries: int = 10, top: int = 6, seed: int = 0):
    """The explorer's two arguments: ``neighbours(kind, name)`` and the queries by kind. A recording (held-out
    voice) finds MNIST test images; an image finds recordings; a caption finds test scenes; a scene finds
    captions (the test captions, as text)."""
    a = evaluate.embed(sound_model.embed_audio, d.test_sounds)
    v = evaluate.embed(sound_model.embed_image, d.test_images)
    sv, st = evaluate.embed(text_model.embed_image, scenes.images), evaluate.embed(text_model.embed_text, scenes.tokens)
    generator = torch.Generator().manual_seed(seed)
    recordings = torch.randperm(len(a), generator=generator)[:n_queries].tolist()
    images = torch.randperm(len(v), generator=generator)[:n_queries].tolist()
    picked = torch.randperm(len(sv), generator=generator)[:n_queries].tolist()
    captions = scenes.captions(picked)
    queries = {"a recording": [f'recording #{i}: says "{int(d.test_sound_digits[i])}"' for i in recordings],
               "an image": [f"MNIST test image #{i} (a {int(d.test_image_digits[i])})" for i in images],
               "a caption": captions,
               "a scene": [f"scene #{i}" for i in picked]}

    def neighbours(kind: str, name: str):
        position = queries[kind].index(name)
        if kind == "a recording":
            best = (a[recordings[position]] @ v.T).topk(top).indices.tolist()
            found = [int(d.test_image_digits[i]) for i in best]
            return [d.test_images[i].cpu().squeeze(0).numpy() for i in best], f"images showing {found}"
        if kind == "an image":
            best = (v[images[position]] @ a.T).topk(top).indices.tolist()
            said = [int(d.test_sound_digits[i]) for i in best]
            return [_spectrogram_picture(d.test_sounds[i]) for i in best], f"recordings saying {said}"
        if kind == "a caption":
            best = (st[picked[position]] @ sv.T).topk(top).indices.tolist()
            return [scenes.images[i].cpu().permute(1, 2, 0).numpy() for i in best], f'scenes for "{name}"'
        i = picked[position]
        best = (sv[i] @ st.T).topk(3).indices.tolist()
        return [scenes.images[i].cpu().permute(1, 2, 0).numpy()], "best captions: " + " | ".join(
            dict.fromkeys(scenes.captions(best)))

    return neighbours, queries


def explorer(sound_model, text_model, d, scenes, seed: int = 0) -> widgets.Demo:
    """Pick a recording, an image, a caption or a scene; see its nearest items of the other modality."""
    neighbours, queries = explorer_search(sound_model, text_model, d, scenes, seed=seed)
    return widgets.nearest_neighbours(neighbours, queries)


def show_neighbours(sound_model, text_model, d, scenes, seed: int = 0):
    """The explorer drawn without a kernel: the first query of each kind and what it finds."""
    neighbours, queries = explorer_search(sound_model, text_model, d, scenes, seed=seed)
    kinds = list(queries)
    fig, axes = plt.subplots(len(kinds), 1, figsize=(9, 1.5 * len(kinds)))
    for ax, kind in zip(axes, kinds, strict=True):
        pictures, text = neighbours(kind, queries[kind][0])
        ax.imshow(widgets.picture_strip(pictures))
        ax.set_title(f"{kind}: {queries[kind][0]} -> {text}", fontsize=8, loc="left")
        ax.set(xticks=[], yticks=[])
    return show.finish(fig)
