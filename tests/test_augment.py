import torch

from course_lib import augment


def test_random_affine_keeps_shape_and_draws_per_image():
    torch.manual_seed(0)
    x = torch.zeros(8, 1, 28, 28)
    x[:, :, 10:18, 10:18] = 1.0
    out = augment.random_affine(x, degrees=30, translate=0.2)
    assert out.shape == x.shape
    assert not torch.allclose(out[0], out[1])  # same input, different draws


def test_identity_affine_is_identity():
    x = torch.rand(4, 3, 16, 16)
    out = augment.random_affine(x, degrees=0, translate=0, scale=(1.0, 1.0))
    assert torch.allclose(out, x, atol=1e-5)


def test_crop_flip_keeps_pixels_from_the_image():
    torch.manual_seed(0)
    x = torch.rand(6, 3, 32, 32)
    out = augment.random_crop_flip(x, pad=4)
    assert out.shape == x.shape
    # the centre of each output (within the pad) is a shifted, maybe flipped, window of the input
    assert torch.isin(out[0, 0, 10:20, 10:20], x[0, 0]).all()


def test_crop_flip_without_pad_only_flips():
    x = torch.rand(16, 1, 8, 8)
    out = augment.random_crop_flip(x, pad=0)
    same = (out == x).flatten(1).all(1)
    flipped = (out == x.flip(-1)).flatten(1).all(1)
    assert (same | flipped).all()


def test_affine_warp_identity_returns_the_batch():
    x = torch.rand(3, 2, 8, 8)
    theta = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]).expand(3, 2, 3)
    assert torch.allclose(augment.affine_warp(x, theta), x, atol=1e-5)


def test_affine_warp_moves_each_image_by_its_own_matrix():
    x = torch.zeros(2, 1, 8, 8)
    x[:, :, 3, 3] = 1.0
    theta = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],  # stays
                          [[1.0, 0.0, -0.5], [0.0, 1.0, 0.0]]])  # reads half a width to the left: moves right by 2 px
    out = augment.affine_warp(x, theta)
    assert out[0, 0, 3, 3] == 1.0 and out[1, 0, 3, 5] == 1.0 and out[1, 0, 3, 3] == 0.0


def test_affine_warp_can_change_the_output_size():
    out = augment.affine_warp(torch.rand(2, 1, 8, 8), torch.eye(2, 3).expand(2, 2, 3), size=(4, 6))
    assert out.shape == (2, 1, 4, 6)
