"""Localising the object that sounds (Arandjelović & Zisserman, "Objects that Sound", ECCV 2018).

The withheld part of the data is *which sound goes with which picture*. The AVOL-Net is trained only on audio-visual
correspondence (does this sound belong to this picture?), yet its architecture makes it say *where*:

    image  (1 x 64 x 64) --image tower--> V: D x 16 x 16    (one embedding per location: the tower keeps a map)
    sound  (1 x 32 x 32 log-mel) --audio tower--> a: D      (one embedding per recording)
    similarity map  S_hw = cos(a, V_hw)                     (16 x 16: how much each location looks like the sound)
    correspondence  p = sigmoid(alpha * max_hw S_hw + beta) (max-pool over locations: multiple-instance learning)

The max is the trick: the loss only sees the best-matching location, so to say "yes" for a matching pair the image
tower must put the sounding object's embedding where the object is, and the similarity map becomes a heat map.

Our scenes are canvases of two (or more) different MNIST digits, and the sound is a real recording of one of them
(the Free Spoken Digit Dataset): a video of several objects, one of which sounds.

* ``make_canvases`` pastes digits at random non-overlapping places and returns their boxes and centres;
* ``AVOLNet`` is the two-tower model; ``similarity`` gives every (recording, canvas) similarity map at once;
* the paper's, label-free losses see a batch of videos (spectrograms, frames) and nothing else: recording i goes with
  frame i and with no other frame of the batch, even one that shows the spoken digit (the learner cannot know).
  ``video_loss`` is binary cross-entropy over the B x B matrix with diagonal-only targets, ``contrastive_loss`` the
  symmetric InfoNCE over the same matrix; every binary loss weighs its positive and negative pairs half each
  (``balanced_bce``);
* the weakly labelled losses are also told the digits (spoken, and on each canvas), a label the paper did not have:
  ``all_pairs_loss`` marks a pair positive when the spoken digit is on the canvas, over the B x B matrix;
  ``one_negative_loss`` scores only each canvas's own recording and one other;
* ``pointing`` reads the arg-max of a map as the place the model points at; ``point`` gives both readings of a
  recording with its own canvas from the embeddings: the max over locations (the score) and the arg-max (where).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.audio import pair_by_digit
from course_lib.nets import Backbone

SIDE = 64  # canvas side in pixels
DIGIT = 28  # an MNIST digit's side: its box on the canvas
MAP_STRIDE = 4  # canvas pixels per similarity-map cell: conv1 and conv2 each pool by 2 -> 16 x 16 on 64 x 64
EMBED = 64  # D, the size of the shared embedding space (the paper: 128)


# ---------------------------------------------------------------- the scenes

@dataclass
class Canvases:
    """Canvases (N x 1 x side x side in [0, 1]), what they show and where.

    ``digits`` N x k (the k digits on each canvas, all different), ``boxes`` N x k x 4 as (x0, y0, x1, y1) in pixels,
    x1 and y1 exclusive (the pasted 28 x 28 square of each digit; boxes never overlap), ``sources`` N x k (the index
    of each pasted image among the images the canvases were made from: whose soundtrack a canvas can have).
    """

    x: torch.Tensor
    digits: torch.Tensor
    boxes: torch.Tensor
    sources: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.x)

    @property
    def centres(self) -> torch.Tensor:
        """N x k x 2: the (x, y) centre of every digit's box."""
        return (self.boxes[..., :2] + self.boxes[..., 2:]).float() / 2

    def to(self, device) -> Canvases:
        sources = None if self.sources is None else self.sources.to(device)
        return Canvases(self.x.to(device), self.digits.to(device), self.boxes.to(device), sources)


