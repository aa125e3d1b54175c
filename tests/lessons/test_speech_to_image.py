"""Tests of course_lib.lessons.speech_to_image on tiny fake data: training, the judge's read-outs, GRID synchrony."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from course_lib import audio, checks, evaluate, train
from course_lib.data import ImageData, SpokenDigits, TalkingClip
from course_lib.lessons import speech_to_image as lesson
from course_lib.lessons.speech_to_image import exercises as lesson_exercises
from course_lib.lessons.speech_to_image import grid_sync
from course_lib.pretext import speech2image as s2i
from course_lib.pretext import temporal_order

TINY = dataclasses.replace(lesson.SIZES["ci"], network_width=4, batch=8, steps=2, judge_steps=2, seconds=30, seeds=2)


@pytest.fixture(scope="module")
def ex() -> lesson.Experiment:
    torch.manual_seed(0)
    digits = torch.arange(30) % 10
    takes = torch.zeros(30, dtype=torch.int64)
    spoken = SpokenDigits([torch.randn(4000) for _ in range(30)], digits, ["x"] * 30, takes)
    images = ImageData(torch.rand(40, 1, 28, 28), torch.arange(40) % 10, [str(d) for d in range(10)])
    speakers = tuple(["jackson", "nicolas", "george"][i % 3] for i in range(30))  # jackson: the validation voice
    return lesson.Experiment(torch.randn(30, 1, 32, 32), digits, speakers, torch.randn(30, 1, 32, 32), digits, spoken,
                             images, images)


def test_sizes_grow_from_ci_to_full():
    ci, lab, full = (lesson.SIZES[name] for name in ("ci", "lab", "full"))
    assert isinstance(ci, lesson.Sizes) and ci.name == "ci" and lab.n_test == 10_000  # shared fields filled in
    assert ci.steps <= lab.steps <= full.steps and ci.judge_steps <= lab.judge_steps <= full.judge_steps
    assert ci.images <= lab.images <= full.images and ci.network_width <= full.network_width
    assert all(sizes.seeds >= 2 for sizes in (ci, lab, full))  # a spread needs two seeds at least


def _spoken(speakers=("theo", "jackson", "nicolas")) -> SpokenDigits:
    """Every digit said once by each speaker: short noisy 'recordings', louder for larger digits."""
    generator = torch.Generator().manual_seed(0)
    digits = torch.arange(10 * len(speakers)) % 10
    waves = [(1 + int(d)) * 0.05 * torch.randn(1200, generator=generator) for d in digits]
    return SpokenDigits(waves, digits, [speakers[i // 10] for i in range(len(digits))], torch.zeros_like(digits))


def test_load_tests_on_a_held_out_speaker(monkeypatch):
    """The split is notebook 08's (``audio.by_speaker``): every test recording is a voice never heard in training."""
    images = ImageData(torch.rand(20, 1, 28, 28), torch.arange(20) % 10, [str(d) for d in range(10)])
    monkeypatch.setattr(lesson.data, "load_fsdd", lambda split, root=None: _spoken())
    monkeypatch.setattr(lesson.data, "load_mnist", lambda train, n=None, root=None: images)
    ex = lesson.load(TINY)
    assert set(ex.test_spoken.speaker) == {"theo"} and len(ex.test_digits) == 10 and len(ex.train_digits) == 20
    assert ex.train_speakers == ("jackson",) * 10 + ("nicolas",) * 10  # one per training recording, in order
    assert ex.test_specs.shape == (10, 1, 32, 32)
    assert abs(ex.train_specs.mean().item()) < 1e-4  # standardised with the training recordings' statistics


class Reads(torch.nn.Module):
    """A fake judge that reads whatever digit it is told to, for every image."""

    def __init__(self, answers: torch.Tensor):
        super().__init__()
        self.answers = answers

    def forward(self, x):
        return torch.nn.functional.one_hot(self.answers[:len(x)], 10).float()


def test_generators_train_with_and_without_skips(ex):
    with_skips, history = lesson.train_generator(ex, TINY, seed=0, skips=True, progress=False)
    without, _ = lesson.train_generator(ex, TINY, seed=0, skips=False, progress=False)
    assert with_skips.skips and not without.skips and len(history["loss"]) >= 1
    specs, identity = ex.test_specs[:30], ex.test_images.x[:30]
    drawn = lesson.generate(with_skips, specs, identity, batch_size=7)
    assert drawn.shape == (30, 1, 28, 28) and not with_skips.training  # drawn in eval mode
    with torch.no_grad():
        assert torch.allclose(drawn, with_skips(specs, identity), atol=1e-5)  # the batches do not show


