import pytest
import torch

from course_lib import evaluate, nets, train
from course_lib.pretext import audio_visual as av


def _towers(width=2):
    torch.manual_seed(0)
    return nets.Backbone(1, width), nets.Backbone(1, width)


def _pairs_data(n_images=60, n_sounds=40, image_side=28, sound_side=32):
    image_digits = torch.arange(n_images) % 10
    sound_digits = torch.arange(n_sounds) % 10
    images = image_digits.float().view(-1, 1, 1, 1).expand(-1, 1, image_side, image_side).clone()  # pixels = digit
    sounds = sound_digits.float().view(-1, 1, 1, 1).expand(-1, 1, sound_side, sound_side).clone()
    return images, image_digits, sounds, sound_digits


def test_correspondence_batches_pair_the_same_digit_for_positives_and_another_for_negatives():
    images, image_digits, sounds, sound_digits = _pairs_data()
    x, a, y = next(av.correspondence_batches(images, image_digits, sounds, sound_digits, batch_size=200))
    shown, spoken = x[:, 0, 0, 0], a[:, 0, 0, 0]
    assert x.shape == (200, 1, 28, 28) and a.shape == (200, 1, 32, 32) and y.shape == (200,)
    assert torch.equal(shown[y == 1], spoken[y == 1])
    assert torch.all(shown[y == 0] != spoken[y == 0])
    assert 0.3 < y.mean() < 0.7  # about half of each


def test_correspondence_batches_take_positive_and_negative_audio_from_their_own_tensors():
    images, image_digits, sounds, sound_digits = _pairs_data()
    x, a, y = next(av.correspondence_batches(images, image_digits, sounds, sound_digits, 100,
                                             negative_audio=-sounds - 1))
    assert torch.all(a[y == 1] >= 0) and torch.all(a[y == 0] < 0)


def test_correspondence_batches_are_the_same_for_the_same_seed():
    data = _pairs_data()
    first = next(av.correspondence_batches(*data, batch_size=30, seed=3))
    again = next(av.correspondence_batches(*data, batch_size=30, seed=3))
    assert all(torch.equal(p, q) for p, q in zip(first, again, strict=True))


def test_correspondence_batches_refuse_negative_audio_of_other_recordings():
    images, image_digits, sounds, sound_digits = _pairs_data()
    with pytest.raises(ValueError, match="same recordings"):
        next(av.correspondence_batches(images, image_digits, sounds, sound_digits, 8, negative_audio=sounds[:5]))


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
    images, image_digits, sounds, sound_digits = _pairs_data(100, 100, image_side=8, sound_side=8)
    model = av.AVENet(*_towers(4), dim=8, hidden=16)
    stream = av.correspondence_batches(images / 9, image_digits, sounds / 9, sound_digits, 32)
    history = train.fit(model, stream, av.correspondence_loss, steps=60, lr=1e-2, progress=False, log_every=5)
    assert sum(history["acc"][-3:]) / 3 > 0.7


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


def test_image_cluster_batches_give_images_of_the_digit_of_the_sound_and_its_cluster():
    images, image_digits, _, sound_digits = _pairs_data()
    clusters = sound_digits + 100  # a cluster id that tells the digit
    x, c = next(av.image_cluster_batches(images, image_digits, sound_digits, clusters, batch_size=32))
    assert torch.equal(x[:, 0, 0, 0].long(), c - 100)


def test_cluster_loss_scores_the_image_networks_guess_of_the_cluster():
    model = nets.Classifier(_towers()[0], 7)
    loss, metrics = av.cluster_loss(model, (torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 2, 6])))
    assert model(torch.rand(4, 1, 28, 28)).shape == (4, 7) and loss.item() > 0 and 0 <= metrics["acc"] <= 1


def test_cosine_scores_and_chance_recall():
    a = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    assert torch.allclose(av.cosine_scores(a, a), torch.eye(2))
    assert av.chance_recall(torch.tensor([0, 1]), torch.tensor([0, 0, 0, 1])) == pytest.approx(0.5 * 0.75 + 0.5 * 0.25)
