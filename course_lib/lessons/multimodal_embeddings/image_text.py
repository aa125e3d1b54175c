"""Part 3: images and words: captioned scenes, an image-text space, retrieval, compositional zero-shot."""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd
import torch

from course_lib import config, evaluate, nets, pretrained, show, train
from course_lib.data import captioned_scenes as cs
from course_lib.lessons import sound_supervision as ss
from course_lib.lessons.multimodal_embeddings.image_sound import CHOICES, HELDOUT, NOTEBOOK, SCENE_SEED, Sizes
from course_lib.lessons.multimodal_embeddings.zero_shot import _accuracy
from course_lib.pretext import joint_embedding as je

# --- part 3: image-text ------------------------------------------------------------------------------------------

@dataclass
class Scenes:
    train: cs.CaptionedScenes  # training scenes: no held-out (colour, digit) pair anywhere
    test: cs.CaptionedScenes  # test scenes of MNIST test digits, no held-out pair (seen combinations)
    heldout: cs.CaptionedScenes  # test scenes with exactly one held-out pair (never seen together in training)


def load_scenes(d: ss.SoundsAndImages, sizes: Sizes, seed: int = 0) -> Scenes:
    """Captioned scenes from 08's MNIST images (training scenes from training digits, test scenes from test digits),
    ``HELDOUT`` kept out of every training scene."""
    base = seed + SCENE_SEED
    return Scenes(
        cs.make_scenes(d.images, d.image_digits, sizes.scenes, heldout=HELDOUT, seed=base),
        cs.make_scenes(d.test_images, d.test_image_digits, sizes.test_scenes, heldout=HELDOUT, seed=base + 1),
        cs.make_scenes(d.test_images, d.test_image_digits, sizes.test_scenes, heldout=HELDOUT,
                       include_heldout=True, seed=base + 2))


def show_scenes(scenes: cs.CaptionedScenes, n: int = 8, ncols: int = 4):
    """A few scenes with their captions."""
    rows = math.ceil(n / ncols)
    fig, axes = plt.subplots(rows, ncols, figsize=(2.4 * ncols, 1.5 * rows), squeeze=False)
    for ax, image, caption in zip(axes.flat, scenes.images[:n].cpu(), scenes.captions(slice(0, n)), strict=False):
        ax.imshow(image.permute(1, 2, 0).numpy())
        ax.set_title(caption, fontsize=8)
    for ax in axes.flat:
        ax.axis("off")
    return show.finish(fig)


def make_text_model(sizes: Sizes, seed: int, encoder: str = "gru", device: torch.device | str = "cpu"):
    """An image tower for the scenes (``nets.SceneTower``: left and right kept apart) and a caption encoder
    (``"gru"``: ``nets.TextEncoder``, reads word order; ``"bag"``: ``nets.BagOfWords``), in one joint space."""
    with config.isolated_rng(seed + 7):
        image = nets.SceneTower(nets.Backbone(3, sizes.tower_width))
        text = nets.TextEncoder(len(cs.VOCABULARY)) if encoder == "gru" else nets.BagOfWords(len(cs.VOCABULARY))
        return je.JointEmbedding(image, text, image.out_dim, text.out_dim).to(device)


def train_text(scenes: Scenes, sizes: Sizes, seed: int = 0, encoder: str = "gru", progress: bool = True):
    """The image tower and a caption encoder trained with the same symmetric InfoNCE on (scene, caption) pairs;
    returns (model, history)."""
    model = make_text_model(sizes, seed, encoder, scenes.train.images.device)
    stream = je.pair_batches(scenes.train.images, scenes.train.tokens, None, sizes.pairs_per_step, seed)
    desc = f"InfoNCE, image-text ({encoder})"
    history = pretrained.load_or_train(
        model, f"{NOTEBOOK}/{desc}",
        lambda: train.fit(model, stream, je.clip_loss, steps=sizes.text_steps, max_seconds=sizes.seconds, desc=desc,
                          progress=progress),
        sizes=sizes, seed=seed, loss=je.clip_loss, encoder=encoder)
    return model, history


@torch.no_grad()
def _choose(model: je.JointEmbedding, scenes: cs.CaptionedScenes, captions: torch.Tensor) -> torch.Tensor:
    """For each scene, the index of its most similar caption among ``captions[i]`` (N x C x words)."""
    v = evaluate.embed(model.embed_image, scenes.images)
    t = evaluate.embed(model.embed_text, captions.flatten(0, 1)).view(*captions.shape[:2], -1)
    return torch.einsum("nd,ncd->nc", v, t).argmax(1)


def _heldout_slot(scenes: cs.CaptionedScenes) -> torch.Tensor:
    """Which slot of each scene holds a held-out pair (0 left, 1 right)."""
    pairs = {(cs.COLOURS.index(c), digit) for c, digit in HELDOUT}
    held = torch.tensor([[(int(c), int(g)) in pairs for c, g in zip(cr, gr, strict=True)]
                         for cr, gr in zip(scenes.colour.cpu(), scenes.digit.cpu(), strict=True)])
    return held.int().argmax(1)