def test_train_generators_trains_every_variant_from_every_seed(ex):
    models, histories = lesson.train_generators(ex, TINY, seed=5, progress=False)
    assert list(models) == list(lesson.VARIANTS) and all(len(runs) == TINY.seeds for runs in models.values())
    assert [m.skips for m in models["with skips"]] == [True, True] and not models["no skips"][0].skips
    first, second = models["with skips"]
    assert not torch.equal(first.out.weight, second.out.weight)  # two seeds, two different networks
    assert list(lesson.named_runs(histories, seed=5)) == ["with skips, seed 5", "with skips, seed 1005",
                                                          "no skips, seed 5", "no skips, seed 1005"]
    assert lesson.capped_runs(histories, seed=5) == []


def test_capped_runs_names_the_runs_stopped_by_their_time_cap():
    done, capped = train.History(stopped_by="600 steps"), train.History(stopped_by="time budget: stopped at step 9")
    histories = {"with skips": [done, capped], "no skips": [done, done]}
    assert lesson.capped_runs(histories, seed=0) == ["with skips, seed 1000"]


def test_judge_is_a_ten_way_classifier(ex):
    judge, _ = lesson.train_judge(ex, TINY, seed=0, progress=False)
    assert not judge.training and judge(torch.rand(3, 1, 28, 28)).shape == (3, 10)


def test_judge_reads_easy_digits_in_every_style(ex):
    """Digit d is an image filled with (d + 1) / 10: the styles change its edges, never the middle. A judge that
    learns from its labels reads nearly all of them; an untrained or mislabelled one stays near chance (10 %)."""
    labels = torch.arange(200) % 10
    easy = ImageData(((labels + 1) / 10).view(-1, 1, 1, 1).expand(-1, 1, 28, 28).clone(), labels,
                     [str(d) for d in range(10)])
    easy_ex = dataclasses.replace(ex, images=easy, test_images=easy)
    sizes = dataclasses.replace(TINY, network_width=8, batch=32, judge_steps=80)
    judge, history = lesson.train_judge(easy_ex, sizes, seed=0, progress=False)
    assert history.step[-1] == 80
    assert lesson.judge_accuracy(judge, easy_ex) > 80


def test_test_pairs_are_fixed_by_the_seed(ex):
    a, b, c = lesson.test_pairs(ex, 0), lesson.test_pairs(ex, 0), lesson.test_pairs(ex, 1)
    assert a.identity.shape == (30, 1, 28, 28) and len(a.style) == 30
    assert torch.equal(a.identity, b.identity) and not torch.equal(a.identity, c.identity)


def test_recognised_counts_the_spoken_digit(ex):
    pairs = lesson.test_pairs(ex, 0)
    generated = torch.rand(30, 1, 28, 28)
    right = lesson.evaluate_generated(Reads(ex.test_digits), generated, ex, pairs)
    assert right["recognised %"] == 100 and right["identity digit %"] == 0
    copying = lesson.evaluate_generated(Reads(pairs.identity_digits), generated, ex, pairs)
    assert copying["identity digit %"] == 100


def test_style_correlations_see_a_copied_style(ex):
    pairs = lesson.test_pairs(ex, 0)
    scores = lesson.evaluate_generated(Reads(ex.test_digits), pairs.identity, ex, pairs)  # "drawing" = the identity
    assert scores["ink r"] == pytest.approx(1.0) and scores["slant r"] > 0.5


def test_scores_are_mean_and_spread_over_the_seeds(ex):
    """Two 'models' per variant: one always draws the spoken digit, the other never (the judge reads its input)."""
    class Draws(torch.nn.Module):
        def __init__(self, right: bool):
            super().__init__()
            self.right = right

        def forward(self, spectrogram, identity):
            digits = ex.test_digits[:len(spectrogram)] if self.right else (ex.test_digits[:len(spectrogram)] + 1) % 10
            return digits.float().view(-1, 1, 1, 1).expand(-1, 1, 28, 28) / 10

    class ReadsIntensity(torch.nn.Module):
        def forward(self, x):
            return torch.nn.functional.one_hot((x[:, 0, 0, 0] * 10).round().long(), 10).float()

    pairs = lesson.test_pairs(ex, 0)
    scores = lesson.score_generators(ReadsIntensity(), {"with skips": [Draws(True), Draws(False)],
                                                        "no skips": [Draws(True), Draws(True)]}, ex, pairs)
    assert float(scores["with skips"]["recognised %"]) == 50 and scores["with skips"]["recognised %"].std == 50
    assert float(scores["no skips"]["recognised %"]) == 100 and scores["no skips"]["recognised %"].std == 0
    table = lesson.results_table(scores)
    assert table.loc["with skips", "recognised %"] == "50.0 ± 50.0" and list(table.index) == ["with skips", "no skips"]