def _places(n: int, k: int, side: int, size: int, generator: torch.Generator | None) -> torch.Tensor:
    """N x k x 2 top-left corners of ``size`` squares inside ``side``, no two overlapping.

    Squares are placed one after the other, each redrawn until it clears the ones before it; a canvas whose last
    squares find no room is started again.
    """
    def draw(m: int) -> torch.Tensor:
        return torch.randint(side - size + 1, (m, 2), generator=generator)

    corners = torch.zeros(n, k, 2, dtype=torch.int64)
    todo = torch.arange(n)
    for _ in range(100):
        stuck = torch.zeros(len(todo), dtype=torch.bool)
        for slot in range(k):
            corners[todo, slot] = draw(len(todo))
            for _ in range(200):
                gap = (corners[todo, slot, None] - corners[todo, :slot]).abs()  # T x slot x 2
                clash = (gap < size).all(-1).any(-1) & ~stuck  # overlapping an earlier square in both x and y
                if not clash.any():
                    break
                corners[todo[clash], slot] = draw(int(clash.sum()))
            stuck |= clash
        if not stuck.any():
            return corners
        todo = todo[stuck]
    raise ValueError(f"could not place {k} squares of {size} pixels on a {side} x {side} canvas without overlap")


def make_canvases(images: torch.Tensor, labels: torch.Tensor, n: int, k: int = 2, side: int = SIDE,
                  generator: torch.Generator | None = None) -> Canvases:
    """``n`` canvases, each with ``k`` different digits (images N x 1 x 28 x 28 with their labels) at random places.

    Digits on one canvas are different, so that "the spoken digit" names exactly one of them.
    """
    if not 1 <= k <= 10:  # three 28 x 28 digits fit a 64 x 64 canvas easily; four only just (``_places`` says so)
        raise ValueError(f"a canvas holds 1 to 10 different digits, got k={k}")
    images, labels = images.cpu(), labels.cpu()
    size = images.shape[-1]
    digits = torch.rand(n, 10, generator=generator).argsort(dim=1)[:, :k]  # k different classes per canvas
    which = pair_by_digit(digits.flatten(), labels, generator).view_as(digits)  # an image of each digit
    corners = _places(n, k, side, size, generator)  # (x0, y0)
    x = torch.zeros(n, 1, side, side)
    offsets = torch.arange(size)
    rows_n = torch.arange(n)[:, None, None]
    for slot in range(k):
        rows = (corners[:, slot, 1, None] + offsets)[:, :, None]  # N x size x 1
        cols = (corners[:, slot, 0, None] + offsets)[:, None, :]  # N x 1 x size
        x[rows_n, 0, rows, cols] = images[which[:, slot], 0]  # boxes never overlap: plain assignment
    boxes = torch.cat([corners, corners + size], dim=-1)
    return Canvases(x, digits, boxes, which)


