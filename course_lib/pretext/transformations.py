"""Learning by transforming images: the transformation between two views of one image supervises.

Simulated egomotion (Agrawal, Carreira & Malik, "Learning to See by Moving", ICCV 2015). A moving agent
knows how it moved; on still images we simulate it: from x make the pair (T0(x), T(T0(x))), T0 a random
starting pose and T a random translation (tx, ty) and rotation theta, the motion to predict. The first view is
moved too: were it always the upright, centred digit, T could be read off the second view alone (how far the
digit sits from the centre, how much it leans), without comparing the two. A siamese network embeds both views
with one backbone, the two codes are concatenated, and one classifier per parameter predicts its bin (the paper
bins each parameter and classifies, which beats regressing it). Loss: the sum of the three cross-entropies.

Exemplar / instance discrimination (Dosovitskiy et al., NIPS 2014) turned the question around: every image
is its own class, and the network must recognise it under random transformations, i.e. be *invariant* to
them instead of predicting them. Its modern heir is contrastive learning (Chen, Kornblith, Norouzi & Hinton,
"SimCLR", ICML 2020): two random views t(x), t'(x) of each image in a batch of N, an encoder h = f(x) and a
projection head z = g(h); each view must pick out its partner among the other 2N - 1 views by cosine
similarity (the NT-Xent loss). Only h, the backbone's embedding, is kept for downstream tasks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.augment import affine_warp, random_affine
from course_lib.nets import Backbone, mlp

# ---------------------------------------------------------------- simulated egomotion (Agrawal et al. 2015)


@dataclass(frozen=True)
class EgomotionBins:
    """How T is drawn and classified: tx, ty whole pixels in [-3, 3] (7 classes each), theta uniform in
    [-30, 30] degrees in 20 bins of 3 degrees. These follow the paper's MNIST experiment as recalled, not yet
    checked against its text: confirm them before a notebook quotes them as the paper's."""

    max_shift: int = 3
    max_degrees: float = 30.0
    rotation_bins: int = 20

    @property
    def classes(self) -> dict[str, int]:
        """Number of bins of each parameter: the output size of its head."""
        return {"tx": 2 * self.max_shift + 1, "ty": 2 * self.max_shift + 1, "rotation": self.rotation_bins}

    def rotation_class(self, degrees: torch.Tensor) -> torch.Tensor:
        bin_width = 2 * self.max_degrees / self.rotation_bins
        return ((degrees + self.max_degrees) / bin_width).floor().long().clamp(0, self.rotation_bins - 1)

    def draw(self, n: int, device: torch.device | str | None = None):
        """One random T per image: shift (n, 2) in pixels, degrees (n,), and the class of each parameter."""
        shift = torch.randint(-self.max_shift, self.max_shift + 1, (n, 2), device=device)
        degrees = (2 * torch.rand(n, device=device) - 1) * self.max_degrees
        classes = {"tx": shift[:, 0] + self.max_shift, "ty": shift[:, 1] + self.max_shift,
                   "rotation": self.rotation_class(degrees)}
        return shift.float(), degrees, classes


def motion_matrix(shift: torch.Tensor, degrees: torch.Tensor, side: int) -> torch.Tensor:
    """The (n, 3, 3) matrices of T in grid units (the image spans [-1, 1]): rotate about the centre by ``degrees``
    (clockwise on screen, as the y axis points down), then move by ``shift`` = (tx, ty) pixels (right, down).
    Matrices compose: ``motion_matrix(T) @ motion_matrix(T0)`` is T0 first, then T."""
    angle = torch.deg2rad(degrees)
    cos, sin, zero, one = torch.cos(angle), torch.sin(angle), torch.zeros_like(angle), torch.ones_like(angle)
    t = shift * 2 / side  # pixels -> grid units
    return torch.stack([torch.stack([cos, -sin, t[:, 0]], 1), torch.stack([sin, cos, t[:, 1]], 1),
                        torch.stack([zero, zero, one], 1)], 1)


