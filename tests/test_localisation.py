import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import checks, localisation, widgets
from course_lib.data import ImageData, SpokenDigits


def _fake_data(n_images=60, n_recordings=40):
    """Digit d is an image filled with (d + 1) / 10 and a "spectrogram" filled with d: an oracle can read both."""
    labels = torch.arange(n_images) % 10
    images = ImageData(((labels + 1) / 10).view(-1, 1, 1, 1).expand(-1, 1, 28, 28).clone(), labels,
                       [str(d) for d in range(10)])
    said = torch.arange(n_recordings) % 10
    spoken = SpokenDigits([torch.zeros(800) + d for d in said.tolist()], said, ["x"] * n_recordings,
                          torch.arange(n_recordings) // 10)
    sounds = said.float().view(-1, 1, 1, 1).expand(-1, 1, 32, 32).clone()
    return localisation.SoundsAndDigits(images, images, sounds, sounds, spoken, spoken)


class Oracle(nn.Module):
    """An AVOL-Net stand-in that knows the answer: one-hot digit embeddings for sounds and for canvas locations."""

    def __init__(self):
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(1))

    def audio_embedding(self, sounds):
        return F.one_hot(sounds[:, 0, 0, 0].round().long(), 11).float()

    def image_map(self, canvases):
        cells = canvases[:, 0, 2::4, 2::4]  # 16 x 16: the pixel at the centre of each 4 x 4 cell
        digit = torch.where(cells > 0, (cells * 10).round() - 1, torch.full_like(cells, 10)).long()
        return F.one_hot(digit, 11).permute(0, 3, 1, 2).float()

    forward = localisation.ots.AVOLNet.forward


class _Profile:
    avol_test_canvases, avol_digits = 400, 2


def test_scenes_pair_each_canvas_with_a_recording_of_one_of_its_digits():
    data = _fake_data()
    s = localisation.scenes(data.train_images, data.train_spoken, 50, 2, torch.Generator().manual_seed(0))
    assert torch.equal(data.train_spoken.digit[s.recording], s.spoken)
    assert (s.canvases.digits == s.spoken[:, None]).any(1).all()
    assert torch.equal(s.spoken_box, s.canvases.boxes[torch.arange(50), s.slot])


def test_batches_are_fresh_and_consistent():
    data = _fake_data()
    stream = localisation.batches(data, batch_size=8, k=2, seed=0)
    sounds, canvases, spoken, digits = next(stream)
    assert sounds.shape == (8, 1, 32, 32) and canvases.shape == (8, 1, 64, 64) and digits.shape == (8, 2)
    assert torch.equal(sounds[:, 0, 0, 0].long(), spoken)
    assert not torch.equal(next(stream)[1], canvases)


def test_an_oracle_points_perfectly_and_the_baselines_do_not():
    data = _fake_data()
    test = localisation.test_scenes(data, _Profile, seed=0)
    table = localisation.pointing_table(Oracle(), data, test)
    m = localisation.metrics(table)
    assert set(m) == {"pointing_accuracy", "pointing_centre_prior", "pointing_random", "pointing_pick_a_digit"}
    assert m["pointing_accuracy"] == 100.0
    assert 40 < m["pointing_pick_a_digit"] < 60  # one of two digits
    assert 10 < m["pointing_random"] < 30  # a 28 x 28 box covers 19 % of the canvas
    assert m["pointing_centre_prior"] < 60


def test_a_deaf_model_points_at_a_digit_but_not_the_spoken_one():
    class Deaf(Oracle):
        def audio_embedding(self, sounds):  # hears nothing: likes every digit alike, and the background less
            return torch.cat([torch.ones(len(sounds), 10), torch.zeros(len(sounds), 1)], 1) / 10 ** 0.5

    data = _fake_data()
    m = localisation.metrics(localisation.pointing_table(Deaf(), data, localisation.test_scenes(data, _Profile, 1)))
    assert 35 < m["pointing_accuracy"] < 65


def test_target_matrix_checker_accepts_the_answer_and_explains_mistakes():
    localisation.check_targets(lambda s, d: (d[None] == s[:, None, None]).any(-1).float())
    with pytest.raises(checks.NotYet, match="swapped"):
        localisation.check_targets(lambda s, d: (d[None] == s[:, None, None]).any(-1).float().T)
    with pytest.raises(checks.NotYet, match="not only when"):
        localisation.check_targets(lambda s, d: torch.eye(len(s)))


def test_say_a_digit_demo_moves_the_heat_with_the_word():
    data = _fake_data()
    test = localisation.test_scenes(data, _Profile, seed=0)
    demo = localisation.demo(Oracle(), data, test, n_canvases=3, takes=2)
    assert isinstance(demo, localisation.widgets.Demo)
    d0, d1 = test.canvases.digits[0].tolist()
    first = demo.update(canvas=0, recording=f'"{d0}" (take 0)')
    second = demo.update(recording=f'"{d1}" (take 1)')
    assert first.shape == (64, 64, 3) and not np.allclose(first, second)
    hot = first[..., 0] - first[..., 2]  # jet: red where the map is high, blue where low
    x0, y0, x1, y1 = test.canvases.boxes[0, 0].tolist()
    assert hot[y0:y1, x0:x1].mean() > hot.mean()
    assert demo.widget.children[1].children[2].value[:4] == b"RIFF"  # the player holds a WAV file


def test_say_a_digit_refuses_unknown_recordings():
    demo = widgets.say_a_digit(lambda c, r: np.zeros((4, 4)), torch.zeros(2, 1, 8, 8), ["a", "b"])
    with pytest.raises(KeyError, match="'c'"):
        demo.render(recording="c")
    assert demo.update(canvas=5)[..., 0].shape == (8, 8) and demo.values()["canvas"] == 1  # clipped
    with pytest.raises(ValueError):
        widgets.say_a_digit(lambda c, r: np.zeros((4, 4)), torch.zeros(2, 1, 8, 8), [])


def test_heat_overlay_keeps_the_canvas_size_and_range():
    picture = widgets.heat_overlay(torch.rand(1, 12, 12), np.arange(9.0).reshape(3, 3))
    assert picture.shape == (12, 12, 3) and picture.min() >= 0 and picture.max() <= 1


def test_correspondence_accuracy_of_the_oracle_beats_always_no():
    class Calibrated(Oracle):
        def __init__(self):
            super().__init__()
            self.scale, self.bias = torch.tensor(10.0), torch.tensor(-5.0)  # cosine 1 -> yes, 0 -> no

        logits = localisation.ots.AVOLNet.logits

    data = _fake_data()
    test = localisation.test_scenes(data, _Profile, seed=0)
    table = localisation.sampling_table({"oracle": Calibrated()}, data, test)
    assert table.loc["oracle", "correspondence accuracy (%)"] == 100.0
    assert 70 < table.loc['always answering "no"', "correspondence accuracy (%)"] < 90
    assert table.loc["oracle", "pointing accuracy (%)"] == 100.0
