import dataclasses

import matplotlib
import pytest
import random_stream
import torch
import torch.nn.functional as F

from course_lib import checks, config, evaluate, nets, show, train
from course_lib.data._image import ImageData
from course_lib.data.fsdd import SpokenDigits
from course_lib.lessons import sound_supervision as lesson

matplotlib.use("Agg")

TINY = dataclasses.replace(lesson.SIZES["ci"], images=100, gallery=30, tower_width=2, pairs_per_step=16, steps=3,
                           seconds=30, owens_steps=2, supervised_steps=2, validation=20,
                           probe_cs=config.PROBE_CS)  # the grid lab chooses from (ci fits C = 1 alone)
SPEAKERS = ("theo", "jackson", "lucas", "george")  # theo: the test voice; jackson: the validation voice


def _spoken() -> SpokenDigits:
    """80 short noisy 'recordings': every digit twice by every speaker, louder for larger digits."""
    generator = torch.Generator().manual_seed(0)
    digits = torch.arange(80) % 10
    speakers = [SPEAKERS[i // 20] for i in range(80)]
    waves = [(1 + int(d)) * 0.05 * torch.randn(1200 + 20 * i, generator=generator) for i, d in enumerate(digits)]
    return SpokenDigits(waves, digits, speakers, torch.arange(80) % 7)


def _mnist(train: bool = True, n: int | None = None) -> ImageData:
    y = torch.arange(n) % 10
    return ImageData(y.float().view(-1, 1, 1, 1).expand(-1, 1, 28, 28) / 9, y, [str(i) for i in range(10)])


@pytest.fixture
def d(monkeypatch):
    monkeypatch.setattr(lesson.videos, "load_fsdd", lambda split="all": _spoken())  # where load looks it up
    monkeypatch.setattr(lesson.data, "load_mnist", _mnist)
    return lesson.load(TINY, split="speaker")


def test_load_holds_a_speaker_out_and_standardises_with_training_statistics(d):
    assert set(d.test_spoken.speaker) == {"theo"} and "theo" not in set(d.spoken.speaker)
    assert d.sounds.shape == (60, 1, 32, 32) and d.test_sounds.shape == (20, 1, 32, 32)
    assert abs(d.sounds.mean().item()) < 1e-4 and d.sounds.std().item() == pytest.approx(1.0, abs=1e-3)
    assert len(d.images) == TINY.images and len(d.test_images) == TINY.gallery
    assert not torch.allclose(d.sounds, d.sounds_start)  # the shortcut's padding moves the sound in the window
    assert abs(d.test_sounds.mean().item()) > 1e-3  # the held-out voice keeps its own level: training stats only


def test_sizes_give_every_profile_the_shared_fields():
    assert set(lesson.SIZES) == set(config.PROFILE_NAMES)
    for name, sizes in lesson.SIZES.items():
        assert sizes.name == name and sizes.n_test == config.PROFILES[name].n_test
    assert lesson.SIZES["ci"].steps < lesson.SIZES["lab"].steps < lesson.SIZES["full"].steps


def test_split_fsdd_knows_two_splits():
    train, test = lesson.split_fsdd(_spoken(), "take")
    assert len(train) + len(test) == 80 and set(test.speaker) == set(SPEAKERS)
    with pytest.raises(ValueError, match="split"):
        lesson.split_fsdd(_spoken(), "random")


def test_towers_start_from_the_same_weights_for_the_same_seed():
    (a, b), (c, _) = lesson.towers(TINY, 5), lesson.towers(TINY, 5)
    assert torch.equal(a.stages["conv1"][0].weight, c.stages["conv1"][0].weight)
    assert not torch.equal(a.stages["conv1"][0].weight, b.stages["conv1"][0].weight)  # two towers, two draws
    assert not a.training and not b.training  # frozen random features: BatchNorm with its running statistics


def test_every_model_starts_from_the_random_init_towers_and_the_same_head():
    towers = lesson.towers(TINY, 2)
    for fusion in lesson.FUSIONS:
        model, again = lesson.make_model(fusion, TINY, 2), lesson.make_model(fusion, TINY, 2)
        assert torch.equal(model.image_tower.stages["conv1"][0].weight, towers[0].stages["conv1"][0].weight)
        assert torch.equal(model.audio_tower.stages["conv1"][0].weight, towers[1].stages["conv1"][0].weight)
        assert all(torch.equal(p, q) for p, q in zip(model.parameters(), again.parameters(), strict=True))
    with random_stream.left_alone():  # building a model leaves the notebook's random stream alone
        lesson.make_model(lesson.FUSIONS[0], TINY, 2)


def test_load_makes_fixed_videos_of_an_image_and_a_recording_of_its_digit(d, monkeypatch):
    assert d.soundtrack.shape == (TINY.images,) and d.test_soundtrack.shape == (TINY.gallery,)
    assert torch.equal(d.sound_digits[d.soundtrack], d.image_digits)  # training images with training recordings
    assert torch.equal(d.test_sound_digits[d.test_soundtrack], d.test_image_digits)  # test with the unheard voice
    again = lesson.load(TINY, split="speaker", seed=0)
    other = lesson.load(TINY, split="speaker", seed=1)
    assert torch.equal(again.soundtrack, d.soundtrack) and not torch.equal(other.soundtrack, d.soundtrack)


def test_the_pair_stream_never_reads_a_digit_label(d):
    """Pairs are fixed once (the videos); after that the stream sees only frames and soundtracks: scrambling every
    digit label leaves its batches exactly as they were."""
    before = next(lesson.pair_stream(d, 64, seed=0))
    scrambled = dataclasses.replace(d, image_digits=d.image_digits.flip(0), sound_digits=d.sound_digits.roll(3),
                                    test_image_digits=d.test_image_digits.flip(0))
    after = next(lesson.pair_stream(scrambled, 64, seed=0))
    assert all(torch.equal(p, q) for p, q in zip(before, after, strict=True))


def test_negatives_are_other_videos_soundtracks_and_may_say_the_same_digit(d):
    """Frame i is filled with i and recording r with 1000 + r, so a batch tells which video and which recording."""
    tagged = dataclasses.replace(
        d, images=torch.arange(len(d.images)).float().view(-1, 1, 1, 1).expand(-1, 1, 28, 28).contiguous(),
        sounds=(1000 + torch.arange(len(d.sounds))).float().view(-1, 1, 1, 1).expand(-1, 1, 32, 32).contiguous())
    images, specs, y = next(lesson.pair_stream(tagged, 2000, seed=0))
    video, said = images[:, 0, 0, 0].long(), specs[:, 0, 0, 0].long() - 1000
    assert torch.equal(said[y == 1], d.soundtrack[video[y == 1]])  # positives: the video's own soundtrack
    same_digit = (d.sound_digits[said] == d.image_digits[video])[y == 0].float().mean()
    assert 0.03 < same_digit < 0.25  # about one negative in ten says the frame's digit: nothing excludes it


def test_pair_stream_takes_shortcut_positives_from_the_start_aligned_sounds(d):
    _, specs, y = next(lesson.pair_stream(d, 64, seed=0, shortcut=True))
    start_set = {tuple(s.flatten()[:8].tolist()) for s in d.sounds_start}
    centred_set = {tuple(s.flatten()[:8].tolist()) for s in d.sounds}
    assert all(tuple(s.flatten()[:8].tolist()) in start_set for s in specs[y == 1])
    assert all(tuple(s.flatten()[:8].tolist()) in centred_set for s in specs[y == 0])


@pytest.mark.parametrize("fusion", lesson.FUSIONS)
def test_train_avc_gives_the_shortcut_run_the_same_steps_as_the_fixed_one(d, fusion):
    _, history = lesson.train_avc(fusion, d, TINY, progress=False)
    _, short = lesson.train_avc(fusion, d, TINY, shortcut=True, progress=False)
    assert history.stopped_by == f"{TINY.steps} steps" and short.stopped_by == history.stopped_by


def test_make_model_refuses_an_unknown_fusion():
    with pytest.raises(ValueError, match="fusion"):
        lesson.make_model("sum", TINY, 0)


def test_owens_clusters_every_training_recording_and_trains_the_image_tower(d):
    model, history, clusters = lesson.train_owens(d, TINY, progress=False, k=3)  # few recordings: fewer than OWENS_K
    assert clusters.shape == (len(d.sounds),) and set(clusters.tolist()) == {0, 1, 2}
    assert model(d.images[:2]).shape == (2, 3) and history.stopped_by == f"{TINY.owens_steps} steps"
    assert list(lesson.cluster_table(clusters, d).index) == ["digit (what is said)", "speaker (who says it)"]
    by_digit = lesson.cluster_table(d.sound_digits, d)  # clusters that are exactly the digits said
    assert by_digit.loc["digit (what is said)", "purity of the sound clusters"] == 1.0
    assert by_digit.loc["digit (what is said)", "purity of random clusters"] < 0.5  # shuffled: about the commonest
    assert by_digit.loc["speaker (who says it)", "purity of the sound clusters"] < 1.0  # each digit by every voice


def test_the_supervised_reference_trains_both_towers_on_digit_labels(d):
    reference, histories = lesson.train_supervised(d, TINY, progress=False)
    start_image, start_audio = lesson.towers(TINY, 0)
    assert set(histories) == {"supervised image tower", "supervised audio tower"}
    assert all(h.stopped_by == f"{TINY.supervised_steps} steps" for h in histories.values())
    assert not torch.equal(reference.image_tower.stages["conv1"][0].weight, start_image.stages["conv1"][0].weight)
    assert not torch.equal(reference.audio_tower.stages["conv1"][0].weight, start_audio.stages["conv1"][0].weight)
    probabilities = reference.embed_image(d.test_images[:4])
    assert probabilities.shape == (4, 10) and torch.allclose(probabilities.sum(1), torch.ones(4))


def test_probe_sets_hold_out_validation_data_from_the_training_data(d):
    (pool, pool_y), (val, val_y), (test, _) = lesson.image_probe_sets(d, TINY)
    assert len(pool) + len(val) == TINY.images and len(val) == TINY.validation and len(test) == TINY.gallery
    (train_s, _), (val_s, _), (test_s, _) = lesson.audio_probe_sets(d)
    assert len(val_s) == sum(s == lesson.VALIDATION_SPEAKER for s in d.spoken.speaker)
    assert len(train_s) + len(val_s) == len(d.sounds) and len(test_s) == len(d.test_sounds)


def test_probes_leave_random_towers_frozen_and_choose_a_layer_on_validation(d, monkeypatch):
    monkeypatch.setattr(lesson.evaluation, "LABELS_PER_CLASS", 2)  # the fake data has few examples of each digit
    image, _ = lesson.towers(TINY, 0)
    image.train()  # even handed a tower in training mode, the probe must not move its BatchNorm statistics
    before = image.stages["conv1"][1].running_mean.clone()
    table = lesson.image_probes({lesson.RANDOM: image}, d, TINY)
    assert torch.equal(image.stages["conv1"][1].running_mean, before)
    assert table.loc[lesson.RANDOM, evaluate.BEST_LAYER] in nets.STAGES
    assert table.loc[lesson.RANDOM, evaluate.STD] >= 0  # the spread over the labelled draws
    assert evaluate.read_of(table, lesson.RANDOM) in (evaluate.AS_INITIALISED, evaluate.RECALIBRATED)  # at its best
    assert table.loc[lesson.RANDOM, evaluate.PROBE_C_COLUMN] in evaluate.PROBE_CS  # the C chosen with the layer


def test_cluster_table_tells_clusters_that_follow_the_speaker(d):
    """Clusters that are the speakers: speaker purity 1, digit purity that of random clusters (the digits are
    spread evenly over the speakers)."""
    speakers = sorted(set(d.spoken.speaker))
    by_speaker = torch.tensor([speakers.index(s) for s in d.spoken.speaker])
    table = lesson.cluster_table(by_speaker, d)
    assert table.loc["speaker (who says it)", "purity of the sound clusters"] == 1.0
    assert table.loc["speaker (who says it)", "purity of random clusters"] < 1.0
    assert table.loc["digit (what is said)", "purity of the sound clusters"] <= 0.2


def test_evaluation_tables_and_metrics_have_the_issue_names(d, monkeypatch):
    monkeypatch.setattr(lesson.evaluation, "LABELS_PER_CLASS", 2)  # the fake data has few examples of each digit
    models = {f: lesson.make_model(f, TINY, 0).eval() for f in lesson.FUSIONS}
    avc = {f: lesson.avc_accuracy(m, d, n=40) for f, m in models.items()}
    assert all(0 <= a <= 100 for a in avc.values())  # untrained: the level is checked in test_avc_learns_*
    rows = {lesson.RANDOM: lesson.towers(TINY, 0), **{f: (m.image_tower, m.audio_tower) for f, m in models.items()},
            lesson.OWENS: (lesson.towers(TINY, 1)[0], None)}
    image = lesson.image_probes({name: i for name, (i, _) in rows.items()}, d, TINY)
    sound = lesson.audio_probes({name: a for name, (_, a) in rows.items()}, d, TINY)
    assert len(image) == 4 and len(sound) == 3 and lesson.OWENS not in sound.index
    summary = lesson.probe_summary(image, sound)
    assert summary.loc[lesson.OWENS].iloc[1] == "-" and summary.loc[lesson.RANDOM].iloc[0].endswith(")")
    retrieval = lesson.retrieval_table(models, d)
    ave = retrieval.loc[lesson.FUSIONS[1]]
    assert ave["recall@1, the model's score"] == ave["recall@1, cosine of the embeddings"]  # one ranking
    shortcut = lesson.shortcut_table(models[lesson.FUSIONS[0]], models[lesson.FUSIONS[1]], d, TINY)
    names = lesson.metrics(avc, image, sound, retrieval, shortcut)
    assert {"avc_accuracy", "probe_image_100_trained", "probe_image_100_random", "probe_audio_trained",
            "probe_audio_random", "recall1_audio_to_image_concat", "recall1_audio_to_image_ave",
            "probe_image_100_random_std", "recall1_cosine_ave", "probe_image_random_recalibrated",
            "probe_audio_random_recalibrated"} <= set(names)
    assert evaluate.read_of(image, lesson.RANDOM) in summary.loc[lesson.RANDOM].iloc[0]  # the summary names the read
    assert f"C {image.loc[lesson.RANDOM, evaluate.PROBE_C_COLUMN]:g}" in summary.loc[lesson.RANDOM].iloc[0]  # and C
    assert len(lesson.compare_rows(image, sound, *lesson.FUSIONS, ("concat", "ave"))) == 2


def test_every_ordering_compares_recorded_metrics(d, monkeypatch):
    monkeypatch.setattr(lesson.evaluation, "LABELS_PER_CLASS", 2)  # the fake data has few examples of each digit
    models = {f: lesson.make_model(f, TINY, 0).eval() for f in lesson.FUSIONS}
    image_tower, audio_tower = lesson.towers(TINY, 2)
    supervised = lesson.SupervisedPair(nets.Classifier(image_tower, 10), nets.Classifier(audio_tower, 10)).eval()
    rows = {lesson.RANDOM: lesson.towers(TINY, 0), **{f: (m.image_tower, m.audio_tower) for f, m in models.items()},
            lesson.OWENS: (lesson.towers(TINY, 1)[0], None), lesson.SUPERVISED: (image_tower, audio_tower)}
    image = lesson.image_probes({name: i for name, (i, _) in rows.items()}, d, TINY)
    sound = lesson.audio_probes({name: a for name, (_, a) in rows.items()}, d, TINY)
    shortcut = lesson.shortcut_table(models[lesson.FUSIONS[0]], models[lesson.FUSIONS[1]], d, TINY)
    metrics = lesson.metrics({f: 50.0 for f in lesson.FUSIONS}, image, sound,
                             lesson.retrieval_table({**models, lesson.SUPERVISED: supervised}, d), shortcut)
    statements = [ordering.statement for ordering in lesson.ORDERINGS]
    assert len(set(statements)) == len(statements)  # the rows of the seeds table
    for ordering in lesson.ORDERINGS:
        assert isinstance(ordering.gap(metrics), float), ordering.statement  # raises KeyError on an unrecorded name


def test_capped_runs_names_the_runs_that_hit_the_time_cap():
    done, cut = train.History(), train.History()
    done.stopped_by, cut.stopped_by = "5 steps", "time budget: stopped at step 3 of 5 after 61 s"
    assert lesson.capped_runs({"a": done, "b": cut}) == ["b"]


def _easy() -> lesson.SoundsAndImages:
    """Images whose brightness is the digit and spectrograms whose level is the digit: pairs anyone can match."""
    digits = torch.arange(40) % 10
    images = (digits.float() / 9).view(-1, 1, 1, 1).expand(-1, 1, 28, 28).contiguous()
    sounds = ((digits.float() - 4.5) / 3).view(-1, 1, 1, 1).expand(-1, 1, 32, 32).contiguous()
    spoken = SpokenDigits([torch.zeros(10)] * 40, digits, ["theo"] * 40, torch.zeros(40, dtype=torch.long))
    videos = lesson.av.simulate_videos(digits, digits)
    return lesson.SoundsAndImages(images, digits, images, digits, sounds, -sounds, digits, sounds, -sounds, digits,
                                  spoken, spoken, "take", videos, videos)


def test_avc_learns_an_easy_pairing_well_above_chance():
    """A working pipeline matches the easy pairs after 80 small steps; a broken one (pairs mixed up, labels flipped,
    towers not trained) stays near the 50 % of chance. A random negative says the same digit one time in ten."""
    easy = dataclasses.replace(TINY, tower_width=4, pairs_per_step=32, steps=80, seconds=600)  # steps decide
    model, _ = lesson.train_avc(lesson.FUSIONS[1], _easy(), easy, progress=False)
    assert lesson.avc_accuracy(model, _easy(), n=500) > 75


def _flipped_labels(fuse, v, a):
    """A wrong correspondence loss: own pairs labelled 0, negatives 1."""
    logits = fuse(torch.cat([v, v]), torch.cat([a, a.roll(1, 0)]))
    return F.binary_cross_entropy_with_logits(logits, torch.cat([torch.zeros(len(v)), torch.ones(len(v))]))


def test_your_run_trains_a_fresh_ave_net_with_the_loss_it_is_given(capsys, monkeypatch):
    """The short run after the exercise: the course's loss matches the easy pairs, a loss with flipped labels learns
    the opposite -- so the run is trained by the function it is given, and its printed line says so."""
    monkeypatch.setitem(lesson.YOUR_RUN_STEPS, "ci", 60)
    easy = dataclasses.replace(TINY, tower_width=4, pairs_per_step=32, seconds=600)  # steps decide
    model, history = lesson.train_with_your_loss(lesson.avc_loss, _easy(), easy, progress=False)
    assert history.step[-1] == 60 and history.stopped_by == "60 steps"
    assert lesson.avc_accuracy(model, _easy(), n=500) > 75
    fig = lesson.show_your_run(model, history, _easy())
    line = capsys.readouterr().out
    assert line.startswith("after 60 steps: AVC accuracy") and "(chance 50 %)" in line
    assert any(list(line_.get_ydata()) == [0.5, 0.5] for line_ in fig.axes[0].lines)  # the chance line
    flipped, _ = lesson.train_with_your_loss(_flipped_labels, _easy(), easy, progress=False)
    assert lesson.avc_accuracy(flipped, _easy(), n=500) < 40


def test_your_run_is_the_same_for_the_same_seed_and_leaves_the_random_stream_alone(d, monkeypatch):
    monkeypatch.setitem(lesson.YOUR_RUN_STEPS, "ci", 3)
    with random_stream.left_alone():
        first, _ = lesson.train_with_your_loss(lesson.avc_loss, d, TINY, seed=3, progress=False)
    again, _ = lesson.train_with_your_loss(lesson.avc_loss, d, TINY, seed=3, progress=False)
    assert all(torch.equal(p, q) for p, q in zip(first.parameters(), again.parameters(), strict=True))


def test_pictures_show_pairs_and_retrievals(d):
    fig = lesson.show_pairs(d, n=3)
    assert len(fig.axes) == 2 * 3 and all(len(ax.images) == 1 for ax in fig.axes)
    assert {ax.get_title() for ax in fig.axes[:3]} <= {"same video", "another"}
    fig = lesson.show_retrieval(lesson.make_model(lesson.FUSIONS[1], TINY, 0).eval(), d, n_queries=2, top=2)
    assert len(fig.axes) == 2 * 3 and all(len(ax.images) == 1 for ax in fig.axes)
    assert fig.axes[0].get_title().startswith("says ") and fig.axes[1].get_title() in {str(i) for i in range(10)}


def test_training_curves_draw_one_line_per_run(d):
    _, history = lesson.train_avc(lesson.FUSIONS[0], d, TINY, progress=False)
    fig = show.training({"a": history, "b": history}, "acc", ylabel="training batch accuracy")
    (ax,) = fig.axes
    assert len(ax.lines) == 2 and ax.get_ylabel() == "training batch accuracy"


# --- the exercise checkers: an answer written here, and the mistakes students make -----------------------------


def _distance_logit(a, v, b, s):
    """An answer written for this test: ||a - v||^2 = ||a||^2 + ||v||^2 - 2 a.v, row by row."""
    squared = (a * a).sum(1) + (v * v).sum(1) - 2 * (a * v).sum(1)
    return b - s * squared


def _recall_at_1(scores, query_labels, gallery_labels):
    """An answer written for this test: one query at a time, the label of its best-scored gallery item."""
    hits = [int(gallery_labels[max(range(len(row)), key=lambda j: row[j])]) == int(label)
            for row, label in zip(scores.tolist(), query_labels, strict=True)]
    return sum(hits) / len(hits)


def test_checkers_accept_answers_written_here(capsys):
    lesson.check_distance_logit(_distance_logit)
    lesson.check_recall_at_1(_recall_at_1)
    assert capsys.readouterr().out.splitlines() == ["AVE-Net logit: correct, well done.",
                                                    "recall@1: correct, well done."]


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(lambda a, v, b, s: b + s * (a - v).pow(2).sum(1), "the sign is flipped", id="sign-flipped"),
    pytest.param(lambda a, v, b, s: b - s * (a - v).pow(2), "one logit per pair", id="not-summed-over-the-dims"),
    pytest.param(lambda a, v, b, s: b - s * (a - v).pow(2).sum(), r"one logit per pair, shape \(5,\); got \(\)",
                 id="summed-over-the-whole-batch"),
    pytest.param(lambda a, v, b, s: b - s * (a - v).pow(2).sum(1, keepdim=True), r"got \(5, 1\)", id="keepdim"),
    pytest.param(lambda a, v, b, s: b - s * torch.cdist(a, v) ** 2, r"got \(5, 5\)", id="every-pair"),
    pytest.param(lambda a, v, b, s: b - s * (a - v).norm(dim=1), "the Euclidean distance itself, not its square",
                 id="distance-not-squared"),
    pytest.param(lambda a, v, b, s: b - s * (a - v).pow(2).mean(1), "averaged over the D coordinates, not added up",
                 id="averaged-over-the-dims"),
    pytest.param(lambda a, v, b, s: b - s * (1 - (a * v).sum(1)), r"cosine distance \(one minus the cosine\)",
                 id="cosine-distance"),
    pytest.param(lambda a, v, b, s: b + s * F.cosine_similarity(a, v), "the cosine similarity, not the squared",
                 id="cosine-similarity"),
    pytest.param(lambda a, v, b, s: s * (b - (a - v).pow(2).sum(1)), "s scales b as well", id="scale-on-the-bias"),
    pytest.param(lambda a, v, b, s: b - s * (a + v).pow(2).sum(1), r"the logit is -?\d\.\d+, you gave",
                 id="a-sum-not-a-difference"),
])
def test_the_logit_checker_rejects_a_typical_mistake_without_giving_the_answer(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint) as rejected:
        lesson.check_distance_logit(wrong)
    assert not any(code in str(rejected.value) for code in ("pow(", ".sum(", "(a - v)", "norm(")), rejected.value


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(lambda scores, q, g: (g[scores.argmin(1)] == q).float().mean(), "lowest-scored gallery item",
                 id="worst-not-best-item"),
    pytest.param(lambda scores, q, g: (g[scores.argmax(1)] == q).float().sum(), "number of hits, not the fraction",
                 id="count-not-fraction"),
    pytest.param(lambda scores, q, g: 100 * (g[scores.argmax(1)] == q).float().mean(), "a percentage",
                 id="a-percentage"),
    pytest.param(lambda scores, q, g: (scores.argmax(1) == q).float().mean(), "position in the gallery with the "
                 "query's label", id="index-compared-with-the-label"),
    pytest.param(lambda scores, q, g: (g[scores.topk(2, dim=1).indices] == q[:, None]).any(1).float().mean(),
                 r"among the 2 best-scored items \(recall@2\)", id="recall-at-2"),
    pytest.param(lambda scores, q, g: (g[scores.topk(5, dim=1).indices] == q[:, None]).any(1).float().mean(),
                 r"among the 5 best-scored items \(recall@5\)", id="recall-at-5"),
    pytest.param(lambda scores, q, g: (g[scores.argmax(0)] == q).float().mean(),
                 "raised IndexError: .*looked for among the queries", id="argmax-over-the-wrong-axis"),
    pytest.param(lambda scores, q, g: (g[scores.argmax(1)] == q).float(),
                 r"returned shape \(50,\); expected one number", id="hits-not-averaged"),
    pytest.param(lambda scores, q, g: (g[scores.argmax(1)] != q).float().mean(), "expected 0.2[0-9]+, got 0.7[0-9]+: "
                 "recall@1 is the fraction", id="misses-not-hits"),
])
def test_the_recall_checker_rejects_a_typical_mistake_without_giving_the_answer(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint) as rejected:
        lesson.check_recall_at_1(wrong)
    assert not any(code in str(rejected.value) for code in ("argmax", "dim 1", "average the hits", ".mean(")), \
        rejected.value


