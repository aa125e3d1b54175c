"""Relative position (context prediction): where is the second patch relative to the first?

Doersch, Gupta & Efros, "Unsupervised Visual Representation Learning by Context Prediction", ICCV 2015.
From an unlabelled image take a patch and one of its eight neighbours on a 3x3 grid; show the network both and
ask which of the eight it is:

    0 1 2
    3 . 4        "." is the first patch, the numbers the label y of the second one (an 8-way classification)
    5 6 7

Doing well seems to require knowing what object parts look like and how they sit together ("the ear is above
the eye"), so the features should transfer to recognition. The paper's recipe against the *shortcuts* that
solve the task without any of that:

* a **gap** between the patches (half a patch in the paper), so that lines and textures cannot simply be
  continued across the border;
* **jitter**: each patch moves by a few pixels, so that the grid's exact alignment gives nothing away;
* **blank-patch rejection** (our version: pairs in which a patch is nearly uniform are dropped, because their
  position cannot be predicted from their content);
* **colour dropping** against **chromatic aberration**: a lens focuses colours at slightly different
  magnifications, so green and magenta fringes point away from the image centre, and the network can read off a
  patch's *absolute* position from them. Keeping one colour channel per patch (the others replaced by faint noise)
  removes the cue. (The paper's other fix, projection, shifts green and magenta towards grey.)

The network is a **late-fusion siamese** net: both patches go through the *same* backbone (the paper's AlexNet
up to fc6), their codes are concatenated, and only then does a small MLP (fc7, fc8) compare them. The patches
meet late, so the backbone must describe each patch on its own.

Images here are CIFAR-10 photos upsampled from 32 to 64 pixels; patches are 16 pixels, the gap 6 and the
jitter +-2 (the paper: 96-pixel patches, a 48-pixel gap, up to 7 pixels of jitter).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.augment import affine_warp
from course_lib.nets import Backbone, mlp

# (row, col) of the second patch relative to the first, in reading order: the index is the label y
NEIGHBOURS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))
CENTRE = (1, 1)  # the first patch's cell on the 3x3 grid


@dataclass(frozen=True)
class PatchGrid:
    """Where the 3x3 grid of patches lies in an image of side ``image_side`` (after upsampling)."""

    image_side: int = 64
    patch: int = 16
    gap: int = 6
    jitter: int = 2  # each patch moves by up to +-jitter pixels, independently in x and y
    min_std: float = 0.03  # blank-patch rejection: a patch with less pixel spread than this is "blank"

    def __post_init__(self):
        if self.patch < 8:
            raise ValueError(f"patch={self.patch}: the backbone pools three times, so patches need >= 8 pixels")
        if self.gap < 0 or self.jitter < 0:
            raise ValueError(f"gap ({self.gap}) and jitter ({self.jitter}) must not be negative")
        if self.margin < self.jitter:
            raise ValueError(f"a 3x3 grid of {self.patch}-pixel patches with a {self.gap}-pixel gap and "
                             f"{self.jitter} pixels of jitter does not fit in {self.image_side} pixels")

    @property
    def pitch(self) -> int:
        """Distance between the corners of neighbouring cells."""
        return self.patch + self.gap

    @property
    def margin(self) -> int:
        """Pixels between the image border and the grid (the room the outer patches have to jitter)."""
        return (self.image_side - 3 * self.patch - 2 * self.gap) // 2

    def corners(self, cells: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Top-left pixel (row, col) of a jittered patch in each (row, col) cell: (n, 2) -> (n, 2) long. The jitter
        is drawn from ``generator`` (default: torch's global stream), independently per patch and per axis."""
        nominal = self.margin + cells.long() * self.pitch
        return nominal + torch.randint(-self.jitter, self.jitter + 1, cells.shape, generator=generator,
                                       device=cells.device)


def upsample(x: torch.Tensor, side: int) -> torch.Tensor:
    """Images resized to ``side`` x ``side`` (bilinear, with antialiasing when shrinking)."""
    if x.shape[-1] == side and x.shape[-2] == side:
        return x
    return F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False, antialias=True)