def test_the_audio_encoder_read_finds_a_digit_its_embedding_carries(ex):
    class Hears(torch.nn.Module):  # an audio "encoder" whose embedding is the spoken digit, one-hot
        def embed(self, specs):
            table = {tuple(s.flatten()[:4].tolist()): d for s, d in zip(ex.train_specs, ex.train_digits, strict=True)}
            table |= {tuple(s.flatten()[:4].tolist()): d for s, d in zip(ex.test_specs, ex.test_digits, strict=True)}
            digits = torch.tensor([int(table[tuple(s.flatten()[:4].tolist())]) for s in specs])
            return torch.nn.functional.one_hot(digits, 10).float()

    class Generator(torch.nn.Module):
        def __init__(self, audio):
            super().__init__()
            self.audio = audio

    assert float(lesson.audio_encoder_reads([Generator(Hears())], ex)) == 100.0


def test_the_audio_encoder_read_chooses_its_c_on_the_validation_voice(ex, monkeypatch):
    """The probe learns from every training voice but ``VALIDATION_SPEAKER``, chooses C on that voice, and is
    tested on the held-out voice."""
    seen = {}

    def spy(train, train_y, val, val_y, test, test_y, **options):
        seen.update(train=len(train_y), val=len(val_y), test=len(test_y), Cs=options["Cs"])
        return evaluate.LayerScores(test={layer: evaluate.Spread(50.0) for layer in train}, val={})

    class Encoder(torch.nn.Module):
        def embed(self, specs):
            return specs.flatten(1)[:, :8]

    class Generator(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.audio = Encoder()

    monkeypatch.setattr(evaluate, "probe_layers", spy)
    assert float(lesson.audio_encoder_reads([Generator()], ex, Cs=(0.3, 1.0, 3.0))) == 50.0
    held = sum(s == audio.VALIDATION_SPEAKER for s in ex.train_speakers)
    assert held == 10 and seen == dict(train=20, val=10, test=len(ex.test_digits), Cs=(0.3, 1.0, 3.0))


def test_the_judge_reads_the_l1_optimum_of_the_spoken_digit(ex):
    class ReadsNothing(torch.nn.Module):  # always reads 0
        def forward(self, x):
            return torch.nn.functional.one_hot(torch.zeros(len(x), dtype=torch.long), 10).float()

    pairs = lesson.test_pairs(ex, 0)
    assert lesson.l1_optimum_reads(ReadsNothing(), ex, pairs) == pytest.approx(10.0)  # the 0s of 30 digits 0 ... 9


def test_metrics_have_the_issue_names_and_the_spread():
    scores = {"with skips": {"recognised %": evaluate.Spread(80.0, 2.0, 3)},
              "no skips": {"recognised %": evaluate.Spread(70.0, 5.0, 3)}}
    assert lesson.metrics(scores) == {"generated_recognised_accuracy": 80.0, "generated_recognised_accuracy_std": 2.0,
                                      "generated_recognised_accuracy_no_skips": 70.0,
                                      "generated_recognised_accuracy_no_skips_std": 5.0}
    for ordering in lesson.ORDERINGS:  # every ordering the notebook states is on numbers it records
        assert {ordering.better, ordering.than} <= set(lesson.metrics(scores)), ordering.statement


def test_show_generated_titles_what_the_judge_reads(ex):
    models = {"with skips": s2i.Speech2Image(4, True).eval(), "no skips": s2i.Speech2Image(4, False).eval()}
    pairs = lesson.test_pairs(ex, 0)
    judge = Reads(torch.zeros(30, dtype=torch.int64))  # reads 0 in everything
    fig = lesson.show_generated(judge, models, ex, pairs, n=4)
    assert len(fig.axes) == 3 * 4 and all(len(ax.images) == 1 for ax in fig.axes)  # identity row + one per model
    assert all(ax.get_title().startswith("says ") for ax in fig.axes[:4])
    assert all(ax.get_title() == "reads 0" for ax in fig.axes[4:])
    assert [ax.get_ylabel() for ax in fig.axes[::4]] == ["identity (input)", "with skips", "no skips"]


def test_show_task_shows_speech_identity_and_target(ex):
    fig = lesson.show_task(ex, n=4)
    assert len(fig.axes) == 3 * 4 and all(len(ax.images) == 1 for ax in fig.axes)
    assert all(ax.get_title().startswith("says ") for ax in fig.axes[:4])
    assert [ax.get_ylabel() for ax in fig.axes[::4]] == ["input: speech", "input: identity", "target"]


def test_show_l1_optimum_puts_the_drawing_beside_the_median_digit(ex):
    fig = lesson.show_l1_optimum(s2i.Speech2Image(4, True).eval(), ex, lesson.test_pairs(ex, 0), n=3)
    assert len(fig.axes) == 4 * 3 and all(len(ax.images) == 1 for ax in fig.axes)
    assert [ax.get_ylabel() for ax in fig.axes[::3]] == ["identity", "drawn", "L1 optimum (median)", "one real digit"]
    assert all(ax.get_title().startswith("says ") for ax in fig.axes[:3])


def test_one_voice_many_writers_draws_a_row_of_each(ex):
    fig = lesson.show_one_voice_many_writers(s2i.Speech2Image(4, True).eval(), ex, digit=3, n=3)
    assert len(fig.axes) == 2 * 3 and all(len(ax.images) == 1 for ax in fig.axes)
    assert [ax.get_ylabel() for ax in fig.axes[::3]] == ["identity", "'3', drawn"]


# --- GRID synchrony ---------------------------------------------------------------------------------------------

def talking(shift: int, frames: int = 60, rate: int = 8000, fps: float = 25.0) -> TalkingClip:
    """A fake clip: the sound's loudness follows a random signal; the pixels in the mouth box change between frames
    t and t + 1 by the same signal ``shift`` frames later (shift > 0: the mouth moves after the sound)."""
    generator = torch.Generator().manual_seed(shift + 100)
    signal = 0.2 + 0.8 * torch.rand(frames, generator=generator)
    per_frame = int(rate / fps)
    wave = (torch.randn(frames * per_frame, generator=generator) * signal.repeat_interleave(per_frame)).float()
    steps = 0.4 * torch.roll(signal, shift) * (-1.0) ** torch.arange(frames)  # up, down, up ...: stays in [0, 1]
    levels = 0.3 + torch.cat([torch.zeros(1), torch.cumsum(steps, 0)[:-1]])
    frames_ = torch.zeros(frames, 3, 288, 360)
    top, bottom, left, right = lesson.MOUTH_BOX
    frames_[:, :, top:bottom, left:right] = levels.view(-1, 1, 1, 1)
    return TalkingClip(frames_, fps, "fake", "a test", wave, rate, "bin blue at f two now")


def test_motion_energy_sees_only_the_box():
    clip = talking(0, frames=10)
    assert lesson.motion_energy(clip).shape == (9,)
    outside = lesson.motion_energy(clip, box=(0, 50, 0, 50))
    assert torch.all(outside == 0) and lesson.motion_energy(clip).sum() > 0


def test_motion_energy_is_the_mean_absolute_frame_difference_in_the_box():
    clip = talking(0, frames=6)
    clip.frames[:, :, 200:210, 130:140] = torch.rand(6, 1, 10, 10).expand(-1, 3, -1, -1)  # grey, any texture
    top, bottom, left, right = lesson.MOUTH_BOX
    grey = clip.grey()[:, 0, top:bottom, left:right]
    by_hand = (grey[1:] - grey[:-1]).abs().mean((1, 2))
    assert torch.allclose(lesson.motion_energy(clip), by_hand, atol=1e-6)
    assert torch.allclose(lesson.motion_energy(clip), temporal_order.motion_energy(grey[None, :, None])[0])


def test_loudness_has_one_value_per_frame():
    clip = talking(0, frames=30)
    assert lesson.loudness(clip).shape == (30,)


def test_sync_curve_peaks_at_a_planted_offset():
    sound = torch.randn(80, generator=torch.Generator().manual_seed(0))
    for shift in (-3, 0, 5):
        curve = lesson.sync_curve(sound, torch.roll(sound, shift), max_offset=8)
        assert curve.shape == (17,) and lesson.best_offset(curve) == shift
        assert curve.max() == pytest.approx(1.0, abs=1e-5)


def test_sync_curve_refuses_too_short_signals():
    with pytest.raises(ValueError, match="too few"):
        lesson.sync_curve(torch.randn(15), torch.randn(15), max_offset=8)


def test_synchrony_of_a_fake_talking_clip_is_found():
    clip = talking(2)
    curve = lesson.sync_curve(lesson.loudness(clip), lesson.motion_energy(clip), max_offset=5)
    assert lesson.best_offset(curve) == 2


def test_mismatched_curves_pair_every_sound_with_every_other_mouth(monkeypatch):
    clips = {name: talking(shift) for name, shift in (("a", 0), ("b", 1), ("c", 2))}
    monkeypatch.setattr(grid_sync, "load_grid", lambda name, root=None: clips[name])
    curves = lesson.mismatched_curves(("a", "b", "c"), max_offset=4)
    assert set(curves) == {("a", "b"), ("a", "c"), ("b", "a"), ("b", "c"), ("c", "a"), ("c", "b")}
    a, c = clips["a"], clips["c"]
    assert torch.equal(curves["a", "c"], lesson.sync_curve(lesson.loudness(a), lesson.motion_energy(c), 4))


def _planted(matched_r: float, mismatched_r: float, n: int = 6):
    """Curves over 5 offsets whose value at offset 0 is ``matched_r`` for a clip's own sound, else ``mismatched_r``."""
    curve = lambda r: torch.tensor([0.0, 0.0, r, 0.0, 0.0])  # noqa: E731
    names = [str(i) for i in range(n)]
    return ({a: curve(matched_r) for a in names},
            {(a, b): curve(mismatched_r) for a in names for b in names if a != b})


def test_shuffled_pairings_find_synchrony_only_where_the_own_sound_fits_better():
    matched, shuffled, p = lesson.shuffled_pairings(*_planted(0.6, 0.2), shuffles=2000)
    assert matched == pytest.approx(0.6) and shuffled < matched and p < 0.01
    _, _, p_rhythm_only = lesson.shuffled_pairings(*_planted(0.3, 0.3), shuffles=200)
    assert p_rhythm_only == 1.0  # every pairing is as good as the matched one: no synchrony


def test_matched_and_mismatched_reads_offset_zero_and_the_peak():
    table = lesson.matched_and_mismatched(*_planted(0.6, 0.2))
    assert table["mean r at 0"].tolist() == [0.6, 0.2] and table["curves"].tolist() == [6, 30]
    assert table["at offset"].tolist() == [0, 0]


def test_show_mouth_box_draws_the_box_and_both_signals():
    fig = lesson.show_mouth_box(talking(0), frame=5)
    image, signals = fig.axes
    assert len(image.images) == 1 and len(image.patches) == 1  # the frame and the red box
    assert len(signals.lines) == 2 and signals.get_title() == "sound and mouth motion"


def test_show_sync_curves_draws_every_clip_and_their_mean():
    fig = lesson.show_sync_curves({"a": torch.rand(21), "b": torch.rand(21), "c": torch.rand(21)})
    (ax,) = fig.axes
    assert len(ax.lines) == 3 + 1 + 1  # three clips, their mean, the dotted line at offset 0
    with_control = lesson.show_sync_curves({"a": torch.rand(21)}, {("a", "b"): torch.rand(21)})
    assert len(with_control.axes[0].lines) == 1 + 1 + 1 + 1  # the clip, its mean, the control's mean, offset 0
    assert ax.get_legend().get_texts()[0].get_text() == "mean of 3 clips"


# --- the exercise checkers: an answer written here, and the mistakes students make -----------------------------


def _pearson(a, b) -> float:
    a, b = a.double() - a.double().mean(), b.double() - b.double().mean()
    return float((a * b).sum() / (a.norm() * b.norm()))


def _best_offset(sound, motion, max_offset):
    """An answer written for this test: Pearson's r by hand, in float64, over the sound's middle frames."""
    n = len(sound)
    frames = sound[max_offset:n - max_offset]
    return max(range(-max_offset, max_offset + 1),
               key=lambda o: _pearson(frames, motion[max_offset + o:n - max_offset + o]))


def _best_offset_numpy(sound, motion, max_offset):
    """The same in NumPy, returning a NumPy integer."""
    s, m, n = sound.numpy(), motion.numpy(), len(sound)
    scores = [np.corrcoef(s[max_offset:n - max_offset], m[max_offset + o:n - max_offset + o])[0, 1]
              for o in range(-max_offset, max_offset + 1)]
    return np.argmax(scores) - max_offset


def _notebook_best_offset(sound, motion, max_offset):
    """The notebook's solution, returning a 0-d tensor."""
    n = len(sound)
    a = sound[max_offset:n - max_offset]
    scores = torch.stack([torch.corrcoef(torch.stack([a, motion[max_offset + o:n - max_offset + o]]))[0, 1]
                          for o in range(-max_offset, max_offset + 1)])
    return scores.argmax() - max_offset


def test_every_offset_case_plants_its_offset_clearly():
    """Each case's reference answer is the planted offset, ahead of the next best offset by a clear margin (so that
    any correct way of computing Pearson's r gives the same answer)."""
    for case in lesson_exercises.OFFSET_CASES:
        sound, motion = case.signals()
        assert sound.shape == motion.shape == (case.frames,)
        curve = lesson.sync_curve(sound, motion, case.max_offset)
        assert lesson.best_offset(curve) == case.shift, case.what
        assert curve.topk(2).values.diff().abs() > 0.01, case.what


def test_every_offset_mistake_is_caught_by_some_case():
    """Each usual mistake answers differently from the exercise on at least one case."""
    cases = [(case, *case.signals()) for case in lesson_exercises.OFFSET_CASES]
    for mistake, wrong in lesson_exercises.OFFSET_MISTAKES.items():
        assert any(wrong(sound, motion, case.max_offset) != case.shift for case, sound, motion in cases), mistake


@pytest.mark.parametrize("right", [
    pytest.param(_best_offset, id="pearson-by-hand"),
    pytest.param(_best_offset_numpy, id="numpy-integer"),
    pytest.param(_notebook_best_offset, id="notebook-0d-tensor"),
    pytest.param(lambda s, m, k: lesson.best_offset(lesson.sync_curve(s, m, k)), id="the-library"),
    pytest.param(lambda s, m, k: float(_best_offset(s, m, k)), id="a-float"),
    pytest.param(lambda s, m, k: torch.tensor([_best_offset(s, m, k)]), id="one-element-tensor"),
])
def test_best_offset_checker_accepts_answers_written_here(right, capsys):
    lesson.check_best_offset(right)
    assert "best offset: correct" in capsys.readouterr().out


def _scored(score, sound, motion, max_offset, offsets=None):
    n = len(sound)
    frames = sound[max_offset:n - max_offset]
    offsets = range(-max_offset, max_offset + 1) if offsets is None else offsets
    return max(offsets, key=lambda o: score(frames, motion[max_offset + o:n - max_offset + o]))


def _dot_product(sound, motion, max_offset):
    return _scored(lambda a, b: float(a @ b), sound, motion, max_offset)


def _cosine(sound, motion, max_offset):
    return _scored(lambda a, b: float(a @ b / (a.norm() * b.norm())), sound, motion, max_offset)


def _covariance(sound, motion, max_offset):
    return _scored(lambda a, b: float((a - a.mean()) @ (b - b.mean())), sound, motion, max_offset)


def _z_scored_once(sound, motion, max_offset):
    """The whole signals z-scored once, then the mean of products in each window (no per-window mean or spread)."""
    sound, motion = (sound - sound.mean()) / sound.std(), (motion - motion.mean()) / motion.std()
    return _scored(lambda a, b: float((a * b).mean()), sound, motion, max_offset)


def _largest_absolute_r(sound, motion, max_offset):
    return _scored(lambda a, b: abs(_pearson(a, b)), sound, motion, max_offset)


def _rolled(sound, motion, max_offset):
    return max(range(-max_offset, max_offset + 1), key=lambda o: _pearson(sound, torch.roll(motion, -o)))


def _overlapping(sound, motion, max_offset):
    n = len(sound)

    def score(o):
        return _pearson(sound[:n - o], motion[o:]) if o >= 0 else _pearson(sound[-o:], motion[:n + o])

    return max(range(-max_offset, max_offset + 1), key=score)


def _index_of_best(sound, motion, max_offset):
    n = len(sound)
    frames = sound[max_offset:n - max_offset]
    scores = [_pearson(frames, motion[max_offset + o:n - max_offset + o]) for o in range(-max_offset, max_offset + 1)]
    return int(np.argmax(scores))


def _best_score(sound, motion, max_offset):
    n = len(sound)
    frames = sound[max_offset:n - max_offset]
    return max(_pearson(frames, motion[max_offset + o:n - max_offset + o]) for o in range(-max_offset, max_offset + 1))


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(lambda s, m, k: -_best_offset(s, m, k), "sign is flipped", id="sign-flipped"),
    pytest.param(lambda s, m, k: _best_offset(m, s, k), "sign is flipped", id="sound-and-motion-swapped"),
    pytest.param(_dot_product, "plain sum of products", id="dot-product-not-normalised"),
    pytest.param(_cosine, "without the means subtracted", id="cosine-not-centred"),
    pytest.param(_covariance, "each window's own mean and spread", id="covariance-not-scaled"),
    pytest.param(_z_scored_once, "each window's own mean and spread", id="whole-signal-z-scored-once"),
    pytest.param(_largest_absolute_r, r"largest \|r\|.*the best line-up is the largest r", id="largest-absolute-r"),
    pytest.param(lambda s, m, k: _scored(lambda a, b: -_pearson(a, b), s, m, k), "picks the smallest r",
                 id="smallest-r"),
    pytest.param(_rolled, "torch.roll wraps", id="torch-roll-wraps-round"),
    pytest.param(_overlapping, "compared the frames that overlap", id="windows-of-different-lengths"),
    pytest.param(_index_of_best, "position of the best score", id="index-not-offset"),
    pytest.param(lambda s, m, k: _scored(_pearson, s, m, k, range(-k, k)), "stop one short of \\+max_offset",
                 id="range-misses-the-top"),
    pytest.param(lambda s, m, k: _scored(_pearson, s, m, k, range(-k + 1, k + 1)), "start one above",
                 id="range-misses-the-bottom"),
    pytest.param(_best_score, "not a whole number of frames: return the offset", id="the-score-not-the-offset"),
    pytest.param(lambda s, m, k: lesson.sync_curve(s, m, k), r"returned shape \(17,\)", id="the-whole-curve"),
    pytest.param(lambda s, m, k: 0, "your offset \\(\\+0\\) is not where the two line up", id="always-in-sync"),
    pytest.param(lambda s, m, k: _best_offset(s.view(80), m.view(80), k), "a length written into the function",
                 id="a-length-written-in"),
])
def test_best_offset_checker_rejects_a_typical_mistake_without_giving_the_answer(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint) as rejected:
        lesson.check_best_offset(wrong)
    assert not any(code in str(rejected.value) for code in ("corrcoef", "argmax", "range(")), rejected.value