def _avc_loss(fuse, v, a):
    """An answer written for this test: positives and negatives scored apart, each frame's negative the sound of the
    video before it, the two halves' losses averaged by hand."""
    positives, negatives = fuse(v, a), fuse(v, a.roll(-1, dims=0))
    return -(F.logsigmoid(positives).mean() + F.logsigmoid(-negatives).mean()) / 2


def _avc_loss_random_others(fuse, v, a):
    """Another answer: for every frame its own random other video (an offset 1 ... B - 1), one fuse call."""
    n = len(v)
    other = (torch.arange(n) + torch.randint(1, n, (n,))) % n
    logits = fuse(torch.cat([v, v]), torch.cat([a, a[other]]))
    return F.binary_cross_entropy(torch.sigmoid(logits), torch.cat([torch.ones(n), torch.zeros(n)]))


def test_the_avc_loss_checker_accepts_every_way_of_writing_it(capsys):
    for answer in (lesson.avc_loss, _avc_loss, _avc_loss_random_others):
        lesson.check_avc_loss(answer)
    assert capsys.readouterr().out.splitlines() == ["AVC loss: correct, well done."] * 3


def _pairs(fuse, v, a, sounds, labels=(1.0, 0.0), reduction="mean"):
    """A correspondence loss over each frame with its own sound and with ``sounds`` (the negatives' sounds)."""
    n = len(v)
    logits = fuse(torch.cat([v, v]), torch.cat([a, sounds]))
    target = torch.cat([torch.full((n,), labels[0]), torch.full((n,), labels[1])])
    return F.binary_cross_entropy_with_logits(logits, target, reduction=reduction)


