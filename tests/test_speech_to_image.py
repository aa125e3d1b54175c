"""Tests of course_lib.speech_to_image on tiny fake data: training runs, the judge's read-outs, GRID synchrony."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
import torch

from course_lib import checks, config
from course_lib import speech_to_image as sti
from course_lib.data import ImageData, SpokenDigits, TalkingClip
from course_lib.pretext import speech2image as s2i

TINY = dataclasses.replace(config.get_profile("ci"), s2i_width=4, s2i_batch=8, s2i_steps=2, s2i_judge_steps=2,
                           s2i_seconds=30)


@pytest.fixture(scope="module")
def ex() -> sti.Experiment:
    torch.manual_seed(0)
    digits = torch.arange(30) % 10
    takes = torch.zeros(30, dtype=torch.int64)
    spoken = SpokenDigits([torch.randn(4000) for _ in range(30)], digits, ["x"] * 30, takes)
    images = ImageData(torch.rand(40, 1, 28, 28), torch.arange(40) % 10, [str(d) for d in range(10)])
    return sti.Experiment(torch.randn(30, 1, 32, 32), digits, torch.randn(30, 1, 32, 32), digits, spoken, images,
                          images)


class Reads(torch.nn.Module):
    """A fake judge that reads whatever digit it is told to, for every image."""

    def __init__(self, answers: torch.Tensor):
        super().__init__()
        self.answers = answers

    def forward(self, x):
        return torch.nn.functional.one_hot(self.answers[:len(x)], 10).float()


def test_generators_train_with_and_without_skips(ex):
    with_skips, history = sti.train_generator(ex, TINY, seed=0, skips=True, progress=False)
    without, _ = sti.train_generator(ex, TINY, seed=0, skips=False, progress=False)
    assert with_skips.skips and not without.skips and len(history["loss"]) >= 1
    drawn = sti.generate(with_skips, ex.test_specs, ex.test_images.x[:30])
    assert drawn.shape == (30, 1, 28, 28) and 0 <= drawn.min() and drawn.max() <= 1


def test_judge_is_a_ten_way_classifier(ex):
    judge, _ = sti.train_judge(ex, TINY, seed=0, progress=False)
    assert judge(torch.rand(3, 1, 28, 28)).shape == (3, 10)
    assert 0 <= sti.judge_accuracy(judge, ex) <= 100


def test_test_pairs_are_fixed_by_the_seed(ex):
    a, b, c = sti.test_pairs(ex, 0), sti.test_pairs(ex, 0), sti.test_pairs(ex, 1)
    assert a.identity.shape == (30, 1, 28, 28) and len(a.style) == 30
    assert torch.equal(a.identity, b.identity) and not torch.equal(a.identity, c.identity)


def test_recognised_counts_the_spoken_digit(ex):
    pairs = sti.test_pairs(ex, 0)
    generated = torch.rand(30, 1, 28, 28)
    right = sti.evaluate_generated(Reads(ex.test_digits), generated, ex, pairs)
    assert right["recognised %"] == 100 and right["identity digit %"] == 0
    copying = sti.evaluate_generated(Reads(pairs.identity_digits), generated, ex, pairs)
    assert copying["identity digit %"] == 100


def test_style_correlations_see_a_copied_style(ex):
    pairs = sti.test_pairs(ex, 0)
    scores = sti.evaluate_generated(Reads(ex.test_digits), pairs.identity, ex, pairs)  # "drawing" = the identity
    assert scores["ink r"] == pytest.approx(1.0) and scores["slant r"] > 0.5


def test_metrics_have_the_issue_names():
    table = pd.DataFrame({"recognised %": {"with skips": 80.0, "no skips": 70.0}})
    assert sti.metrics(table) == {"generated_recognised_accuracy": 80.0,
                                  "generated_recognised_accuracy_no_skips": 70.0}


def test_show_functions_draw(ex):
    models = {"with skips": s2i.Speech2Image(4, True).eval(), "no skips": s2i.Speech2Image(4, False).eval()}
    pairs = sti.test_pairs(ex, 0)
    judge = Reads(torch.zeros(30, dtype=torch.int64))
    assert sti.show_generated(judge, models, ex, pairs, n=4).axes
    assert sti.show_task(ex, n=4).axes
    assert sti.show_one_voice_many_writers(models["with skips"], ex, digit=3, n=3).axes


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
    top, bottom, left, right = sti.MOUTH_BOX
    frames_[:, :, top:bottom, left:right] = levels.view(-1, 1, 1, 1)
    return TalkingClip(frames_, fps, "fake", "a test", wave, rate, "bin blue at f two now")


def test_motion_energy_sees_only_the_box():
    clip = talking(0, frames=10)
    assert sti.motion_energy(clip).shape == (9,)
    outside = sti.motion_energy(clip, box=(0, 50, 0, 50))
    assert torch.all(outside == 0) and sti.motion_energy(clip).sum() > 0


def test_loudness_has_one_value_per_frame():
    clip = talking(0, frames=30)
    assert sti.loudness(clip).shape == (30,)


def test_sync_curve_peaks_at_a_planted_offset():
    sound = torch.randn(80, generator=torch.Generator().manual_seed(0))
    for shift in (-3, 0, 5):
        curve = sti.sync_curve(sound, torch.roll(sound, shift), max_offset=8)
        assert curve.shape == (17,) and sti.best_offset(curve) == shift
        assert curve.max() == pytest.approx(1.0, abs=1e-5)


def test_sync_curve_refuses_too_short_signals():
    with pytest.raises(ValueError, match="too few"):
        sti.sync_curve(torch.randn(15), torch.randn(15), max_offset=8)


def test_synchrony_of_a_fake_talking_clip_is_found():
    clip = talking(2)
    curve = sti.sync_curve(sti.loudness(clip), sti.motion_energy(clip), max_offset=5)
    assert sti.best_offset(curve) == 2


def test_show_mouth_box_and_curves():
    clip = talking(0)
    assert sti.show_mouth_box(clip, frame=5).axes
    assert sti.show_sync_curves({"a": torch.rand(21), "b": torch.rand(21)}).axes


def test_exercise_checker_accepts_the_answer_and_rejects_a_wrong_one():
    sti.check_best_offset(lambda sound, motion, m: sti.best_offset(sti.sync_curve(sound, motion, m)))
    with pytest.raises(checks.NotYet):
        sti.check_best_offset(lambda sound, motion, m: 0)
