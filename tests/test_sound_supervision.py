import dataclasses

import matplotlib
import pytest
import torch

from course_lib import checks, config
from course_lib import sound_supervision as ss
from course_lib.data._image import ImageData
from course_lib.data.fsdd import SpokenDigits

matplotlib.use("Agg")

TINY = dataclasses.replace(config.PROFILES["ci"], avc_images=100, avc_gallery=30, avc_width=2, avc_batch=16,
                           avc_steps=3, avc_shortcut_steps=2, avc_seconds=30, owens_k=3, owens_steps=2)
SPEAKERS = ("theo", "jackson", "lucas")


def _spoken() -> SpokenDigits:
    """30 short noisy 'recordings': every digit by every speaker, louder for larger digits."""
    generator = torch.Generator().manual_seed(0)
    digits = torch.arange(30) % 10
    speakers = [SPEAKERS[i // 10] for i in range(30)]
    waves = [(1 + int(d)) * 0.05 * torch.randn(1200 + 40 * i, generator=generator) for i, d in enumerate(digits)]
    return SpokenDigits(waves, digits, speakers, torch.arange(30) % 7)


def _mnist(train: bool = True, n: int | None = None) -> ImageData:
    y = torch.arange(n) % 10
    return ImageData(y.float().view(-1, 1, 1, 1).expand(-1, 1, 28, 28) / 9, y, [str(i) for i in range(10)])


@pytest.fixture
def d(monkeypatch):
    monkeypatch.setattr(ss, "load_fsdd", lambda split="all": _spoken())
    monkeypatch.setattr(ss.data, "load_mnist", _mnist)
    return ss.load(TINY, split="speaker")


def test_load_holds_a_speaker_out_and_standardises_with_training_statistics(d):
    assert set(d.test_spoken.speaker) == {"theo"} and "theo" not in set(d.spoken.speaker)
    assert d.sounds.shape == (20, 1, 32, 32) and d.test_sounds.shape == (10, 1, 32, 32)
    assert abs(d.sounds.mean().item()) < 1e-4 and d.sounds.std().item() == pytest.approx(1.0, abs=1e-3)
    assert len(d.images) == TINY.avc_images and len(d.test_images) == TINY.avc_gallery
    assert not torch.allclose(d.sounds, d.sounds_start)  # the shortcut's padding moves the sound in the window


def test_split_fsdd_knows_two_splits():
    train, test = ss.split_fsdd(_spoken(), "take")
    assert len(train) + len(test) == 30 and set(test.speaker) == set(SPEAKERS)
    with pytest.raises(ValueError, match="split"):
        ss.split_fsdd(_spoken(), "random")


def test_towers_start_from_the_same_weights_for_the_same_seed():
    (a, b), (c, _) = ss.towers(TINY, 5), ss.towers(TINY, 5)
    assert torch.equal(a.stages["conv1"][0].weight, c.stages["conv1"][0].weight)
    assert not torch.equal(a.stages["conv1"][0].weight, b.stages["conv1"][0].weight)  # two towers, two draws


def test_pair_stream_takes_shortcut_positives_from_the_start_aligned_sounds(d):
    _, specs, y = next(ss.pair_stream(d, 64, seed=0, shortcut=True))
    start_set = {tuple(s.flatten()[:8].tolist()) for s in d.sounds_start}
    centred_set = {tuple(s.flatten()[:8].tolist()) for s in d.sounds}
    assert all(tuple(s.flatten()[:8].tolist()) in start_set for s in specs[y == 1])
    assert all(tuple(s.flatten()[:8].tolist()) in centred_set for s in specs[y == 0])


@pytest.mark.parametrize("fusion", ss.FUSIONS)
def test_train_avc_runs_the_profile_steps_and_the_shortcut_its_own(d, fusion):
    _, history = ss.train_avc(fusion, d, TINY, progress=False)
    _, short = ss.train_avc(fusion, d, TINY, shortcut=True, progress=False)
    assert history.stopped_by == f"{TINY.avc_steps} steps" and short.stopped_by == f"{TINY.avc_shortcut_steps} steps"


def test_make_model_refuses_an_unknown_fusion():
    with pytest.raises(ValueError, match="fusion"):
        ss.make_model("sum", TINY, 0)


def test_owens_clusters_every_training_recording_and_trains_the_image_tower(d):
    model, history, clusters = ss.train_owens(d, TINY, progress=False)
    assert clusters.shape == (len(d.sounds),) and int(clusters.max()) < TINY.owens_k
    assert model(d.images[:2]).shape == (2, TINY.owens_k) and history.stopped_by == f"{TINY.owens_steps} steps"
    table = ss.cluster_table(clusters, d)
    assert ((table >= 0) & (table <= 1)).all().all() and len(table) == 2


def test_evaluation_tables_and_metrics_have_the_issue_names(d):
    models = {f: ss.make_model(f, TINY, 0).eval() for f in ss.FUSIONS}
    avc = {f: ss.avc_accuracy(m, d, n=40) for f, m in models.items()}
    assert all(0 <= a <= 100 for a in avc.values())
    probes = ss.probe_table({"random init": ss.towers(TINY, 0), **{f: (m.image_tower, m.audio_tower)
                                                                  for f, m in models.items()},
                             "classes from sound": (ss.towers(TINY, 1)[0], None)}, d)
    assert probes.shape == (4, 2) and probes.isna().sum().sum() == 1
    retrieval = ss.retrieval_table(models, d)
    ave = retrieval.loc[ss.FUSIONS[1]]
    assert ave["recall@1, the model's score"] == ave["recall@1, cosine of the embeddings"]  # one ranking
    shortcut = ss.shortcut_table(models[ss.FUSIONS[0]], models[ss.FUSIONS[1]], d)
    names = ss.metrics(avc, probes, retrieval, shortcut)
    assert {"avc_accuracy", "probe_image_100_trained", "probe_image_100_random", "probe_audio_trained",
            "probe_audio_random", "recall1_audio_to_image_concat", "recall1_audio_to_image_ave"} <= set(names)


def test_pictures_draw(d):
    assert ss.show_pairs(d, n=3) is not None
    assert ss.show_retrieval(ss.make_model(ss.FUSIONS[1], TINY, 0).eval(), d, n_queries=2, top=2) is not None


def test_exercise_checkers_accept_the_answer_and_refuse_a_wrong_one():
    ss.check_distance_logit(lambda a, v, b, s: b - s * (a - v).pow(2).sum(1))
    with pytest.raises(checks.NotYet):
        ss.check_distance_logit(lambda a, v, b, s: b + s * (a - v).pow(2).sum(1))  # the flipped sign
    ss.check_recall_at_1(lambda scores, q, g: (g[scores.argmax(1)] == q).float().mean())
    with pytest.raises(checks.NotYet):
        ss.check_recall_at_1(lambda scores, q, g: (g[scores.argmin(1)] == q).float().mean())
