import pytest
import torch

from course_lib import evaluate, nets, train
from course_lib.pretext import audio_visual as av


def _towers(width=2):
    torch.manual_seed(0)
    return nets.Backbone(1, width), nets.Backbone(1, width)


def _videos(n_images=60, n_sounds=40, side=28, sound_side=32):
    """Fake videos: image i is filled with i and recording r with 100 + r, so a batch tells which video and which
    recording every example came from; image i shows digit i % 10, recording r says r % 10."""
    images = torch.arange(n_images).float().view(-1, 1, 1, 1).expand(-1, 1, side, side).clone()
    sounds = (100 + torch.arange(n_sounds)).float().view(-1, 1, 1, 1).expand(-1, 1, sound_side, sound_side).clone()
    soundtrack = av.simulate_videos(torch.arange(n_images) % 10, torch.arange(n_sounds) % 10, seed=0)
    return images, soundtrack, sounds


def test_simulate_videos_give_every_image_one_recording_of_its_digit_drawn_once():
    image_digits, sound_digits = torch.arange(60) % 10, torch.arange(40) % 10
    soundtrack = av.simulate_videos(image_digits, sound_digits, seed=3)
    assert soundtrack.shape == (60,) and torch.equal(sound_digits[soundtrack], image_digits)
    assert torch.equal(soundtrack, av.simulate_videos(image_digits, sound_digits, seed=3))  # fixed for a seed
    assert not torch.equal(soundtrack, av.simulate_videos(image_digits, sound_digits, seed=4))


def test_correspondence_batches_pair_a_frame_with_its_own_soundtrack_or_another_videos():
    images, soundtrack, sounds = _videos()
    x, a, y = next(av.correspondence_batches(images, soundtrack, sounds, batch_size=400))
    video, heard = x[:, 0, 0, 0].long(), a[:, 0, 0, 0].long() - 100
    assert x.shape == (400, 1, 28, 28) and a.shape == (400, 1, 32, 32) and y.shape == (400,)
    assert torch.equal(heard[y == 1], soundtrack[video[y == 1]])  # positives: the video's own soundtrack
    others = (soundtrack[video[y == 0]] != heard[y == 0]) | (soundtrack.bincount(minlength=40)[heard[y == 0]] > 1)
    assert others.all()  # negatives: the soundtrack of some other video (a recording may sound in several)
    assert 0.4 < y.mean() < 0.6  # about half of each


def test_negatives_are_drawn_at_random_and_may_say_the_frames_digit():
    images, soundtrack, sounds = _videos()
    x, a, y = next(av.correspondence_batches(images, soundtrack, sounds, batch_size=2000))
    shown, said = x[:, 0, 0, 0].long() % 10, (a[:, 0, 0, 0].long() - 100) % 10
    same_digit = (shown == said)[y == 0].float().mean()
    assert 0.04 < same_digit < 0.2  # about one negative in ten says the digit the frame shows, as in real video


def test_correspondence_batches_take_positive_and_negative_audio_from_their_own_tensors():
    images, soundtrack, sounds = _videos()
    x, a, y = next(av.correspondence_batches(images, soundtrack, sounds, 100, negative_audio=-sounds))
    assert torch.all(a[y == 1] > 0) and torch.all(a[y == 0] < 0)


def test_correspondence_batches_are_the_same_for_the_same_seed():
    data = _videos()
    first = next(av.correspondence_batches(*data, batch_size=30, seed=3))
    again = next(av.correspondence_batches(*data, batch_size=30, seed=3))
    assert all(torch.equal(p, q) for p, q in zip(first, again, strict=True))


def test_correspondence_batches_refuse_negative_audio_of_other_recordings():
    images, soundtrack, sounds = _videos()
    with pytest.raises(ValueError, match="same recordings"):
        next(av.correspondence_batches(images, soundtrack, sounds, 8, negative_audio=sounds[:5]))


def test_video_batches_hold_different_videos_each_with_its_own_soundtrack():
    images, soundtrack, sounds = _videos()
    x, a = next(av.video_batches(images, soundtrack, sounds, batch_size=20))
    video, heard = x[:, 0, 0, 0].long(), a[:, 0, 0, 0].long() - 100
    assert len(set(video.tolist())) == 20 and torch.equal(heard, soundtrack[video])


