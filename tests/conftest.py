import pytest
import torch


@pytest.fixture
def rectangles():
    """``rectangles(n, side)``: a white rectangle of random size and place on black in each of n images.

    Structure a few training steps can pick up (uniform noise has none), as tiny and fast as noise.
    """

    def make(n: int, side: int = 28) -> torch.Tensor:
        corner = torch.randint(2, side // 2 - 2, (n, 2))
        size = torch.randint(4, side // 2, (n, 2))
        r = torch.arange(side)
        rows = (r >= corner[:, :1]) & (r < corner[:, :1] + size[:, :1])
        cols = (r >= corner[:, 1:]) & (r < corner[:, 1:] + size[:, 1:])
        return (rows[:, :, None] & cols[:, None, :]).float()[:, None]

    return make
