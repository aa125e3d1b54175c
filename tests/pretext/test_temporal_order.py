import pytest
import torch

from course_lib import nets, train
from course_lib.pretext import temporal_order as to


def numbered_videos(n: int = 3, t: int = 8, side: int = 4) -> torch.Tensor:
    """Clips whose frame t is filled with the value t: a gathered frame says which frame it was."""
    return torch.arange(float(t)).view(1, t, 1, 1, 1).expand(n, t, 1, side, side).clone()


def test_motion_energy_is_the_mean_absolute_step():
    videos = numbered_videos(2, 5)
    assert torch.equal(to.motion_energy(videos), torch.ones(2, 4))
    assert to.motion_energy(torch.zeros(1, 3, 1, 2, 2)).shape == (1, 2)


def test_windows_are_drawn_where_the_motion_is():
    videos = torch.zeros(4, 16, 1, 4, 4)
    videos[:, 12:] = 1.0  # the only change: between frames 11 and 12
    starts = to.high_motion_starts(videos, window=5, per_clip=50, generator=torch.Generator().manual_seed(0))
    assert starts.shape == (4, 50)
    assert ((starts >= 8) & (starts <= 11)).all()  # every window drawn spans the step 11 -> 12


def test_still_clips_get_uniform_windows():
    starts = to.high_motion_starts(torch.zeros(1, 16, 1, 2, 2), window=5, per_clip=400)
    assert set(starts.flatten().tolist()) == set(range(12))


@pytest.mark.parametrize("window", [4, 17])
def test_windows_that_cannot_hold_five_frames_are_refused(window):
    with pytest.raises(ValueError, match="5 frames"):
        to.high_motion_starts(torch.zeros(1, 16, 1, 2, 2), window)


def test_five_frames_are_increasing_and_inside_the_window():
    starts = torch.tensor([[0, 3], [7, 2]])
    idx = to.five_frames(starts, window=9, generator=torch.Generator().manual_seed(1))
    assert idx.shape == (2, 2, 5)
    assert (idx[..., 1:] > idx[..., :-1]).all()
    assert (idx[..., 0] >= starts).all() and (idx[..., -1] < starts + 9).all()


def test_outside_frames_keep_the_minimum_gap_from_the_ends():
    idx = to.five_frames(torch.zeros(5000, dtype=torch.long), window=12, generator=torch.Generator().manual_seed(0),
                         min_gap=3)
    a, b, c, d, e = idx.unbind(-1)
    assert ((b - a) >= 3).all() and ((e - d) >= 3).all()  # tau_min: no negative's frame sits next to b or d
    assert (b - a == 3).any() and (e - d == 3).any() and (e == 11).any()  # the gap is a minimum, not a fixed step
    assert (idx[:, 1:] > idx[:, :-1]).all() and idx.min() == 0 and idx.max() == 11


def test_the_tightest_window_leaves_one_choice_and_a_tighter_one_is_refused():
    idx = to.five_frames(torch.tensor([4]), window=9, min_gap=3)
    assert idx.tolist() == [[4, 7, 8, 9, 12]]  # a, then b c d after a gap of 3, then e after another
    with pytest.raises(ValueError, match="gaps of 3"):
        to.five_frames(torch.tensor([0]), window=8, min_gap=3)


def test_a_gap_of_one_allows_adjacent_frames():
    idx = to.five_frames(torch.zeros(2000, dtype=torch.long), window=6, generator=torch.Generator().manual_seed(0),
                         min_gap=1)
    assert ((idx[:, 1] - idx[:, 0]) == 1).any() and ((idx[:, 4] - idx[:, 3]) == 1).any()