def warp_by(x: torch.Tensor, forward: torch.Tensor) -> torch.Tensor:
    """Move every square image by its (3, 3) ``forward`` matrix (``motion_matrix``), resampling it once."""
    # affine_warp asks the other way round: for each output pixel, where in x to read
    return affine_warp(x, torch.linalg.inv(forward)[:, :2])


def warp(x: torch.Tensor, shift: torch.Tensor, degrees: torch.Tensor) -> torch.Tensor:
    """T(x) for square images: rotate each image about its centre by its ``degrees`` (clockwise on screen,
    as the y axis points down), then move it by its ``shift`` = (tx, ty) pixels (right, down)."""
    return warp_by(x, motion_matrix(shift, degrees, x.shape[-1]))


def egomotion_pairs(x: torch.Tensor, bins: EgomotionBins | None = None, move_first: bool = True):
    """The pairs maker: (T0(x), T(T0(x)), the classes of T's parameters), a fresh T0 and T per image.

    T0, the first view's pose, is drawn like T; ``move_first=False`` keeps the first view at the untransformed
    image (the easier task, open to a shortcut: T can then be read off the second view alone). The second view
    is x resampled once by the composed motion, not twice, so it is no blurrier than the first.
    """
    bins = bins or EgomotionBins()
    shift, degrees, classes = bins.draw(len(x), x.device)
    motion = motion_matrix(shift, degrees, x.shape[-1])
    if not move_first:
        return x, warp_by(x, motion), classes
    start_shift, start_degrees, _ = bins.draw(len(x), x.device)
    start = motion_matrix(start_shift, start_degrees, x.shape[-1])
    return warp_by(x, start), warp_by(x, motion @ start), classes


class EgomotionNet(nn.Module):
    """Siamese backbone + a shared hidden layer + one classifier per parameter of T."""

    code_side = 3  # conv5 is pooled to 3x3, not 1x1: a global average would discard *where* things are

    def __init__(self, backbone: Backbone, bins: EgomotionBins | None = None, hidden: int = 256):
        super().__init__()
        self.backbone = backbone
        self.bins = bins or EgomotionBins()
        pair_dim = 2 * backbone.out_dim * self.code_side**2
        self.trunk = nn.Sequential(nn.Linear(pair_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True))
        self.heads = nn.ModuleDict({name: nn.Linear(hidden, k) for name, k in self.bins.classes.items()})

    @classmethod
    def code(cls, fmaps: torch.Tensor) -> torch.Tensor:
        """What the head sees of one view: its conv5 map pooled to ``code_side`` x ``code_side``, flattened."""
        return F.adaptive_avg_pool2d(fmaps, cls.code_side).flatten(1)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logits of every parameter's bin, {"tx": (n, 7), "ty": (n, 7), "rotation": (n, 20)} by default."""
        fmaps = self.backbone(torch.cat([x1, x2]))  # one pass: both views go through the same weights
        codes = self.code(fmaps)
        pair = self.trunk(torch.cat(codes.chunk(2), dim=1))
        return {name: head(pair) for name, head in self.heads.items()}


def egomotion_loss(model: EgomotionNet, batch: tuple[torch.Tensor, ...], move_first: bool = True):
    """For ``train.fit``: sum of the per-parameter cross-entropies; metrics: each parameter's bin accuracy."""
    x1, x2, classes = egomotion_pairs(batch[0], model.bins, move_first)
    logits = model(x1, x2)
    loss = sum(F.cross_entropy(logits[name], classes[name]) for name in logits)
    return loss, {f"acc_{name}": (logits[name].argmax(1) == classes[name]).float().mean() for name in logits}


# ---------------------------------------------------------------- contrastive learning (SimCLR, Chen et al. 2020)


