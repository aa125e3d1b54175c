"""Speech to image (after Speech2Vid: Chung, Jamaludin & Zisserman, "You said that?", BMVC 2017).

Speech2Vid takes a still image of a face (the identity) and a short segment of speech, and draws that face saying
it. Three parts: an audio encoder, an identity encoder and an image decoder fed with the two embeddings joined; the
decoder also receives skip connections from the identity encoder, so the details of the face need not squeeze
through the small joint embedding. It is trained with an L1 loss against the real video frame: no labels, the
video supplies the pairs (the frame that goes with this sound, of this person).

The course's version, at laptop scale (``course_lib.lessons.speech_to_image`` runs it):

    audio   a spoken digit d, 1 x 32 x 32 log-mel spectrogram   --audio encoder-->    a (8w, the pooled conv5)
    identity  an MNIST image of some digit e in a "writer" style  --identity encoder--> conv1, conv2, conv5 maps
    decoder  [conv5 map ; a broadcast]  3x3 -> 7x7 -> 14x14 -> 28x28, with the conv2 / conv1 maps concatenated on
             the way up when ``skips`` (U-Net style), sigmoid output
    target  an image of digit d written in the same style;  loss = mean |output - target|  (L1)

MNIST has no writer ids, so the "writer" is a style we control and apply to both the identity and the target image:
stroke thickness (dilation or erosion), slant (a shear) and size (a zoom). What the network can learn from a pair is
then exactly: the digit from the sound, the style from the identity image.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.audio import pair_by_digit
from course_lib.augment import affine_warp
from course_lib.nets import Backbone

THICKNESS = (-1, 0, 1)  # strokes eroded by one pixel, left, or dilated by one pixel (3 x 3 structuring element)
SLANT = 0.45  # shears drawn from [-SLANT, SLANT]: a point moves right by SLANT times its height above the centre
SCALE = (0.8, 1.1)  # zooms drawn from this range


@dataclass
class Style:
    """One "writer" per image: stroke thickness (-1, 0, 1), slant (shear) and scale, each a tensor of N."""

    thickness: torch.Tensor
    slant: torch.Tensor
    scale: torch.Tensor

    def __len__(self) -> int:
        return len(self.thickness)

    def __getitem__(self, index) -> Style:
        return Style(self.thickness[index], self.slant[index], self.scale[index])


def random_styles(n: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu") -> Style:
    """``n`` writers drawn uniformly: a thickness from ``THICKNESS``, a slant in +-``SLANT``, a scale in ``SCALE``."""
    thickness = torch.tensor(THICKNESS)[torch.randint(len(THICKNESS), (n,), generator=generator)]
    slant = (2 * torch.rand(n, generator=generator) - 1) * SLANT
    scale = SCALE[0] + (SCALE[1] - SCALE[0]) * torch.rand(n, generator=generator)
    return Style(thickness.to(device), slant.to(device), scale.to(device))


def dilate(x: torch.Tensor) -> torch.Tensor:
    """Thicker strokes: each pixel takes the brightest value of its 3 x 3 neighbourhood (grey-level dilation)."""
    return F.max_pool2d(x, 3, stride=1, padding=1)


def erode(x: torch.Tensor) -> torch.Tensor:
    """Thinner strokes: each pixel takes the darkest value of its 3 x 3 neighbourhood (grey-level erosion).

    A plain erosion wipes out MNIST's thin strokes; mixing it half and half with the image keeps them visible.
    """
    return 0.5 * (x - F.max_pool2d(-x, 3, stride=1, padding=1))


def apply_style(images: torch.Tensor, style: Style) -> torch.Tensor:
    """N x 1 x H x W images in [0, 1] written in N styles: thickness first, then one affine warp (slant, scale)."""
    if len(style) != len(images):
        raise ValueError(f"{len(images)} images but {len(style)} styles")
    t = style.thickness.view(-1, 1, 1, 1).to(images.device)
    x = torch.where(t > 0, dilate(images), torch.where(t < 0, erode(images), images))
    zoom, shear = style.scale.to(images), style.slant.to(images)
    # affine_grid maps output to input coordinates, y pointing down: x_in = (x_out + shear * y_out) / zoom,
    # y_in = y_out / zoom, so a positive shear moves the top of the digit right
    zero = torch.zeros_like(zoom)
    theta = torch.stack([torch.stack([1 / zoom, shear / zoom, zero], 1),
                         torch.stack([zero, 1 / zoom, zero], 1)], 1)
    return affine_warp(x, theta).clamp(0, 1)


def ink(images: torch.Tensor) -> torch.Tensor:
    """Mean brightness of each image: how much ink the strokes hold (thicker and bigger digits hold more)."""
    return images.flatten(1).mean(1)


def slant(images: torch.Tensor) -> torch.Tensor:
    """The shear of each image's ink from its second moments, mu_xy / mu_yy (the classic MNIST deskew estimate).

    Positive when the top leans right, in the units of ``Style.slant`` (pixel rows grow downwards, hence the sign).
    """
    n, _, h, w = images.shape
    mass = images.flatten(1).clamp_min(0) + 1e-8
    ys = torch.arange(h, device=images.device, dtype=images.dtype).repeat_interleave(w)
    xs = torch.arange(w, device=images.device, dtype=images.dtype).repeat(h)
    total = mass.sum(1, keepdim=True)
    mx, my = (mass * xs).sum(1, keepdim=True) / total, (mass * ys).sum(1, keepdim=True) / total
    mu_xy = (mass * (xs - mx) * (ys - my)).sum(1) / total[:, 0]
    mu_yy = (mass * (ys - my) ** 2).sum(1) / total[:, 0]
    return -mu_xy / mu_yy


# --- the network ------------------------------------------------------------------------------------------------

def _up(c_in: int, c_out: int, side: int) -> nn.Sequential:
    """Upsample to ``side`` then convolve (no transposed convolutions: no checkerboard artefacts)."""
    return nn.Sequential(nn.Upsample(size=side), nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class Speech2Image(nn.Module):
    """Audio encoder + identity encoder + image decoder; ``skips`` adds the identity encoder's maps to the decoder.

    ``forward(spectrogram, identity)``: N x 1 x 32 x 32 and N x 1 x 28 x 28 -> N x 1 x 28 x 28 in [0, 1].
    Both encoders are the course's ``nets.Backbone`` (a spectrogram is a one-channel picture too).
    """

    def __init__(self, width: int = 16, skips: bool = True):
        super().__init__()
        self.skips = skips
        self.audio = Backbone(1, width)
        self.identity = Backbone(1, width)
        c1, c2, c5 = (self.identity.channels[s] for s in ("conv1", "conv2", "conv5"))
        extra = (c2, c1) if skips else (0, 0)
        self.up7 = _up(c5 + self.audio.out_dim, 4 * width, 7)
        self.up14 = _up(4 * width + extra[0], 2 * width, 14)
        self.up28 = _up(2 * width + extra[1], width, 28)
        self.out = nn.Conv2d(width, 1, 3, padding=1)

    def forward(self, spectrogram: torch.Tensor, identity: torch.Tensor) -> torch.Tensor:
        a = self.audio.embed(spectrogram)  # the audio embedding: what was said
        maps = self.identity.features(identity, ("conv1", "conv2", "conv5"))  # who writes it: 14x14, 7x7, 3x3
        v = maps["conv5"]
        joint = torch.cat([v, a[:, :, None, None].expand(-1, -1, *v.shape[-2:])], 1)  # the joint embedding
        x = self.up7(joint)
        x = self.up14(torch.cat([x, maps["conv2"]], 1) if self.skips else x)
        x = self.up28(torch.cat([x, maps["conv1"]], 1) if self.skips else x)
        return torch.sigmoid(self.out(x))


def l1_loss(model: Speech2Image, batch) -> torch.Tensor:
    """The Speech2Vid loss: mean absolute difference between the drawn image and the target, for ``train.fit``."""
    spectrogram, identity, target = batch
    return F.l1_loss(model(spectrogram, identity), target)


def l1_optimum(candidates: torch.Tensor, style: Style) -> torch.Tensor:
    """The best single answer under the L1 loss when the target is any one of ``candidates`` (K x 1 x H x W), each
    written in the same ``style`` (one writer): their per-pixel median, 1 x H x W.

    A recording of "3" and a writer's identity image say *that* a 3 in this hand is wanted, not *which* 3, so every
    3 in that hand is an equally likely target. For one pixel, the value c that minimises the expected |c - target| is
    the median of the targets' values there: a smooth, average-looking digit, not any one writer's stroke.
    """
    k = len(candidates)
    one = Style(*(part.reshape(1).expand(k) for part in (style.thickness, style.slant, style.scale)))
    return apply_style(candidates, one).median(dim=0).values


# --- the pairs ----------------------------------------------------------------------------------------------------

def make_pairs(spoken_digits: torch.Tensor, images: torch.Tensor, image_digits: torch.Tensor,
               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, Style]:
    """(identity images, target images, their style) for recordings of ``spoken_digits``.

    identity = a random image (any digit) in a random style s; target = a random image of the spoken digit in the
    same style s (the digit pairing, ``audio.pair_by_digit``, is the only use of labels). Two different images:
    the identity shows *how* this writer writes, never *what* to write.
    """
    n = len(spoken_digits)
    style = random_styles(n, generator, images.device)
    identity = torch.randint(len(images), (n,), generator=generator).to(images.device)
    target = pair_by_digit(spoken_digits.cpu(), image_digits.cpu(), generator).to(images.device)
    return apply_style(images[identity], style), apply_style(images[target], style), style


def pair_batches(spectrograms: torch.Tensor, spoken_digits: torch.Tensor, images: torch.Tensor,
                 image_digits: torch.Tensor, batch_size: int, seed: int = 0):
    """An endless stream of (spectrogram, identity, target) batches with fresh images and styles every time."""
    generator = torch.Generator().manual_seed(seed)
    n = len(spectrograms)
    while True:
        order = torch.randperm(n, generator=generator)
        for start in range(0, n - batch_size + 1, batch_size):
            idx = order[start:start + batch_size]
            identity, target, _ = make_pairs(spoken_digits[idx], images, image_digits, generator)
            yield spectrograms[idx.to(spectrograms.device)], identity, target