class _Scores(torch.nn.Module):
    """A stand-in two-tower model whose "embeddings" are one-hot row and column numbers and whose fusion reads a
    fixed logit matrix: the loss sees exactly the scores a test gives it."""

    def __init__(self, logits):
        super().__init__()
        self.logits = torch.nn.Parameter(logits.clone())

    def embed_image(self, images):
        return torch.eye(len(images))

    def embed_audio(self, specs):
        return torch.eye(len(specs))

    def fuse(self, v, a):
        return self.logits[a.argmax(1), v.argmax(1)]


def test_in_batch_loss_counts_every_off_diagonal_pair_as_a_negative():
    batch = (torch.zeros(4, 1, 28, 28), torch.zeros(4, 1, 32, 32))
    diagonal = 10 * (2 * torch.eye(4) - 1)  # own pairs "yes", every other pair "no"
    loss, logged = av.in_batch_loss(_Scores(diagonal), batch)
    assert loss.item() < 1e-3 and logged["acc"] == 1.0
    also_yes = diagonal.clone()
    also_yes[0, 1] = 10.0  # another video's pair called "together" (it may show the same digit): still wrong
    worse, logged = av.in_batch_loss(_Scores(also_yes), batch)
    assert worse.item() > 0.1 and logged["acc"] < 1.0


def test_in_batch_loss_weighs_positives_and_negatives_alike():
    batch = (torch.zeros(8, 1, 28, 28), torch.zeros(8, 1, 32, 32))
    always_no = torch.full((8, 8), -10.0)  # right on 56 pairs of 64, but on none of the positives
    loss, logged = av.in_batch_loss(_Scores(always_no), batch)
    assert logged["acc"] == pytest.approx(0.5) and loss.item() > 4  # half the weight is on the missed positives


def test_in_batch_loss_trains_the_towers_of_both_fusions():
    for fusion in (av.ConcatFusion, av.AVENet):
        model = fusion(*_towers())
        loss, _ = av.in_batch_loss(model, (torch.rand(4, 1, 28, 28), torch.randn(4, 1, 32, 32)))
        loss.backward()
        assert all(tower.stages["conv1"][0].weight.grad.abs().sum() > 0
                   for tower in (model.image_tower, model.audio_tower))


def test_avc_loss_pairs_every_frame_with_its_own_sound_and_with_another_videos():
    """Embeddings that are one-hot video numbers: the pairs fuse sees tell which frame met which sound."""
    seen = []

    def fuse(v, a):
        seen.append((v.argmax(1), a.argmax(1)))
        return torch.zeros(len(v))

    for n in (2, 3, 8):
        seen.clear()
        loss = av.avc_loss(fuse, torch.eye(n), torch.eye(n))
        frames, sounds = (torch.cat(part) for part in zip(*seen, strict=True))
        own = frames == sounds
        assert int(own.sum()) == n and int((~own).sum()) == n  # half positives, half negatives
        assert torch.equal(frames[~own].sort().values, torch.arange(n))  # every frame once with another's sound
        assert loss.item() == pytest.approx(torch.tensor(2.0).log().item())  # logit 0: log 2 for either label


def test_avc_loss_labels_own_pairs_together_and_trains_both_embeddings():
    v, a = torch.randn(6, 4, requires_grad=True), torch.randn(6, 4, requires_grad=True)

    def says_own(v_rows, a_rows):  # a fusion that knows the answer: together exactly when the rows match
        return 20 * (torch.isclose(v_rows, a_rows).all(1).float() - 0.5) + 0 * (v_rows * a_rows).sum(1)

    assert av.avc_loss(says_own, v, v.detach().clone()).item() < 1e-3
    av.avc_loss(lambda v_rows, a_rows: (v_rows * a_rows).sum(1), v, a).backward()
    assert v.grad.abs().sum() > 0 and a.grad.abs().sum() > 0


def test_video_correspondence_loss_trains_with_the_avc_function_it_is_given():
    model, calls = av.AVENet(*_towers()), []

    def mine(fuse, v, a):
        calls.append((v.shape, a.shape))
        return av.avc_loss(fuse, v, a)

    batch = (torch.rand(5, 1, 28, 28), torch.randn(5, 1, 32, 32))
    loss, logged = av.video_correspondence_loss(model, batch, avc=mine)
    assert calls == [((5, 64), (5, 64))] and loss.requires_grad and 0 <= logged["acc"] <= 1