# --- the L1-optimal image -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("right", [
    pytest.param(lesson.l1_optimal, id="the-library"),
    pytest.param(lambda x: x.quantile(0.5, dim=0), id="quantile-midpoint-for-even-n"),
    pytest.param(lambda x: np.median(x.numpy(), axis=0), id="numpy-median"),
    pytest.param(lambda x: x.sort(dim=0).values[len(x) // 2], id="upper-middle-for-even-n"),
    pytest.param(lambda x: x.median(dim=0)[0], id="median-first-of-the-pair"),
])
def test_l1_optimal_checker_accepts_every_l1_optimal_answer(right, capsys):
    lesson.check_l1_optimal(right)
    assert "L1-optimal image: correct" in capsys.readouterr().out


def test_l1_optimal_is_the_per_pixel_median_and_beats_the_mean_in_l1():
    stack = lesson_exercises._inked_stack(0, 7, 2, 5, 4)
    median = lesson.l1_optimal(stack)
    assert median.shape == (2, 5, 4)
    l1 = lambda image: float((stack - image).abs().sum())  # noqa: E731
    assert l1(median) < l1(stack.mean(0)) and l1(median) <= l1(median + 0.01) and l1(median) <= l1(median - 0.01)


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(lambda x: x.mean(0), "per-pixel mean", id="the-mean"),
    pytest.param(lambda x: x.max(0).values, "per-pixel maximum", id="the-max"),
    pytest.param(lambda x: x.mode(0).values, "most frequent value", id="the-mode"),
    pytest.param(lambda x: x.flatten(1).median(1).values, r"returned shape \(5,\).*over the pixels of each image",
                 id="over-the-pixels-not-the-images"),
    pytest.param(lambda x: x.median(-1).values, "along each row", id="over-the-last-axis"),
    pytest.param(lambda x: x.median(1).values, "combined the channels", id="over-the-channels"),
    pytest.param(lambda x: x.median(), "one number for the whole stack", id="the-whole-stack-flattened"),
    pytest.param(lambda x: x.median().expand(x.shape[1:]), "every pixel of your image holds the same value",
                 id="the-whole-stack-broadcast"),
    pytest.param(lambda x: x.sort(0).values, r"returned shape \(5, 1, 4, 6\).*a stack of 5 images",
                 id="a-stack-of-n-images"),
    pytest.param(lambda x: x.median(0, keepdim=True).values, "extra axis of size 1", id="keepdim"),
    pytest.param(lambda x: x.median(0), "returns two things", id="the-pair-of-values-and-indices"),
    pytest.param(lambda x: x.median(0).indices, "positions", id="the-indices"),
    pytest.param(lambda x: x.sort(0).values[len(x) // 2 - 1], "one place below the middle", id="one-below-middle"),
    pytest.param(lambda x: x.reshape(5, 1, 4, 6).median(0).values, "a size written into", id="a-size-written-in"),
])
def test_l1_optimal_checker_rejects_a_typical_mistake_without_giving_the_answer(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint) as rejected:
        lesson.check_l1_optimal(wrong)
    assert not any(code in str(rejected.value) for code in ("median(", "dim=0", ".values", "sort(")), rejected.value


