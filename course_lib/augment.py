"""Batched data augmentations: one tensor op for the whole batch, each image with its own random draw.

(torchvision's transforms draw one set of parameters per call, i.e. per batch; these draw per image, on
whatever device the batch lives.)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def affine_warp(x: torch.Tensor, theta: torch.Tensor, size: tuple[int, int] | None = None,
                padding_mode: str = "zeros") -> torch.Tensor:
    """Warp every image of a batch by its own 2 x 3 affine matrix (``theta``: N x 2 x 3, in ``affine_grid``'s
    convention: it maps each *output* pixel to where it reads in the input, coordinates in [-1, 1]).

    ``size`` (H, W) of the output, default the input's. One ``affine_grid`` + ``grid_sample`` for the whole batch.
    """
    n, c = x.shape[:2]
    grid = F.affine_grid(theta.to(x.dtype), [n, c, *(size or x.shape[-2:])], align_corners=False)
    return F.grid_sample(x, grid, padding_mode=padding_mode, align_corners=False)


def random_affine(x: torch.Tensor, degrees: float = 10.0, translate: float = 0.1,
                  scale: tuple[float, float] = (0.9, 1.1)) -> torch.Tensor:
    """Rotate by up to +-``degrees``, shift by up to ``translate`` of the size, rescale: per image."""
    n = x.shape[0]
    rand = lambda: torch.rand(n, device=x.device)  # noqa: E731  uniform in [0, 1), one per image
    angle = (2 * rand() - 1) * math.radians(degrees)
    zoom = scale[0] + (scale[1] - scale[0]) * rand()
    shift = (2 * torch.rand(n, 2, device=x.device) - 1) * 2 * translate  # grid units span [-1, 1]
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    return affine_warp(x, theta)


def random_crop_flip(x: torch.Tensor, pad: int = 4) -> torch.Tensor:
    """The standard CIFAR augmentation: pad, crop back at a random offset, flip half the images."""
    n, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    dy = torch.randint(0, 2 * pad + 1, (n,), device=x.device)
    dx = torch.randint(0, 2 * pad + 1, (n,), device=x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    channel = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    out = padded[batch, channel, rows, cols]
    flip = torch.rand(n, device=x.device) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(-1), out)