def _erase_random_boxes(x: torch.Tensor, p: float = 0.5, sides: tuple[float, float] = (0.2, 0.5)) -> torch.Tensor:
    """Random erasing (Zhong et al. 2020), per image: with probability p, zero one box of random size and place
    (its sides a fraction ``sides`` of the image's)."""
    n, _, h, w = x.shape
    draw = lambda: torch.rand(n, 1, 1, 1, device=x.device)  # noqa: E731  uniform in [0, 1), one per image
    rows = (torch.arange(h, device=x.device).view(1, 1, h, 1) + 0.5) / h  # pixel centres in [0, 1]
    cols = (torch.arange(w, device=x.device).view(1, 1, 1, w) + 0.5) / w
    half_h, half_w = [(sides[0] + (sides[1] - sides[0]) * draw()) / 2 for _ in range(2)]
    box = ((rows - draw()).abs() < half_h) & ((cols - draw()).abs() < half_w) & (draw() < p)
    return x.masked_fill(box, 0.0)


def digit_view(x: torch.Tensor, degrees: float = 15.0, translate: float = 0.1,
               scale: tuple[float, float] = (0.8, 1.2), erase: float = 0.5) -> torch.Tensor:
    """One random view t(x) of every digit: a random affine map, then (with probability ``erase``) a box erased.

    SimCLR's two essential augmentations are random resized crops and colour distortion. On centred grey
    digits a random affine map plays the crop (shift, zoom, a little rotation) and random erasing removes
    part of the evidence, as colour dropping does. Every image gets its own draws. Supervised baselines get
    the same augmentation, so that a comparison measures the pretext task, not the augmentation.
    """
    return _erase_random_boxes(random_affine(x, degrees, translate, scale), p=erase)


def simclr_views(x: torch.Tensor, **view_options) -> tuple[torch.Tensor, torch.Tensor]:
    """Two independent random views t(x), t'(x) of every image (see ``digit_view``)."""
    return digit_view(x, **view_options), digit_view(x, **view_options)


def _contrastive_logits(z1: torch.Tensor, z2: torch.Tensor, temperature: float):
    """The 2N x 2N matrix sim(z_i, z_k) / tau, with k = i masked out, and the index of each row's positive."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)  # on the unit sphere, so z_i . z_k is the cosine similarity
    logits = (z @ z.T / temperature).masked_fill(torch.eye(len(z), dtype=torch.bool, device=z.device),
                                                 float("-inf"))  # a view is not its own negative
    positives = torch.arange(len(z), device=z.device).roll(len(z1))  # row i of z1 pairs with row i of z2
    return logits, positives


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.3) -> torch.Tensor:
    """NT-Xent: the mean over all 2N views of -log softmax of the positive among the other 2N - 1 views.

    ``z1[i]`` and ``z2[i]`` are the projections of two views of image i. (SimCLR used tau = 0.5 on CIFAR-10 and
    0.1 with huge batches; 0.3 worked well on MNIST at batch 256 in this course's measurements.)
    """
    logits, positives = _contrastive_logits(z1, z2, temperature)
    return F.cross_entropy(logits, positives)


class SimCLR(nn.Module):
    """Encoder f (the backbone's pooled embedding h) + projection head g; ``forward`` returns z = g(f(x))."""

    def __init__(self, backbone: Backbone, projection_dim: int = 128, hidden: int | None = None):
        super().__init__()
        self.backbone = backbone
        self.projector = mlp(backbone.out_dim, hidden or backbone.out_dim, projection_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.projector(self.backbone.embed(x))


def simclr_loss(model: SimCLR, batch: tuple[torch.Tensor, ...], temperature: float = 0.3,
                views: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]] = simclr_views,
                contrast: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor] = nt_xent):
    """For ``train.fit``: NT-Xent on two fresh views of the batch's images; metric ``acc``: how often a view's
    most similar other view is its partner (chance 1 / (2N - 1)).

    ``contrast(z1, z2, temperature)`` is the loss (notebook 05 trains with a student's own NT-Xent through it)."""
    view1, view2 = views(batch[0])
    z1, z2 = model(torch.cat([view1, view2])).chunk(2)  # one pass: BatchNorm sees both views together
    with torch.no_grad():
        logits, positives = _contrastive_logits(z1, z2, temperature)
    return contrast(z1, z2, temperature), {"acc": (logits.argmax(1) == positives).float().mean()}