def test_digit_targets_are_styled_images_of_each_digit(ex):
    targets = lesson.digit_targets(ex, n=3, seed=0)
    assert len(targets) == 10 and all(t.shape == (3, 1, 28, 28) for t in targets)
    assert torch.equal(targets[4], lesson.digit_targets(ex, n=3, seed=0)[4])  # fixed by the seed
    assert not torch.equal(targets[4], lesson.digit_targets(ex, n=3, seed=1)[4])
    optima = lesson.per_digit(lambda x: np.median(x.numpy(), axis=0), targets)
    assert optima.shape == (10, 1, 28, 28) and torch.allclose(optima, lesson.per_digit(lesson.l1_optimal, targets))


def test_show_your_l1_optimal_reads_the_medians_and_means(ex, capsys):
    judge = Reads(torch.arange(10))  # reads digit d in the d-th image of every row
    fig = lesson.show_your_l1_optimal(lesson.l1_optimal, judge, s2i.Speech2Image(4, True).eval(), ex,
                                      lesson.test_pairs(ex, 0))
    assert "the judge reads 10 of the 10 L1-optimal images (100 %) and 10 of the 10 means" in capsys.readouterr().out
    assert len(fig.axes) == 3 * 10 and all(len(ax.images) == 1 for ax in fig.axes)
    assert [ax.get_ylabel() for ax in fig.axes[::10]] == ["drawn (a test recording)", "L1 optimum (median)",
                                                          "L2 optimum (mean)"]
    assert fig.axes[3].get_title() == "says 3, reads 3" and fig.axes[13].get_title() == "reads 3"