def spoken_slot(n: int, k: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """For each canvas, which of its k digits the recording names (uniform)."""
    return torch.randint(k, (n,), generator=generator)


def correspondence(spoken: torch.Tensor, digits: torch.Tensor) -> torch.Tensor:
    """The B_audio x B_canvas target matrix: 1 where recording i's digit is on canvas j."""
    return (digits[None, :, :] == spoken[:, None, None]).any(-1).float()


# ---------------------------------------------------------------- the network

class AVOLNet(nn.Module):
    """Two towers into one space, D = ``embed``; the image tower keeps a 16 x 16 map (see the module docstring).

    Image tower: backbone stages conv1 ... conv3 (64 x 64 -> 16 x 16, 4w channels), ``context`` 3 x 3 convolutions
    and a 1 x 1 convolution to D, so every location gets an embedding. Audio tower: the whole backbone on the log-mel
    spectrogram, globally pooled, and a linear layer to D. Both end in a BatchNorm without scale and are
    L2-normalised, so the similarity is a cosine in [-1, 1]; a learnt scale alpha and bias beta (the paper's
    calibration) turn the max over locations into a correspondence logit.
    """

    def __init__(self, width: int = 16, embed: int = EMBED, context: int = 1):
        super().__init__()
        self.image_backbone = Backbone(1, width)
        c = self.image_backbone.channels["conv3"]
        # conv3 sees 18 x 18 pixels, less than a digit's 20 x 20 of ink: ``context`` more 3 x 3 convolutions (no
        # pooling) widen what each location sees by 8 pixels each (26 x 26 with one), so that one location can take
        # in a whole digit. Measured on lab seed 2: pointing 71.6 % without, 77.5 % with one, 76.2 % with two.
        self.image_context = nn.Sequential(*[nn.Sequential(nn.Conv2d(c, c, 3, padding=1, bias=False),
                                                           nn.BatchNorm2d(c), nn.ReLU(inplace=True))
                                             for _ in range(context)])
        # the projections end in BatchNorm (no affine): it removes the direction that every embedding shares at
        # random init (ReLU features are all positive), so cosines start spread out instead of all near 1
        self.image_projection = nn.Sequential(nn.Conv2d(c, embed, 1), nn.BatchNorm2d(embed, affine=False))
        self.audio_backbone = Backbone(1, width)
        self.audio_projection = nn.Sequential(nn.Linear(self.audio_backbone.out_dim, embed),
                                              nn.BatchNorm1d(embed, affine=False))
        self.scale = nn.Parameter(torch.tensor(10.0))  # alpha: cosines live in [-1, 1], logits need a wider range
        self.bias = nn.Parameter(torch.tensor(-5.0))  # beta: most pairs do not correspond

    def image_map(self, canvases: torch.Tensor) -> torch.Tensor:
        """V: N x D x 16 x 16, unit length at every location."""
        features = self.image_context(self.image_backbone(canvases, "conv3"))
        return F.normalize(self.image_projection(features), dim=1)

    def audio_embedding(self, spectrograms: torch.Tensor) -> torch.Tensor:
        """a: N x D, unit length."""
        return F.normalize(self.audio_projection(self.audio_backbone.embed(spectrograms)), dim=1)

    def forward(self, spectrograms: torch.Tensor, canvases: torch.Tensor) -> torch.Tensor:
        """Similarity maps of every recording with every canvas: B_audio x B_canvas x 16 x 16."""
        return similarity(self.audio_embedding(spectrograms), self.image_map(canvases))

    def logits(self, maps: torch.Tensor) -> torch.Tensor:
        """alpha * max over locations + beta: the correspondence score of each pair."""
        return self.scale * maps.flatten(2).amax(-1) + self.bias


def similarity(audio: torch.Tensor, image_map: torch.Tensor) -> torch.Tensor:
    """S[i, j, h, w] = <a_i, V_j,hw>: every recording against every location of every canvas."""
    return torch.einsum("ad,cdhw->achw", audio, image_map)


def paired_maps(model: AVOLNet, spectrograms: torch.Tensor, canvases: torch.Tensor) -> torch.Tensor:
    """The similarity map of recording i with canvas i only (N x 16 x 16): the heat maps that are shown."""
    a, v = model.audio_embedding(spectrograms), model.image_map(canvases)
    return torch.einsum("nd,ndhw->nhw", a, v)


# ---------------------------------------------------------------- the losses

# Label-free, the paper's setting: a batch is (spectrograms, frames) of B videos, and recording i belongs to frame i
# and to no other -- every other frame of the batch is a negative, whatever it shows (the learner does not know).

def _own(n: int, device) -> torch.Tensor:
    return torch.eye(n, dtype=torch.bool, device=device)


def balanced_bce(logits: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Binary cross-entropy with the positive pairs and the negative pairs weighted half each, whatever their share
    (a batch has B positives among B x B pairs, or one in five when told the digits), and the balanced accuracy:
    the mean of the hit rates on positives and on negatives, 50 % for "always no". Without the balance, a loss on
    mostly negative pairs is minimised early by answering "no" to everything."""
    positive = target > 0.5
    losses = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    right = ((logits > 0) == positive).float()

    def half(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:  # a mean that is 0 over no pairs
        return (values * mask).sum() / mask.sum().clamp(min=1)

    loss = (half(losses, positive) + half(losses, ~positive)) / 2
    return loss, {"acc": (half(right, positive) + half(right, ~positive)) / 2}


def video_loss(model: AVOLNet, batch):
    """Diagonal-only binary cross-entropy over the B x B matrix of a batch of videos (spectrograms, frames): the
    B own pairs positive, the B (B - 1) others negative, each half weighted half (``balanced_bce``). For
    ``train.fit``."""
    spectrograms, frames = batch
    logits = model.logits(model(spectrograms, frames))
    return balanced_bce(logits, _own(len(frames), logits.device).float())


def contrastive_loss(model: AVOLNet, batch):
    """Symmetric InfoNCE over the B x B matrix of a batch of videos (spectrograms, frames): each recording must pick
    its own frame among the batch's frames, and each frame its own recording (cross-entropy of alpha * max_hw S
    along rows and along columns; beta cancels). A frame that happens to show the spoken digit only competes, it is
    not pushed away as hard as a binary "no" pushes. ``acc``: how often a recording's best frame is its own."""
    spectrograms, frames = batch
    scores = model.scale * model(spectrograms, frames).flatten(2).amax(-1)
    own = torch.arange(len(frames), device=scores.device)
    loss = (F.cross_entropy(scores, own) + F.cross_entropy(scores.T, own)) / 2
    return loss, {"acc": (scores.argmax(1) == own).float().mean()}


# Weakly labelled: a batch is (spectrograms, canvases, spoken digits, digits on each canvas), and the targets are
# read from the digits -- a label the paper did not have.

def all_pairs_loss(model: AVOLNet, batch):
    """Every recording against every canvas: binary cross-entropy over the B x B matrix, positive when the spoken
    digit is on the canvas (with 2 of 10 digits per canvas, about one pair in five), positives and negatives weighted
    half each (``balanced_bce``). Told which digits each canvas shows: not the paper's setting. For ``train.fit``."""
    spectrograms, canvases, spoken, digits = batch
    return balanced_bce(model.logits(model(spectrograms, canvases)), correspondence(spoken, digits))


def one_negative_loss(model: AVOLNet, batch):
    """The sparser sampling: each canvas with its own recording (positive) and the next canvas's recording, labelled
    by whether that digit is on the canvas (weak labels, as ``all_pairs_loss``). Two pairs per canvas instead of B,
    positives and negatives weighted half each as there (``balanced_bce``), so that only the sampling differs.
    For ``train.fit``."""
    spectrograms, canvases, spoken, digits = batch
    logits = model.logits(model(spectrograms, canvases))
    index = torch.arange(len(canvases), device=canvases.device)
    other = index.roll(1)
    target = correspondence(spoken, digits)
    return balanced_bce(torch.cat([logits[index, index], logits[other, index]]),
                        torch.cat([target[index, index], target[other, index]]))


# ---------------------------------------------------------------- pointing

def pointing(maps: torch.Tensor, stride: int = MAP_STRIDE) -> torch.Tensor:
    """The point each map points at: the centre (x, y) in canvas pixels of its arg-max cell (N x 2)."""
    n, h, w = maps.shape
    best = maps.flatten(1).argmax(1)
    return torch.stack([best % w, best // w], dim=1).float() * stride + stride / 2


def point(audio: torch.Tensor, image_map: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The AVOL-Net's two readings of each recording with its own canvas (``audio`` N x D, ``image_map`` N x D x H x
    W, row i with canvas i): the correspondence score, the **max over locations** of the similarity map (multiple-
    instance learning: the best-matching location speaks for the whole canvas; ``AVOLNet.logits`` scales and shifts
    it), and **where** that max is, the arg-max as (row, col) of the map (N x 2). Notebook 09's exercise; its
    pointing with it agrees with ``pointing`` on the same maps."""
    maps = torch.einsum("nd,ndhw->nhw", audio, image_map)
    score, best = maps.flatten(1).max(1)
    width = maps.shape[-1]
    return score, torch.stack([best // width, best % width], dim=1)


def inside(points: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """Whether each point (N x 2, x y) lies in its box (N x 4: x0, y0, x1, y1 with x1, y1 exclusive)."""
    x, y = points.unbind(-1)
    return (x >= boxes[:, 0]) & (x < boxes[:, 2]) & (y >= boxes[:, 1]) & (y < boxes[:, 3])
