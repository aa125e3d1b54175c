import pytest
import torch

from course_lib.data import make_moving_digits
from course_lib.data.moving_digits import ACTIONS, MOTIONS, OTHER_MOTIONS, SHORTCUT, render


@pytest.fixture
def digits(rectangles):
    images = rectangles(6, 28)
    return images, torch.arange(6)


def test_clips_have_the_asked_shape_and_show_a_bright_digit_on_a_dim_background(digits):
    clips = make_moving_digits(*digits, n=12, frames=5, size=32)
    assert clips.videos.shape == (12, 5, 1, 32, 32) and clips.videos.dtype == torch.float32
    clean = make_moving_digits(*digits, n=12, frames=5, size=32, noise=0.0).frames.flatten(1)
    assert (clean.amax(1) >= 0.9).all()  # the ink (1), dimmed by the flicker at most 10 %
    assert (clean.median(1).values <= 0.35 * 1.1).all()  # most of a frame is background, at most 0.35
    assert clips.frames.shape == (60, 1, 32, 32)
    assert clips.centre.shape == (12, 5, 2) and clips.angle.shape == clips.scale.shape == (12, 5)


def test_the_same_seed_gives_the_same_clips_and_another_seed_others(digits):
    a, b = make_moving_digits(*digits, n=6, seed=3), make_moving_digits(*digits, n=6, seed=3)
    assert torch.equal(a.videos, b.videos) and torch.equal(a.centre, b.centre)
    assert not torch.equal(a.videos, make_moving_digits(*digits, n=6, seed=4).videos)


def test_every_action_gets_as_many_clips_and_digits_cycle(digits):
    clips = make_moving_digits(*digits, n=24)
    assert torch.bincount(clips.motion, minlength=len(ACTIONS)).tolist() == [4] * len(ACTIONS)
    assert clips.digit.tolist() == [i % 6 for i in range(24)]


def test_every_motion_moves_the_digit_and_stays_on_the_canvas(digits):
    clips = make_moving_digits(*digits, n=len(MOTIONS) * 2, motions=MOTIONS, noise=0.0)  # only the digit changes
    change = (clips.videos[:, 1:] - clips.videos[:, :-1]).abs().flatten(1).mean(1)
    assert (change > 1e-3).all()
    assert clips.centre.abs().max() <= 0.8


def test_in_place_motions_keep_the_centre_and_rotate_turns(digits):
    clips = make_moving_digits(*digits, n=12)
    for name in ("rotate", "zoom"):
        still = clips.motion == ACTIONS.index(name)
        assert torch.allclose(clips.centre[still], clips.centre[still][:, :1].expand_as(clips.centre[still]))
    turned = clips.angle[clips.motion == ACTIONS.index("rotate")]
    assert ((turned[:, -1] - turned[:, 0]).abs() >= torch.pi - 1e-4).all()


def test_glide_has_constant_velocity(digits):
    clips = make_moving_digits(*digits, n=4, motions=(SHORTCUT,))
    steps = clips.centre[:, 1:] - clips.centre[:, :-1]
    assert torch.allclose(steps, steps[:, :1].expand_as(steps), atol=1e-6)


def test_the_other_motions_are_none_of_the_actions_and_spiral_out_shake_and_sway_in_place(digits):
    assert not set(OTHER_MOTIONS) & {*ACTIONS, SHORTCUT} and MOTIONS[:len(ACTIONS)] == ACTIONS
    clips = make_moving_digits(*digits, n=9, motions=OTHER_MOTIONS)
    assert clips.motion.tolist() == [MOTIONS.index(name) for name in OTHER_MOTIONS] * 3
    spiral, shake, sway = (clips.motion == MOTIONS.index(name) for name in OTHER_MOTIONS)
    distance = (clips.centre[spiral] - clips.centre[spiral].mean(1, keepdim=True)).norm(dim=-1)
    assert (distance[:, -4:].mean(1) > distance[:, :4].mean(1)).all()  # out from the middle
    assert ((clips.centre[shake] - clips.centre[shake][:, :1]).norm(dim=-1) <= 0.121).all()  # a small jitter
    assert torch.allclose(clips.centre[sway], clips.centre[sway][:, :1].expand_as(clips.centre[sway]))
    tilt = clips.angle[sway] - clips.angle[sway].mean(1, keepdim=True)
    assert (tilt.max(1).values > 0.2).all() and (tilt.min(1).values < -0.2).all()  # back and forth


def test_render_puts_the_digit_where_the_centre_says():
    digit = torch.zeros(1, 1, 28, 28)
    digit[..., 12:16, 12:16] = 1.0  # a square at the middle of the digit image
    centre = torch.tensor([[[0.0, 0.0], [0.5, -0.5]]])  # frame 2: right (x) and up (y) of the middle
    frames = render(digit, centre, torch.zeros(1, 2), torch.ones(1, 2), torch.zeros(1, 1, 48, 48))
    rows, cols = torch.meshgrid(torch.arange(48.0), torch.arange(48.0), indexing="ij")
    for t, (x, y) in enumerate(centre[0].tolist()):
        ink = frames[0, t, 0]
        col, row = (ink * cols).sum() / ink.sum(), (ink * rows).sum() / ink.sum()
        assert col == pytest.approx((x + 1) * 24 - 0.5, abs=0.6) and row == pytest.approx((y + 1) * 24 - 0.5, abs=0.6)


def test_render_turns_and_scales_the_digit():
    digit = torch.zeros(1, 1, 28, 28)
    digit[..., 13:15, 4:24] = 1.0  # a horizontal bar
    angle, scale = torch.tensor([[0.0, torch.pi / 2, 0.0]]), torch.tensor([[1.0, 1.0, 0.5]])
    frames = render(digit, torch.zeros(1, 3, 2), angle, scale, torch.zeros(1, 1, 48, 48))[0, :, 0]
    rows, cols = torch.meshgrid(torch.arange(48.0), torch.arange(48.0), indexing="ij")

    def spread(ink, at):  # standard deviation of the ink along one axis
        mean = (ink * at).sum() / ink.sum()
        return ((ink * (at - mean) ** 2).sum() / ink.sum()).sqrt()

    flat, turned, small = frames
    assert spread(flat, cols) > 3 * spread(flat, rows)  # lying
    assert spread(turned, rows) > 3 * spread(turned, cols)  # a quarter turn: standing
    assert small.sum() / flat.sum() == pytest.approx(0.25, abs=0.05)  # half the size: a quarter of the ink


@pytest.mark.parametrize("bad", [dict(motions=("jump",)), dict(motions=()), dict(n=0), dict(frames=1)])
def test_bad_arguments_are_refused(digits, bad):
    options = dict(n=6) | bad
    with pytest.raises(ValueError):
        make_moving_digits(*digits, **options)


def test_images_must_be_single_channel(digits):
    with pytest.raises(ValueError, match="1 x H x W"):
        make_moving_digits(torch.rand(2, 3, 28, 28), torch.arange(2), n=2)


def test_the_camera_adds_noise_that_changes_from_frame_to_frame(digits):
    clean = make_moving_digits(*digits, n=6, noise=0.0, seed=5)
    noisy = make_moving_digits(*digits, n=6, noise=0.1, seed=5)
    grain = noisy.videos - clean.videos
    assert 0.02 < grain.abs().mean() < 0.15
    assert not torch.allclose(grain[:, 0], grain[:, 1])