def _training_loss(model, batch):
    """An answer written for this test: |drawn - target| summed, divided by the number of pixels of the batch."""
    spectrogram, identity, target = batch
    drawn = model(spectrogram, identity)
    return (drawn - target).abs().sum() / target.numel()


@pytest.mark.parametrize("right", [
    pytest.param(s2i.l1_loss, id="the-library"),
    pytest.param(_training_loss, id="written-here"),
    pytest.param(lambda model, batch: torch.nn.functional.l1_loss(model(batch[0], batch[1]), batch[2]),
                 id="l1-loss-by-index"),
    pytest.param(lambda model, batch: (model(*batch[:2]) - batch[2]).abs().mean(dim=(1, 2, 3)).mean().reshape(1),
                 id="per-image-means-then-their-mean"),
])
def test_training_loss_checker_accepts_the_reference_and_answers_written_here(right, capsys):
    lesson.check_training_loss(right)
    assert "training loss: correct" in capsys.readouterr().out


def _squared(model, batch):
    spectrogram, identity, target = batch
    return torch.nn.functional.mse_loss(model(spectrogram, identity), target)


def _towards_identity(model, batch):
    spectrogram, identity, _ = batch
    return (model(spectrogram, identity) - identity).abs().mean()


def _summed(model, batch):
    spectrogram, identity, target = batch
    return (model(spectrogram, identity) - target).abs().sum()


