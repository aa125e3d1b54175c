import math

import pytest
import torch
import torch.nn.functional as F

from course_lib import nets, train
from course_lib.pretext import joint_embedding as je
from course_lib.pretext import soundnet as sn


def _model(width=2):
    torch.manual_seed(0)
    image, audio = nets.Backbone(1, width), nets.Backbone(1, width)
    return je.JointEmbedding(image, audio, image.out_dim, audio.out_dim, dim=8, hidden=16)


def test_symmetric_infonce_is_both_cross_entropies_of_scaled_cosines():
    torch.manual_seed(1)
    v, a = torch.randn(6, 4) * 3, torch.randn(6, 4)
    logits = 5.0 * F.normalize(v, dim=1) @ F.normalize(a, dim=1).T
    own = torch.arange(6)
    want = (F.cross_entropy(logits, own) + F.cross_entropy(logits.T, own)) / 2
    assert je.symmetric_infonce(v, a, math.log(5.0)).item() == pytest.approx(want.item(), rel=1e-5)
    assert je.symmetric_infonce(v, a, 0.0) != pytest.approx(F.cross_entropy(logits, own).item())


def test_symmetric_infonce_is_low_for_matching_pairs_and_high_for_shuffled_ones():
    torch.manual_seed(2)
    v = torch.randn(16, 8)
    matched = je.symmetric_infonce(v, v + 0.01 * torch.randn(16, 8), math.log(20))
    shuffled = je.symmetric_infonce(v, v[torch.randperm(16)], math.log(20))
    assert matched < 0.1 < math.log(16) / 2 < shuffled


def test_joint_embedding_gives_unit_vectors_and_a_learnt_clipped_scale():
    model = _model().eval()
    v, a = model.embed_image(torch.randn(5, 1, 28, 28)), model.embed_audio(torch.randn(5, 1, 32, 32))
    assert v.shape == a.shape == (5, 8)
    assert torch.allclose(v.norm(dim=1), torch.ones(5)) and torch.allclose(a.norm(dim=1), torch.ones(5))
    assert model.scale.item() == pytest.approx(1 / je.INITIAL_TEMPERATURE, rel=1e-4)
    with torch.no_grad():
        model.log_scale.fill_(10.0)
    assert model.scale.item() == pytest.approx(je.MAX_SCALE)
    assert torch.allclose(model.fuse(v, a), je.MAX_SCALE * (v * a).sum(1))


def test_pair_batches_keep_the_fixed_pairing_and_draw_different_pairs():
    images = torch.arange(30).float().view(-1, 1, 1, 1).expand(-1, 1, 4, 4)
    partners = (100 + torch.arange(10)).float().view(-1, 1, 1, 1)
    partner_of = torch.arange(30) % 10
    x, p = next(je.pair_batches(images, partners, partner_of, 12, seed=0))
    index = x[:, 0, 0, 0].long()
    assert len(set(index.tolist())) == 12  # different pairs in one batch: every other one is a negative
    assert torch.equal(p[:, 0, 0, 0].long() - 100, partner_of[index])
    x, p = next(je.pair_batches(images, images + 0.5, None, 8, seed=0))
    assert torch.equal(p, x + 0.5)  # without a partner index: pair i is (images[i], partners[i])


def test_clip_loss_trains_two_towers_to_find_each_others_items(rectangles):
    model = _model(width=4)
    images = rectangles(64)
    sounds = F.pad(images, (2, 2, 2, 2)).flip(-1)  # the "other modality": the same rectangle, mirrored and padded
    stream = je.pair_batches(images, sounds, None, 32, seed=0)
    history = train.fit(model, stream, je.clip_loss, steps=40, progress=False, lr=5e-3)
    assert history["loss"][-1] < history["loss"][0]
    assert history["acc"][-1] > 2 / 32  # better than a random pick among the batch


def test_prompts_and_zero_shot_pick_the_nearest_class_mean():
    embeddings = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    prompts = je.prompts(embeddings, torch.tensor([0, 0, 1, 1]), 2)
    assert torch.allclose(prompts.norm(dim=1), torch.ones(2))
    assert je.zero_shot(torch.tensor([[2.0, 0.5], [0.2, 3.0]]), prompts).tolist() == [0, 1]


def test_distillation_loss_is_the_kl_of_the_posteriors_and_zero_when_they_agree():
    torch.manual_seed(3)
    teacher, student = torch.randn(5, 10), torch.randn(5, 10)
    p, q = teacher.softmax(1), student.softmax(1)
    want = (p * (p.log() - q.log())).sum(1).mean()
    assert sn.distillation_loss(student, teacher).item() == pytest.approx(want.item(), rel=1e-5)
    assert sn.distillation_loss(teacher, teacher).item() == pytest.approx(0.0, abs=1e-6)


def test_the_teacher_stays_frozen_and_in_eval_mode_while_the_student_learns():
    torch.manual_seed(4)
    teacher = nets.Classifier(nets.Backbone(1, 2), 10)
    model = sn.Distillation(nets.Classifier(nets.Backbone(1, 2), 10), teacher)
    before = [p.clone() for p in teacher.parameters()]
    images, sounds = torch.rand(40, 1, 28, 28), torch.rand(20, 1, 32, 32)
    stream = sn.video_batches(images, torch.arange(40) % 20, sounds, 8)
    train.fit(model, stream, sn.soundnet_loss, steps=3, progress=False)
    model.train()
    assert not model.teacher.training and model.student.training
    assert all(torch.equal(b, p) for b, p in zip(before, teacher.parameters(), strict=True))