def test_tuples_are_the_papers_positives_and_negatives():
    abcde = torch.tensor([0, 2, 4, 6, 8]).expand(4000, 5)
    tuples, labels = to.order_tuples(abcde, torch.Generator().manual_seed(0))
    allowed = {(2, 4, 6): 1, (6, 4, 2): 1, (2, 0, 6): 0, (6, 0, 2): 0, (2, 8, 6): 0, (6, 8, 2): 0}
    seen = {tuple(t): int(y) for t, y in zip(tuples.tolist(), labels.tolist(), strict=True)}
    assert seen == allowed  # all six kinds occur, each with its label
    assert labels.float().mean() == pytest.approx(to.POSITIVE_FRACTION, abs=0.03)
    assert (tuples[:, 0] == 2).float().mean() == pytest.approx(0.5, abs=0.03)  # half reversed


def test_pick_gathers_each_clips_frames_and_codes():
    videos = numbered_videos(3, 10)
    tuples, labels = to.draw_tuples(videos, per_clip=5, window=9)
    frames = to.pick(videos, tuples)
    assert frames.shape == (3, 5, 3, 1, 4, 4) and labels.shape == (3, 5)
    assert torch.equal(frames[..., 0, 0, 0], tuples.float())
    codes = torch.randn(3, 10, 7)
    assert torch.equal(to.pick(codes, tuples[:, 0])[1, 2], codes[1, tuples[1, 0, 2]])


def test_tuple_net_gives_two_logits_and_is_order_sensitive():
    torch.manual_seed(0)
    net = to.TupleNet(nets.Backbone(1, width=4), hidden=16).eval()
    frames = torch.rand(5, 3, 1, 48, 48)
    logits = net(frames)
    assert logits.shape == (5, 2)
    assert not torch.allclose(logits, net(frames[:, [1, 0, 2]]))
    assert to.frame_codes(net.backbone, frames).shape == (5, 3, net.backbone.out_dim * to.CODE_SIDE**2)


def test_tuple_loss_trains_and_reports_accuracy():
    torch.manual_seed(0)
    videos = torch.rand(8, 16, 1, 32, 32)
    net = to.TupleNet(nets.Backbone(1, width=4), hidden=16)
    history = train.fit(net, train.batches(videos, batch_size=4), to.tuple_loss, steps=3, progress=False,
                        log_every=1)
    assert len(history["loss"]) == 3 and 0 <= history.last("acc") <= 1


def test_tuple_verification_learns_the_order_of_frames_that_say_their_time():
    # frame t is filled with t / 16: whether the middle frame lies between the ends is in the pixels
    videos = numbered_videos(16, 16, side=8) / 16
    torch.manual_seed(0)
    net = to.TupleNet(nets.random_backbone(1, 4, seed=0), hidden=16)
    train.fit(net, train.batches(videos, batch_size=8), to.tuple_loss, steps=60, lr=5e-3, progress=False)
    assert to.tuple_accuracy(net, videos) > 70  # balanced: chance 50 %; measured 88 %


def test_tuple_accuracy_is_balanced_so_a_constant_answer_scores_50():
    class AlwaysShuffled(torch.nn.Module):
        def forward(self, frames):
            return torch.tensor([[1.0, 0.0]]).expand(len(frames), 2)

    assert to.tuple_accuracy(AlwaysShuffled(), numbered_videos(20, 16), repeats=2) == pytest.approx(50.0)


def test_the_loss_and_the_accuracy_use_the_sampler_they_are_given():
    calls = []

    def draw(videos, per_clip, window, generator=None, min_gap=to.MIN_GAP):
        calls.append((len(videos), per_clip, window, min_gap))
        return to.draw_tuples(videos, per_clip, window, generator, min_gap)

    torch.manual_seed(0)
    net = to.TupleNet(nets.Backbone(1, width=4), hidden=16)
    loss, metrics = to.tuple_loss(net, (torch.rand(3, 16, 1, 32, 32),), per_clip=5, min_gap=2, draw=draw)
    assert calls == [(3, 5, 12, 2)] and loss.requires_grad and set(metrics) == {"acc"}
    to.tuple_accuracy(net, numbered_videos(4, 16, side=32), repeats=2, draw=draw)
    assert calls[1:] == [(4, 1, 12, to.MIN_GAP)] * 2