def _without_gradients(model, batch):
    with torch.no_grad():
        return _training_loss(model, batch)


def _inputs_swapped(model, batch):
    spectrogram, identity, target = batch
    return (model(identity, spectrogram) - target).abs().mean()


def _unpacked_wrong(model, batch):
    spectrogram, target, identity = batch
    return (model(spectrogram, identity) - target).abs().mean()


def _signed(model, batch):
    spectrogram, identity, target = batch
    return (model(spectrogram, identity) - target).mean()


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(_squared, r"squared error \(L2\)", id="squared-error"),
    pytest.param(_towards_identity, "compared the drawing with the identity image", id="towards-the-identity-image"),
    pytest.param(_summed, "added up, not averaged", id="summed-not-averaged"),
    pytest.param(_signed, "not taken in absolute value", id="signed-differences"),
    pytest.param(_unpacked_wrong, "unpacked in the wrong order", id="batch-unpacked-in-the-wrong-order"),
    pytest.param(_inputs_swapped, "your function raised RuntimeError: .*got its two inputs the other way round",
                 id="model-inputs-swapped"),
    pytest.param(lambda model, batch: _training_loss(model, batch).item(), "you returned a float.*no .item()",
                 id="item-detaches"),
    pytest.param(_without_gradients, "carries no gradient", id="computed-without-gradients"),
    pytest.param(lambda model, batch: (model(*batch[:2]) - batch[2]).abs().mean((2, 3)),
                 r"returned shape \(3, 1\); expected one number", id="a-loss-per-image"),
])
def test_training_loss_checker_rejects_a_typical_mistake_without_giving_the_answer(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint) as rejected:
        lesson.check_training_loss(wrong)
    assert not any(code in str(rejected.value) for code in ("abs()", ".mean()", "model(spectrogram")), rejected.value


def test_every_training_run_of_the_notebook_has_its_own_name(ex, run_names):
    lesson.train_generators(ex, TINY, seed=5, progress=False)
    lesson.train_judge(ex, TINY, progress=False)
    assert run_names == ["with-skips-seed-5", "no-skips-seed-5", "with-skips-seed-1005", "no-skips-seed-1005",
                         "judge"]