def compositional(model: je.JointEmbedding, scenes: cs.CaptionedScenes, slot: torch.Tensor) -> dict[str, float]:
    """The 30-way zero-shot question on one slot of each scene: which of the 30 captions that differ only in that
    slot's colour and digit fits? Accuracy (%), and how often the chosen caption has the right digit and colour."""
    chosen = _choose(model, scenes, cs.alternatives(scenes, slot))
    rows = torch.arange(len(scenes))
    colour, digit = scenes.colour.cpu()[rows, slot.cpu()], scenes.digit.cpu()[rows, slot.cpu()]
    return {"accuracy": _accuracy(chosen, colour * 10 + digit), "digit right": _accuracy(chosen % 10, digit),
            "colour right": _accuracy(chosen // 10, colour)}


def swapped_captions(scenes: cs.CaptionedScenes) -> torch.Tensor:
    """Each scene's caption (said left to right) and its twin with the two colours swapped ("a red 3 left of a blue
    7" / "a blue 3 left of a red 7"): the same words, bound differently. N x 2 x words; the first is right."""
    left_first = torch.zeros(len(scenes), dtype=torch.bool)
    colour, digit = scenes.colour.cpu(), scenes.digit.cpu()
    true = cs.caption_tokens(colour, digit, left_first)
    twin = cs.caption_tokens(colour.flip(1), digit, left_first)
    return torch.stack([true, twin], dim=1).to(scenes.tokens.device)


@torch.no_grad()
def twin_accuracy(model: je.JointEmbedding, scenes: cs.CaptionedScenes) -> float:
    """How often (%) a scene is closer to its caption than to the colour-swapped twin; a tie (an encoder that
    cannot tell the two apart, up to rounding) counts half, as a coin toss would."""
    v = evaluate.embed(model.embed_image, scenes.images)
    captions = swapped_captions(scenes)
    t = evaluate.embed(model.embed_text, captions.flatten(0, 1)).view(len(scenes), 2, -1)
    gap = torch.einsum("nd,ncd->nc", v, t).diff(dim=1).squeeze(1)  # twin minus true
    tie = gap.abs() <= 1e-5
    return 100.0 * ((gap < 0) & ~tie).float().add(0.5 * tie.float()).mean().item()


def text_table(models: dict[str, je.JointEmbedding], scenes: Scenes, seed: int = 0) -> pd.DataFrame:
    """Per caption encoder (rows): text -> image recall@1/5/10 (a fraction; each test caption queries the test
    scenes; a hit is a scene with the same four attributes) and, as accuracies in %, the 30-way zero-shot question
    on a held-out pair's slot and on a random slot of seen-combination scenes, and the choice between a caption and
    its colour-swapped twin (on scenes whose two colours differ)."""
    rows = {}
    test, held = scenes.test, scenes.heldout
    random_slot = torch.randint(2, (len(test),), generator=torch.Generator().manual_seed(seed))
    differ = (test.colour[:, 0] != test.colour[:, 1]).cpu()
    for name, model in models.items():
        v, t = evaluate.embed(model.embed_image, test.images), evaluate.embed(model.embed_text, test.tokens)
        row = {f"text->image recall@{k}": evaluate.recall_at_k(t @ v.T, test.kind, test.kind, k)
               for k in (1, 5, 10)}
        seen, unseen = compositional(model, test, random_slot), compositional(model, held, _heldout_slot(held))
        row["30-way, seen combinations"] = seen["accuracy"]
        row["30-way, held-out combinations"] = unseen["accuracy"]
        row["held-out: digit right"], row["held-out: colour right"] = unseen["digit right"], unseen["colour right"]
        twins = test.__class__(*(getattr(test, f)[differ.to(test.images.device)] for f in
                                 ("images", "tokens", "colour", "digit", "source")))
        row["caption vs colour-swapped twin"] = twin_accuracy(model, twins)
        rows[name] = row
    table = pd.DataFrame(rows).T
    table.attrs["chance"] = {"text->image recall@1": 1 / 900, "30-way (%)": 100 / CHOICES, "twin (%)": 50.0}
    return table


def example_captions() -> list[str]:
    """Captions to search the test scenes with: two with a held-out pair, one with seen pairs only."""
    return ["a red 3 left of a green 5", "a blue 9 right of a green 7", "a green 2 left of a blue 4"]


@torch.no_grad()
def show_text_retrieval(model: je.JointEmbedding, scenes: Scenes, captions: list[str], top: int = 5):
    """For each caption (a string), the ``top`` test scenes (seen and held-out combinations together) the model
    ranks first."""
    images = torch.cat([scenes.test.images, scenes.heldout.images])
    v = evaluate.embed(model.embed_image, images)
    t = evaluate.embed(model.embed_text, torch.stack([cs.encode(c) for c in captions]).to(images.device))
    best = (t @ v.T).topk(top, dim=1).indices
    fig, axes = plt.subplots(len(captions), top, figsize=(1.9 * top, 1.2 * len(captions)), squeeze=False)
    for r, caption in enumerate(captions):
        for c, i in enumerate(best[r].tolist()):
            axes[r, c].imshow(images[i].cpu().permute(1, 2, 0).numpy())
            axes[r, c].set(xticks=[], yticks=[])
            if c == 0:
                axes[r, c].set_title(f'"{caption}"', fontsize=8, loc="left")
    return show.finish(fig)
