"""Autoencoders: the whole image is the target (Vincent, Larochelle, Bengio & Manzagol, ICML 2008).

The encoder f is the shared backbone (x -> conv5 map y), the decoder g maps y back to a reconstruction
z = sigmoid(g(y)) in [0, 1], and training minimises the reconstruction cross-entropy L_H(x, z).

The denoising autoencoder corrupts the input first, x~ ~ q_D(x~ | x), and still reconstructs the clean x:
z = sigmoid(g(f(x~))). Its corruption is *masking noise*: a fixed fraction nu of the pixels is forced to 0.
Copying the input is then no longer a solution, so even an overcomplete code (conv5 has more numbers than
the image has pixels) has to learn how images hang together to fill the holes.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.nets import Backbone, Decoder


class AutoEncoder(nn.Module):
    """Backbone (encoder f) + ``nets.Decoder`` (decoder g); ``forward`` returns the reconstruction z in [0, 1]."""

    def __init__(self, backbone: Backbone, image_shape: tuple[int, int, int] = (1, 28, 28)):
        super().__init__()
        channels, height, width = image_shape
        if height != width:
            raise ValueError(f"square images only, got {height}x{width}")
        self.backbone = backbone
        # the decoder mirrors the backbone, widths included
        self.decoder = Decoder(backbone.out_dim, channels, height, width=backbone.channels["conv1"])

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """g(f(x)) before the sigmoid: the loss takes these, for numerical stability."""
        return self.decoder(self.backbone(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(x))


def mask_noise(x: torch.Tensor, fraction: float) -> torch.Tensor:
    """q_D(x~ | x): set ``fraction`` (nu) of the pixels of every image to 0, chosen at random per image.

    Like the paper, exactly round(nu * d) pixels per image (all channels of a chosen pixel).
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    n, _, h, w = x.shape
    n_masked = round(fraction * h * w)
    chosen = torch.rand(n, h * w, device=x.device).argsort(dim=1)[:, :n_masked]  # without replacement
    keep = torch.ones(n, h * w, device=x.device, dtype=x.dtype).scatter(1, chosen, 0.0)
    return x * keep.view(n, 1, h, w)


def cross_entropy(logits: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """L_H(x, z) = -mean(x log z + (1 - x) log(1 - z)) with z = sigmoid(logits), computed from the logits (stable)."""
    return F.binary_cross_entropy_with_logits(logits, clean)


def reconstruction_loss(model: AutoEncoder, batch: tuple[torch.Tensor, ...], noise: float = 0.0,
                        corrupt: Callable[[torch.Tensor], torch.Tensor] | None = None,
                        criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = cross_entropy):
    """L_H(x, z) for ``train.fit``: ``noise`` = 0 is the plain autoencoder, > 0 the denoising one.

    Use as ``functools.partial(reconstruction_loss, noise=0.25)``. ``corrupt`` replaces masking noise by any other
    corruption q_D (e.g. ``augment.random_affine``, or a student's own masking noise). ``criterion(logits, clean)``
    is the loss of the logits against the clean image (notebook 04 plugs a student's own in). Labels in the batch,
    if any, are ignored.
    """
    x = batch[0]
    x_tilde = corrupt(x) if corrupt is not None else mask_noise(x, noise)
    logits = model.logits(x_tilde)  # the clean x is always the target
    loss = criterion(logits, x)
    return loss, {"mse": F.mse_loss(torch.sigmoid(logits.detach()), x)}
