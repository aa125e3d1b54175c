"""A check the tests share: code that draws random numbers of its own (a checker, a picture, a seeded network)
leaves the caller's torch random stream, the notebook's, where it was."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def left_alone(seed: int = 5) -> Iterator[None]:
    """Fails unless the code in the ``with`` block leaves torch's global random stream as it found it."""
    torch.manual_seed(seed)
    expected = torch.rand(3)
    torch.manual_seed(seed)
    yield
    assert torch.equal(torch.rand(3), expected), "the code drew from the caller's random stream"
