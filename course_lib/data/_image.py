"""``ImageData``: the one shape every image loader returns, so notebooks never care where images came from."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import torch


@dataclass
class ImageData:
    """Images ``x`` (float32, N x C x H x W, in [0, 1]), labels ``y`` (int64, N) and the class names."""

    x: torch.Tensor
    y: torch.Tensor
    classes: list[str]

    def __len__(self) -> int:
        return len(self.y)

    def to(self, device: torch.device | str) -> ImageData:
        """The same data on ``device`` (training keeps whole datasets on the GPU: they are small)."""
        return ImageData(self.x.to(device), self.y.to(device), self.classes)

    def __repr__(self) -> str:  # the dataclass default would print every pixel
        return (f"ImageData(x={self.x.dtype}{list(self.x.shape)}, y={self.y.dtype}{list(self.y.shape)}, "
                f"classes={len(self.classes)}, device={self.x.device})")


def check_n(n: int | None, total: int, what: str) -> int:
    """How many samples to load: ``n``, or all ``total`` when None. Asking for more than exists is an error."""
    if n is None:
        return total
    if isinstance(n, numbers.Integral) and not isinstance(n, bool) and 1 <= n <= total:
        return int(n)
    raise ValueError(f"{what} has {total} samples; n must be an integer from 1 to {total}, got {n!r}")