@pytest.mark.parametrize("fusion", [av.ConcatFusion, av.AVENet])
def test_fusions_give_one_logit_per_pair_and_score_every_pair(fusion):
    model = fusion(*_towers()).eval()
    images, sounds = torch.rand(5, 1, 28, 28), torch.randn(3, 1, 32, 32)
    assert model(images[:3], sounds).shape == (3,)
    v, a = model.embed_image(images), model.embed_audio(sounds)
    scores = av.pair_scores(model, a, v, chunk=2)
    assert scores.shape == (3, 5)
    assert torch.allclose(scores[1, 4], model.fuse(v[4:5], a[1:2])[0], atol=1e-5)


def test_ave_net_embeddings_are_unit_length_and_nearer_means_together():
    model = av.AVENet(*_towers()).eval()
    v = model.embed_image(torch.rand(4, 1, 28, 28))
    assert torch.allclose(v.norm(dim=1), torch.ones(4), atol=1e-5)
    assert model.s > 0
    near, far = model.fuse(v[:1], v[:1]), model.fuse(v[:1], -v[:1])
    assert near > far  # distance 0 vs distance 4 on the unit sphere: the fixed direction


def test_correspondence_loss_learns_a_separable_toy_task():
    """Image i shows digit i % 10 (pixels = the digit), its soundtrack says it (level = the digit): fixed videos."""
    images = ((torch.arange(100) % 10).float() / 9).view(-1, 1, 1, 1).expand(-1, 1, 8, 8).clone()
    sounds = ((torch.arange(100) % 10).float() / 9).view(-1, 1, 1, 1).expand(-1, 1, 8, 8).clone()
    soundtrack = av.simulate_videos(torch.arange(100) % 10, torch.arange(100) % 10)
    model = av.AVENet(*_towers(4), dim=8, hidden=16)
    stream = av.correspondence_batches(images, soundtrack, sounds, 32)
    history = train.fit(model, stream, av.correspondence_loss, steps=60, lr=1e-2, progress=False, log_every=5)
    assert sum(history["acc"][-3:]) / 3 > 0.7  # a same-digit negative (one in ten) caps it near 95 %


def test_sound_statistics_ignore_when_the_sound_happens():
    specs = torch.randn(3, 1, 8, 16)
    rolled = specs.roll(5, dims=-1)  # the same sound, later (circularly: the frame-to-frame change moves with it)
    stats = av.sound_statistics(specs)
    assert stats.shape == (3, 24)
    assert torch.allclose(stats[:, :16], av.sound_statistics(rolled)[:, :16], atol=1e-5)


def test_sound_clusters_find_well_separated_groups_without_labels():
    torch.manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    truth = torch.arange(90) % 3
    stats = centres[truth] + 0.1 * torch.randn(90, 2)
    clusters, _ = av.sound_clusters(stats, k=3, seed=0)
    assert evaluate.cluster_purity(clusters, truth) == 1.0


def test_image_cluster_batches_give_each_frame_the_cluster_of_its_own_soundtrack():
    images, soundtrack, _ = _videos()
    clusters = torch.arange(40) + 1000  # a cluster per recording: the target names the recording heard
    x, c = next(av.image_cluster_batches(images, soundtrack, clusters, batch_size=32))
    assert torch.equal(c - 1000, soundtrack[x[:, 0, 0, 0].long()])


def test_cluster_loss_scores_the_image_networks_guess_of_the_cluster():
    model = nets.Classifier(_towers()[0], 7)
    loss, metrics = av.cluster_loss(model, (torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 2, 6])))
    assert model(torch.rand(4, 1, 28, 28)).shape == (4, 7) and loss.item() > 0 and 0 <= metrics["acc"] <= 1


def test_cosine_scores_and_chance_recall():
    a = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    assert torch.allclose(av.cosine_scores(a, a), torch.eye(2))
    assert av.chance_recall(torch.tensor([0, 1]), torch.tensor([0, 0, 0, 1])) == pytest.approx(0.5 * 0.75 + 0.5 * 0.25)
