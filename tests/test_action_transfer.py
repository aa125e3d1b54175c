import dataclasses

import pytest
import torch

from course_lib import action_transfer as at
from course_lib import checks, config
from course_lib.data import make_moving_digits
from course_lib.data.clips import VideoClip
from course_lib.data.moving_digits import ACTIONS

TINY = dataclasses.replace(config.PROFILES["ci"], video_width=4, tuple_batch=4, tuple_steps=2, tuple_seconds=30,
                           digit_steps=2)


@pytest.fixture
def clips(rectangles):
    return make_moving_digits(rectangles(12, 28), torch.arange(12) % 3, n=24, frames=16, size=32)


@pytest.fixture
def short_clips(rectangles):
    """Two clips per action, four frames each: enough for the probes, which draw no tuples."""
    return make_moving_digits(rectangles(6, 28), torch.arange(6) % 3, n=12, frames=4, size=32)


def test_heads_turn_frame_codes_into_one_vector_per_clip():
    codes = torch.randn(5, 4, 3)
    assert at.frames_and_differences(codes).shape == (5, 4 * 3 + 3 * 3)
    assert at.frames_in_order(codes).shape == (5, 12)
    assert at.mean_of_frames(codes).shape == (5, 3)
    assert torch.equal(at.frames_and_differences(codes)[:, 12:15], (codes[:, 1] - codes[:, 0]).abs())
    assert at.PROTOCOL in at.HEADS


def test_clip_codes_are_one_code_per_frame(clips):
    backbone = at.initial_backbone(TINY, seed=0)
    codes = at.clip_codes(backbone, clips, batch_size=5)
    assert codes.shape == (24, 16, backbone.out_dim * 4)


def test_the_initial_backbone_is_the_same_for_the_same_seed():
    a, b = at.initial_backbone(TINY, 1), at.initial_backbone(TINY, 1)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_pretraining_starts_from_the_initial_backbone_and_changes_it(clips):
    start = at.initial_backbone(TINY, 0)
    tuned, net, history = at.pretrain_tuples(clips, TINY, seed=0, progress=False)
    assert net.backbone is tuned and len(history.step) >= 1
    assert not torch.equal(start.stages.conv1[0].weight, tuned.stages.conv1[0].weight)
    supervised, _ = at.pretrain_digits(clips, TINY, seed=0, progress=False)
    assert not torch.equal(start.stages.conv1[0].weight, supervised.stages.conv1[0].weight)


def test_action_table_has_a_row_per_backbone_and_a_column_per_head(short_clips):
    backbones = {"a": at.initial_backbone(TINY, 0), "b": at.initial_backbone(TINY, 1)}
    table = at.action_table(at.encode(backbones, short_clips, short_clips), short_clips, short_clips, per_class=1)
    assert list(table.index) == ["a", "b"] and list(table.columns) == list(at.HEADS)
    assert ((table >= 0) & (table <= 100)).all().all()


def test_pose_classes_are_the_cell_of_the_centre(clips):
    cells = at.pose_classes(clips)
    assert cells.shape == (24 * 16,) and cells.min() >= 0 and cells.max() <= 8
    clips.centre[0, 0] = torch.tensor([-0.9, 0.9])  # left (x), bottom (y)
    assert at.pose_classes(clips)[0] == 6


def test_pose_and_identity_probe_table(short_clips):
    encoded = at.encode({"random": at.initial_backbone(TINY, 0)}, short_clips, short_clips)
    table = at.pose_and_identity(encoded, short_clips, short_clips)
    assert table.shape == (1, 2)


def test_pictures_are_figures(clips):
    assert at.show_tuples(clips.videos, n=2).axes
    assert at.show_clips(clips, frames=3).axes
    frames = torch.rand(50, 3, 12, 16)
    assert at.show_real_tuples(VideoClip(frames, 25.0, "fake", "noise"), window=10).axes


def test_checkers_accept_right_answers_and_hint_at_wrong_ones():
    at.check_negatives(lambda i: (i[:, [1, 0, 3]], i[:, [1, 4, 3]]))
    with pytest.raises(checks.NotYet, match="middle"):
        at.check_negatives(lambda i: (i[:, [0, 1, 3]], i[:, [1, 4, 3]]))
    at.check_motion_energy(lambda v: (v[:, 1:] - v[:, :-1]).abs().mean(dim=(2, 3, 4)))
    with pytest.raises(checks.NotYet, match="average"):
        at.check_motion_energy(lambda v: (v[:, 1:] - v[:, :-1]).mean(dim=(2, 3, 4)))


def test_every_action_has_a_name():
    assert len(ACTIONS) == 6


def test_shortcut_table_has_tuple_accuracy_per_clip_set_and_action_accuracy(clips):
    _, net, _ = at.pretrain_tuples(clips, TINY, seed=0, progress=False)
    table = at.shortcut_table({"net": net}, {"these": clips}, clips, clips, per_class=1)
    assert list(table.columns) == ["tuple accuracy: these", "action accuracy"] and list(table.index) == ["net"]
