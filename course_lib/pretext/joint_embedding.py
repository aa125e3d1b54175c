"""Joint embedding spaces (CLIP-style): two towers, one space, a symmetric InfoNCE loss (notebook 11).

The withheld part of the data is again *which item of one modality goes with which item of the other*: an image with
its soundtrack, a picture with its caption. Unlike a correspondence classifier (``audio_visual``), the model here has
no fusion head at all: each tower ends in a projection and an L2 normalisation, and a pair's score is the cosine of
its two embeddings times a learnable scale (1 / temperature):

    image  --image tower--> projection --> unit vector v_i
    sound / caption --other tower--> projection --> unit vector a_j
    logits  L_ij = exp(t) * <v_i, a_j>          (B x B for a batch of B pairs; t is learnt, as in CLIP)
    loss    = ( CE(rows of L, own index) + CE(columns of L, own index) ) / 2

Row i of L asks "which of the batch's sounds is image i's?", column j asks "which image is sound j's?": both
directions, hence *symmetric*. Every other pair of the batch is a negative, whatever it shows (the learner does not
know). Because the score is a cosine, the space is shared by construction: a nearest neighbour of another modality
is one matrix product away, which is what retrieval and zero-shot classification read.

Radford et al., "Learning Transferable Visual Models From Natural Language Supervision" (CLIP), ICML 2021; the loss
is the InfoNCE of van den Oord et al. 2018, made symmetric as in Zhang et al. 2020 (ConVIRT).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.nets import mlp

EMBED = 64  # size of the shared space
INITIAL_TEMPERATURE = 0.07  # CLIP's initial temperature: logit scale 1 / 0.07 ~ 14.3
MAX_SCALE = 100.0  # CLIP clips the learnt scale at 100 so that training stays stable


def symmetric_infonce(image: torch.Tensor, other: torch.Tensor, log_scale: torch.Tensor | float) -> torch.Tensor:
    """The symmetric InfoNCE (CLIP) loss of a batch of B pairs: ``image`` and ``other`` are B x D embeddings, row i
    of one going with row i of the other; ``log_scale`` is t, the log of the logit scale 1 / temperature.

    The embeddings are L2-normalised here (a cosine, whatever the towers return); the logits exp(t) <v_i, a_j> are
    read along rows (image -> other) and along columns (other -> image), and the two cross-entropies averaged."""
    image, other = F.normalize(image, dim=1), F.normalize(other, dim=1)
    logits = torch.as_tensor(log_scale).exp() * image @ other.T
    own = torch.arange(len(image), device=image.device)
    return (F.cross_entropy(logits, own) + F.cross_entropy(logits.T, own)) / 2


class JointEmbedding(nn.Module):
    """Two towers, each with a projection head and an L2 normalisation into one ``dim``-dimensional space, and a
    learnable log logit scale t (CLIP: initial temperature 0.07, scale clipped at ``MAX_SCALE``).

    ``image_tower`` maps images to ``image_dim`` features and ``other_tower`` sounds or captions to ``other_dim``
    features (a ``nets.Backbone``'s ``embed`` and ``out_dim``, or a ``nets.TextEncoder``). ``embed_audio`` and
    ``embed_text`` are two names of ``embed_other``, so that code written for a sound model reads on."""

    def __init__(self, image_tower: nn.Module, other_tower: nn.Module, image_dim: int, other_dim: int,
                 dim: int = EMBED, hidden: int = 128):
        super().__init__()
        self.image_tower, self.other_tower = image_tower, other_tower
        self.image_proj, self.other_proj = mlp(image_dim, hidden, dim), mlp(other_dim, hidden, dim)
        self.log_scale = nn.Parameter(torch.tensor(math.log(1 / INITIAL_TEMPERATURE)))

    @property
    def audio_tower(self) -> nn.Module:  # the name 08's probes and pictures use
        return self.other_tower

    @property
    def scale(self) -> torch.Tensor:
        """exp(t), clipped: the inverse temperature the logits are multiplied by."""
        return self.log_scale.exp().clamp(max=MAX_SCALE)

    def _features(self, tower: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return tower.embed(x) if hasattr(tower, "embed") else tower(x)

    def embed_image(self, images: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.image_proj(self._features(self.image_tower, images)), dim=1)

    def embed_other(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.other_proj(self._features(self.other_tower, x)), dim=1)

    embed_audio = embed_other
    embed_text = embed_other

    def fuse(self, v: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """The score of embedded pairs (v_i, a_i): their scaled cosine (``audio_visual.pair_scores`` reads it)."""
        return self.scale * (v * a).sum(1)


def clip_loss(model: JointEmbedding, batch,
              infonce: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor] = symmetric_infonce):
    """``symmetric_infonce`` of a batch of (images, sounds or captions) pairs, with the model's own learnt
    temperature (clipped as ``scale`` is); ``acc``: how often an image's best partner in the batch is its own.

    ``infonce(image, other, log_scale)`` is the loss (notebook 11 trains with a student's own through it)."""
    images, others = batch
    v, a = model.embed_image(images), model.embed_other(others)
    log_scale = model.log_scale.clamp(max=math.log(MAX_SCALE))
    with torch.no_grad():
        hits = ((v @ a.T).argmax(1) == torch.arange(len(v), device=v.device)).float().mean()
    return infonce(v, a, log_scale), {"acc": hits, "temperature": 1 / log_scale.exp()}


def pair_batches(images: torch.Tensor, partners: torch.Tensor, partner_of: torch.Tensor | None, batch_size: int,
                 seed: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless (images, partners) batches of ``batch_size`` different pairs: image i with ``partners[partner_of[i]]``
    (its soundtrack, as ``audio_visual.simulate_videos`` fixed it) or, with ``partner_of=None``, with
    ``partners[i]`` (its caption). Only the pairing is read, never a label."""
    generator = torch.Generator().manual_seed(seed)
    device = images.device
    index = None if partner_of is None else partner_of.to(device)
    while True:
        pairs = torch.randperm(len(images), generator=generator)[:batch_size].to(device)
        yield images[pairs], partners[pairs if index is None else index[pairs]]


@torch.no_grad()
def prompts(embeddings: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """One "prompt" per class: the normalised mean of the class's embeddings (n_classes x D). CLIP's prompts are the
    embeddings of sentences such as "a photo of a dog"; ours are the mean of a few recordings saying "three"."""
    labels = labels.to(embeddings.device)
    means = torch.stack([embeddings[labels == c].mean(0) for c in range(n_classes)])
    return F.normalize(means, dim=1)


@torch.no_grad()
def zero_shot(embeddings: torch.Tensor, class_prompts: torch.Tensor) -> torch.Tensor:
    """Zero-shot classification: the class of each embedding's most similar prompt (cosine)."""
    return (F.normalize(embeddings, dim=1) @ class_prompts.T).argmax(1)