def _every_pair(fuse, v, a):
    n = len(v)
    logits = fuse(v.repeat_interleave(n, 0), a.repeat(n, 1))
    return F.binary_cross_entropy_with_logits(logits, torch.eye(n).flatten())


def _one_recording(fuse, v, a):
    """Negatives that are never a video's own pair but all take one recording: video 0's sound for every frame, video
    1's for frame 0."""
    other = torch.zeros(len(a), dtype=torch.long)
    other[0] = 1
    return _pairs(fuse, v, a, a[other])


def _two_means_added(fuse, v, a):
    """The positives' mean and the negatives' mean added (twice the loss)."""
    positives, negatives = fuse(v, a), fuse(v, a.roll(1, 0))
    return (F.binary_cross_entropy_with_logits(positives, torch.ones_like(positives))
            + F.binary_cross_entropy_with_logits(negatives, torch.zeros_like(negatives)))


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(_one_recording, r"with 40 videos, 39 of the 40 negatives took the sound of one video \(video 0\)",
                 id="negatives-all-one-recording"),
    pytest.param(lambda fuse, v, a: _pairs(fuse, v, a, a[torch.where(torch.arange(len(a)) < len(a) // 2, len(a) - 1,
                                                                      0)]),
                 "20 of the 40 negatives took the sound of one video", id="negatives-two-recordings"),
    pytest.param(_two_means_added, "twice the loss: the mean over the own pairs and the mean over the negatives are "
                 "added", id="two-means-added"),
    pytest.param(lambda fuse, v, a: _pairs(fuse, v, a, a[torch.randperm(len(a))]),
                 "a negative was a video's own pair .*permutation", id="random-permutation"),
    pytest.param(lambda fuse, v, a: _pairs(fuse, v, a, a[(torch.arange(len(a)) + torch.randint(len(a), (len(a),)))
                                                         % len(a)]),
                 "a negative was a video's own pair", id="random-offset-that-may-be-0"),
    pytest.param(lambda fuse, v, a: _pairs(fuse, v, a, a.roll(0, 0)), "own pairs again .*shifted by 0",
                 id="rolled-by-0"),
    pytest.param(lambda fuse, v, a: _pairs(fuse, v, a, a.roll(2, 0)), "own pairs again .*by B", id="rolled-by-2"),
    pytest.param(lambda fuse, v, a: _pairs(fuse, v, a, a.roll(1, 0), labels=(0.0, 1.0)), "labels are flipped",
                 id="labels-flipped"),
    pytest.param(lambda fuse, v, a: F.binary_cross_entropy_with_logits(fuse(v, a), torch.ones(len(v))),
                 "only the B own pairs: there are no negatives", id="only-positives"),
    pytest.param(lambda fuse, v, a: _pairs(fuse, v, a, a.roll(1, 0)).item(), "returned a float.*no .item",
                 id="item"),
    pytest.param(lambda fuse, v, a: _pairs(fuse, v, a, a.roll(1, 0)).detach(), "carries no gradient",
                 id="detached-loss"),
    pytest.param(lambda fuse, v, a: _pairs(fuse, v, a, a.roll(1, 0).detach()), "gradients are not.*detached",
                 id="detached-negatives"),
    pytest.param(lambda fuse, v, a: _pairs(fuse, v, a, a.roll(1, 0), reduction="sum"), "sum over the pairs",
                 id="summed"),
    pytest.param(lambda fuse, v, a: _pairs(fuse, v, a, a.roll(1, 0), reduction="none"),
                 r"returned shape \(8,\); expected one number", id="not-averaged"),
    pytest.param(_every_pair, "one negative per frame, as many negatives as positives", id="every-other-sound"),
    pytest.param(lambda fuse, v, a: _pairs(lambda x, y: fuse(y, x), v, a, a.roll(1, 0)), "frames first",
                 id="sounds-first"),
    pytest.param(lambda fuse, v, a: F.binary_cross_entropy_with_logits(
                     fuse(torch.cat([v, v]), torch.cat([a, a.roll(1, 0)])), torch.cat([torch.ones(4), torch.zeros(4)])),
                 "raised ValueError.*a size written into the function", id="batch-size-written-in"),
    pytest.param(lambda fuse, v, a: _pairs(lambda x, y: fuse(x, y).sigmoid(), v, a, a.roll(1, 0)),
                 "no sigmoid before a ...with_logits loss", id="sigmoid-twice"),
])
def test_the_avc_loss_checker_rejects_a_typical_mistake(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint) as rejected:
        lesson.check_avc_loss(wrong)
    assert not any(code in str(rejected.value) for code in ("roll(", "randint(", "torch.cat", "arange(")), \
        rejected.value


def test_checkers_leave_the_notebooks_random_stream_alone():
    with random_stream.left_alone():
        lesson.check_distance_logit(_distance_logit)
        lesson.check_recall_at_1(_recall_at_1)
        lesson.check_avc_loss(_avc_loss_random_others)
        with pytest.raises(checks.NotYet):
            lesson.check_avc_loss(lambda fuse, v, a: _pairs(fuse, v, a, a[torch.randperm(len(a))]))


def test_every_training_run_of_the_notebook_has_its_own_name(d, run_names):
    lesson.train_owens(d, TINY, progress=False, k=3)
    for fusion in lesson.FUSIONS:
        lesson.train_avc(fusion, d, TINY, progress=False)
    lesson.train_supervised(d, TINY, progress=False)
    lesson.train_avc(lesson.FUSIONS[0], d, TINY, shortcut=True, progress=False)
    assert len(run_names) == len(set(run_names)) == 6  # classes from sound, 2 fusions, 2 towers, the shortcut