def crop(x: torch.Tensor, corners: torch.Tensor, size: int) -> torch.Tensor:
    """One ``size`` x ``size`` patch per image, at its own top-left ``corners[i]`` = (row, col): one gather."""
    n, c = x.shape[:2]
    steps = torch.arange(size, device=x.device)
    rows = (corners[:, 0, None] + steps)[:, None, :, None]
    cols = (corners[:, 1, None] + steps)[:, None, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    channel = torch.arange(c, device=x.device)[None, :, None, None]
    return x[batch, channel, rows, cols]


def patch_pairs(x: torch.Tensor, grid: PatchGrid, generator: torch.Generator | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The pairs maker: (first patch, second patch, y) per image, y the second patch's position (0 ... 7).

    ``x`` must already be ``grid.image_side`` pixels wide (``upsample``); y is drawn per image. Every random number
    (the label, each patch's jitter) comes from ``generator`` (default: torch's global stream).
    """
    if x.shape[-1] != grid.image_side or x.shape[-2] != grid.image_side:
        raise ValueError(f"images are {tuple(x.shape[-2:])}, the grid expects {grid.image_side} x "
                         f"{grid.image_side}: upsample them first")
    n = len(x)
    y = torch.randint(0, len(NEIGHBOURS), (n,), generator=generator, device=x.device)
    centre = torch.tensor(CENTRE, device=x.device).expand(n, 2)
    neighbour = centre + torch.tensor(NEIGHBOURS, device=x.device)[y]
    first = crop(x, grid.corners(centre, generator), grid.patch)
    return first, crop(x, grid.corners(neighbour, generator), grid.patch), y


def cell_patches(x: torch.Tensor, grid: PatchGrid) -> tuple[torch.Tensor, torch.Tensor]:
    """One patch per image from a random cell of the 3x3 grid, and its cell (0 ... 8 in reading order).

    What an absolute-position probe reads: can a patch's code tell where in the image it was?
    """
    cell = torch.randint(0, 9, (len(x),), device=x.device)
    cells = torch.stack([cell // 3, cell % 3], dim=1)
    return crop(x, grid.corners(cells), grid.patch), cell


def informative(patches: torch.Tensor, min_std: float) -> torch.Tensor:
    """True for patches with content: the spread of their pixel values is at least ``min_std``."""
    return patches.flatten(1).std(dim=1) >= min_std


def drop_colour(patches: torch.Tensor, noise: float = 0.01) -> torch.Tensor:
    """Keep one random colour channel per patch; replace the other two by Gaussian noise of ``noise`` times the
    kept channel's standard deviation (the paper: about 1/100). No channel can be compared with another, so
    chromatic aberration cannot be seen."""
    n, c = patches.shape[:2]
    kept = torch.randint(0, c, (n,), device=patches.device)
    rows = torch.arange(n, device=patches.device)
    signal = patches[rows, kept]
    scale = noise * signal.flatten(1).std(dim=1)
    out = torch.randn_like(patches) * scale[:, None, None, None]
    out[rows, kept] = signal
    return out


def chromatic_aberration(x: torch.Tensor, strength: float = 0.05) -> torch.Tensor:
    """A synthetic lens fault: the green channel magnified by (1 + strength) about the image centre.

    Red and blue stay put, so every edge gets green / magenta fringes that grow with the distance from the
    centre and point away from it: a patch's fringes tell where in the photo it was. (Real lateral chromatic
    aberration is the same effect, a few pixels wide in the paper's photos; here it is exaggerated so that a
    small network finds it in seconds.)
    """
    if x.shape[1] != 3:
        raise ValueError(f"chromatic aberration needs colour images (3 channels), got {x.shape[1]}")
    zoom = torch.tensor([[1 / (1 + strength), 0.0, 0.0], [0.0, 1 / (1 + strength), 0.0]], device=x.device)
    green = affine_warp(x[:, 1:2], zoom.expand(len(x), 2, 3), padding_mode="border")  # reads nearer the centre
    return torch.cat([x[:, :1], green, x[:, 2:]], dim=1)


class RelativePositionNet(nn.Module):
    """Late fusion: each patch -> the shared backbone -> its code; [code1, code2] -> MLP -> 8 logits."""

    def __init__(self, backbone: Backbone, grid: PatchGrid | None = None, hidden: int = 256):
        super().__init__()
        self.backbone = backbone
        self.grid = grid or PatchGrid()
        self.code_side = self.grid.patch // 8  # conv5 keeps its layout (the paper's fc6 sees the whole pool5 map)
        code_dim = backbone.out_dim * self.code_side**2
        self.fuse = mlp(2 * code_dim, hidden, len(NEIGHBOURS))  # the paper's fc7 + fc8 on the concatenated fc6

    def code(self, patches: torch.Tensor) -> torch.Tensor:
        """One patch's description, computed without looking at the other patch."""
        return F.adaptive_avg_pool2d(self.backbone(patches), self.code_side).flatten(1)

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        codes = self.code(torch.cat([first, second]))  # one pass: both patches through the same weights
        return self.fuse(torch.cat(codes.chunk(2), dim=1))


def relative_position_loss(model: RelativePositionNet, batch: tuple[torch.Tensor, ...], colour_dropping: bool = True,
                           lens: Callable[[torch.Tensor], torch.Tensor] | None = None,
                           pairs: Callable[[torch.Tensor, PatchGrid], tuple[torch.Tensor, ...]] = patch_pairs):
    """For ``train.fit``: cross-entropy of the 8-way position; metrics: accuracy and the fraction of pairs kept.

    ``lens`` (e.g. ``chromatic_aberration``) is what the camera did to the photos before we got them. ``pairs``
    makes the (first, second, y) pairs from the photos and the grid: ``patch_pairs``, or a student's own sampler
    (notebook 02's exercise).
    """
    grid = model.grid
    photos = upsample(batch[0], grid.image_side)
    if lens is not None:
        photos = lens(photos)
    first, second, y = pairs(photos, grid)
    keep = informative(first, grid.min_std) & informative(second, grid.min_std)
    first, second, y = first[keep], second[keep], y[keep]
    if colour_dropping:
        first, second = drop_colour(first), drop_colour(second)
    logits = model(first, second)
    return F.cross_entropy(logits, y), {"acc": (logits.argmax(1) == y).float().mean(), "kept": keep.float().mean()}
