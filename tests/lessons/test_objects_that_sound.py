"""Tests of course_lib.lessons.objects_that_sound on tiny fake data: scenes, pointing, the ablation, the pictures."""

import dataclasses

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import checks, train, widgets
from course_lib.data import ImageData, SpokenDigits
from course_lib.lessons import objects_that_sound as lesson

TINY = dataclasses.replace(lesson.SIZES["ci"], width=4, batch=8, steps=2, single_steps=2, single_batch=8,
                           canvas_steps=2, seconds=30, test_canvases=400)


def _fake_data(n_images=60, n_recordings=40):
    """Digit d is an image filled with (d + 1) / 10 and a "spectrogram" filled with d: an oracle can read both.
    Every image has a soundtrack: a recording of its digit, drawn once."""
    labels = torch.arange(n_images) % 10
    images = ImageData(((labels + 1) / 10).view(-1, 1, 1, 1).expand(-1, 1, 28, 28).clone(), labels,
                       [str(d) for d in range(10)])
    said = torch.arange(n_recordings) % 10
    spoken = SpokenDigits([torch.zeros(800) + d for d in said.tolist()], said, ["x"] * n_recordings,
                          torch.arange(n_recordings) // 10)
    sounds = said.float().view(-1, 1, 1, 1).expand(-1, 1, 32, 32).clone()
    soundtrack = lesson.av.simulate_videos(labels, said)
    return lesson.SoundsAndDigits(images, images, sounds, sounds, spoken, spoken, soundtrack, soundtrack)


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

    forward = lesson.ots.AVOLNet.forward


def test_sizes_grow_from_ci_to_full():
    ci, lab, full = (lesson.SIZES[name] for name in ("ci", "lab", "full"))
    assert ci.name == "ci" and full.name == "full" and isinstance(ci, lesson.Sizes)
    assert ci.steps <= lab.steps <= full.steps and ci.test_canvases <= lab.test_canvases <= full.test_canvases
    assert ci.train_images <= lab.train_images <= full.train_images
    assert ci.single_steps <= lab.single_steps <= full.single_steps
    assert ci.canvas_steps <= lab.canvas_steps <= full.canvas_steps
    assert lesson.DIGITS == 2


def test_scenes_carry_the_soundtrack_of_one_of_their_digit_images():
    data = _fake_data()
    s = lesson.scenes(data.train_images, data.train_soundtrack, 50, 2, torch.Generator().manual_seed(0))
    sounding = s.canvases.sources[torch.arange(50), s.slot]
    assert torch.equal(s.recording, data.train_soundtrack[sounding])  # the video's own soundtrack, no other
    assert torch.equal(data.train_spoken.digit[s.recording], s.spoken)
    assert (s.canvases.digits == s.spoken[:, None]).any(1).all()
    assert torch.equal(s.spoken_box, s.canvases.boxes[torch.arange(50), s.slot])


def test_the_label_free_stream_gives_the_learner_only_sounds_and_canvases():
    data = _fake_data()
    stream = lesson.video_batches(data, batch_size=8, k=2, seed=0)
    batch = next(stream)
    assert len(batch) == 2  # no digit, spoken or shown, reaches the loss
    sounds, canvases = batch
    assert sounds.shape == (8, 1, 32, 32) and canvases.shape == (8, 1, 64, 64)
    assert not torch.equal(next(stream)[1], canvases)  # fresh canvases every step


def test_the_weakly_labelled_stream_shows_the_same_scenes_plus_their_digits():
    data = _fake_data()
    free = next(lesson.video_batches(data, batch_size=8, k=2, seed=3))
    sounds, canvases, spoken, digits = next(lesson.labelled_batches(data, batch_size=8, k=2, seed=3))
    assert torch.equal(free[0], sounds) and torch.equal(free[1], canvases)
    assert torch.equal(sounds[:, 0, 0, 0].long(), spoken) and digits.shape == (8, 2)


def test_single_digit_videos_pair_each_frame_with_its_own_soundtrack():
    data = _fake_data()
    sounds, frames = next(lesson.single_digit_videos(data, batch_size=10, seed=0))
    image = (frames[:, 0, 0, 0] * 10).round().long() - 1  # the fake image of digit d is filled with (d + 1) / 10
    assert frames.shape == (10, 1, 28, 28) and torch.equal(sounds[:, 0, 0, 0].long(), image)


def test_an_oracle_points_perfectly_and_the_baselines_do_not():
    data = _fake_data()
    test = lesson.test_scenes(data, TINY, seed=0)
    table = lesson.pointing_table({lesson.WEAK: Oracle()}, data, test)
    m = lesson.metrics(table)
    assert set(m) == {"pointing_weak_labels", "pointing_centre_prior", "pointing_random", "pointing_pick_a_digit"}
    assert m["pointing_weak_labels"] == 100.0
    assert 40 < m["pointing_pick_a_digit"] < 60  # one of two digits
    assert 10 < m["pointing_random"] < 30  # a 28 x 28 box covers 19 % of the canvas
    assert m["pointing_centre_prior"] < 60


def test_orderings_compare_only_numbers_the_notebook_records():
    table = pd.DataFrame({lesson.COLUMN: dict.fromkeys(lesson.METRICS, 50.0)})
    ablation = pd.DataFrame({lesson.COLUMN: dict.fromkeys(lesson.SAMPLINGS, 40.0),
                             lesson.CORRESPONDENCE: dict.fromkeys(lesson.SAMPLINGS, 70.0)})
    recorded = lesson.metrics(table, ablation)
    assert recorded["pointing_weak_labels"] == 50.0 and recorded["pointing_one_negative"] == 40.0  # one name each
    assert recorded["correspondence_every_pair"] == 70.0 and "pointing_every_pair" not in recorded
    for ordering in lesson.ORDERINGS:
        than = (ordering.than,) if isinstance(ordering.than, str) else ordering.than
        assert {ordering.better, *than} <= set(recorded), ordering.statement
    baselines = {name: 50.0 for name in lesson.BASELINES.values()}
    beats_every_baseline = lesson.ORDERINGS[0]  # told the digits: its gap is to the best baseline
    assert beats_every_baseline.gap({**baselines, "pointing_pick_a_digit": 60.0, "pointing_weak_labels": 90.0}) == 30.0


def test_a_deaf_model_points_at_a_digit_but_not_the_spoken_one():
    class Deaf(Oracle):
        def audio_embedding(self, sounds):  # hears nothing: likes every digit alike, and the background less
            return torch.cat([torch.ones(len(sounds), 10), torch.zeros(len(sounds), 1)], 1) / 10 ** 0.5

    data = _fake_data()
    m = lesson.metrics(lesson.pointing_table({lesson.LABEL_FREE: Deaf()}, data, lesson.test_scenes(data, TINY, 1)))
    assert 35 < m["pointing_label_free"] < 65


def test_test_scenes_put_the_given_number_of_digits_on_each_canvas():
    data = _fake_data()
    assert lesson.test_scenes(data, TINY, seed=0).canvases.digits.shape == (400, lesson.DIGITS)
    three = lesson.test_scenes(data, TINY, seed=0, digits=3)
    assert three.canvases.digits.shape == (400, 3) and (three.canvases.digits == three.spoken[:, None]).any(1).all()


def test_train_avol_runs_and_returns_a_model_in_eval_mode():
    model, history = lesson.train_avol(_fake_data(), TINY, seed=0, progress=False)
    assert not model.training and history.stopped_by and len(history["acc"]) >= 1
    again, _ = lesson.train_avol(_fake_data(), TINY, seed=0, sampling="one negative per canvas", steps=1,
                                 progress=False)
    assert isinstance(again, lesson.ots.AVOLNet)


def test_train_label_free_runs_both_phases_from_the_same_initial_weights():
    models, histories = lesson.train_label_free(_fake_data(), TINY, seed=0, progress=False)
    assert list(histories) == ["single-digit videos", "canvases"] and list(models) == [lesson.SINGLE, lesson.LABEL_FREE]
    single, model = models.values()
    assert not model.training and not single.training
    assert not torch.equal(model.image_projection[0].weight, single.image_projection[0].weight)  # kept apart
    assert all(h.stopped_by == "2 steps" and not h.capped for h in histories.values())
    start = lesson._fresh_model(TINY, 0, "cpu")
    weak_start = lesson._fresh_model(TINY, 0, "cpu")
    assert all(torch.equal(p, q) for p, q in zip(start.parameters(), weak_start.parameters(), strict=True))
    assert not torch.equal(model.image_projection[0].weight, start.image_projection[0].weight)  # it trained


def test_capped_runs_names_the_runs_that_hit_the_time_cap():
    done, cut = train.History(), train.History()
    done.stopped_by, cut.stopped_by = "5 steps", "time budget: stopped at step 3 of 5 after 61 s"
    assert lesson.capped_runs({"a": done, "b": cut}) == ["b"]


def _targets(spoken, digits):
    """An answer written for this test: entry (i, j) by asking whether recording i's digit is among canvas j's."""
    return torch.tensor([[float(int(s) in d.tolist()) for d in digits] for s in spoken])


@pytest.mark.parametrize("right", [
    pytest.param(lesson.ots.correspondence, id="the-library"),
    pytest.param(_targets, id="written-here"),
    pytest.param(lambda s, d: ((d[None] == s[:, None, None]).sum(-1) > 0), id="a-bool-matrix"),
    pytest.param(lambda s, d: torch.stack([(d == x).any(1) for x in s]).long(), id="row-by-row-integers"),
])
def test_target_matrix_checker_accepts_the_reference_and_answers_written_here(right, capsys):
    lesson.check_targets(right)
    assert "target matrix: correct" in capsys.readouterr().out


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(lambda s, d: _targets(s, d).T, "swapped", id="rows-and-columns-swapped"),
    pytest.param(lambda s, d: torch.eye(len(s)), "only the diagonal", id="the-diagonal-only"),
    pytest.param(lambda s, d: (d[None, :, 0] == s[:, None]).float(), "only the first digit", id="the-first-digit-only"),
    pytest.param(lambda s, d: (s[:, None] == s[None, :]).float(), "recordings with recordings",
                 id="recordings-against-recordings"),
    pytest.param(lambda s, d: (d == s[:, None]).any(-1).float(), r"returned shape \(4,\); expected shape \(4, 4\)",
                 id="recording-i-with-canvas-i-only"),
    pytest.param(lambda s, d: (d[None] == s[:, None]).any(-1).float(), r"returned shape \(1, 4\).*rows are recordings",
                 id="broadcast-without-room-for-the-canvas-digits"),
])
def test_target_matrix_checker_rejects_a_typical_mistake_without_giving_the_answer(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint) as rejected:
        lesson.check_targets(wrong)
    assert not any(code in str(rejected.value) for code in ("any(", "[:, None", "None, :")), rejected.value


def test_say_a_digit_demo_moves_the_heat_with_the_word():
    data = _fake_data()
    test = lesson.test_scenes(data, TINY, seed=0)
    demo = lesson.demo(Oracle(), data, test, n_canvases=3, takes=2)
    assert isinstance(demo, lesson.widgets.Demo)
    d0, d1 = test.canvases.digits[0].tolist()
    first = demo.update(canvas=0, recording=f'"{d0}" (take 0)')
    second = demo.update(recording=f'"{d1}" (take 1)')
    assert first.shape == (64, 64, 3) and not np.allclose(first, second)
    hot = first[..., 0] - first[..., 2]  # jet: red where the map is high, blue where low
    x0, y0, x1, y1 = test.canvases.boxes[0, 0].tolist()
    assert hot[y0:y1, x0:x1].mean() > hot.mean()
    assert demo.widget.children[1].children[2].value[:4] == b"RIFF"  # the player holds a WAV file


class FaintBackground(Oracle):
    """Hears the digit, and likes the empty canvas a little (0.1): a word whose digit is absent matches weakly."""

    def audio_embedding(self, sounds):
        return 0.9 * super().audio_embedding(sounds) + 0.1 * F.one_hot(torch.full((len(sounds),), 10), 11).float()


def test_say_a_digit_draws_every_map_on_one_colour_scale():
    data = _fake_data()
    test = lesson.test_scenes(data, TINY, seed=0)
    demo = lesson.demo(FaintBackground(), data, test, n_canvases=3, takes=1)
    absent = next(d for d in range(10) if d not in test.canvases.digits[0].tolist())
    present = int(test.canvases.digits[0, 0])
    hot_absent = demo.render(canvas=0, recording=f'"{absent}" (take 0)')
    hot_present = demo.render(canvas=0, recording=f'"{present}" (take 0)')
    red = lambda picture: (picture[..., 0] - picture[..., 2]).max()  # noqa: E731
    assert red(hot_present) > 0.2 and red(hot_absent) < 0.1  # a faint match stays cold on the shared scale


def test_heat_overlay_stretches_each_map_unless_given_a_scale():
    canvas, faint = torch.zeros(1, 8, 8), np.array([[0.0, 0.1], [0.0, 0.0]])
    own = widgets.heat_overlay(canvas, faint)
    shared = widgets.heat_overlay(canvas, faint, vmin=0.0, vmax=1.0)
    assert (own[..., 0] - own[..., 2]).max() > 0.2 and (shared[..., 0] - shared[..., 2]).max() < 0.1


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

        logits = lesson.ots.AVOLNet.logits

    data = _fake_data()
    test = lesson.test_scenes(data, TINY, seed=0)
    table = lesson.sampling_table({"oracle": Calibrated()}, data, test)
    assert table.loc["oracle", lesson.CORRESPONDENCE] == 100.0
    assert table.loc['always answering "no"', lesson.CORRESPONDENCE] == 50.0  # right on every other pair, no hit
    assert table.loc["oracle", "pointing accuracy (%)"] == 100.0


# --- pictures -------------------------------------------------------------------------------------------------------

def test_show_scenes_draws_canvases_over_their_recordings():
    data = _fake_data()
    test = lesson.test_scenes(data, TINY, seed=0)
    fig = lesson.show_scenes(data, test, n=4)
    assert len(fig.axes) == 8 and all(len(ax.images) == 1 for ax in fig.axes)
    canvases, recordings = fig.axes[:4], fig.axes[4:]  # row 0: canvases, row 1: spectrograms
    assert all(len(ax.patches) == lesson.DIGITS for ax in canvases)  # one box per digit
    assert [ax.get_title() for ax in recordings] == [f'"{int(d)}"' for d in test.spoken[:4]]


def _answers(fig):
    return [ax for ax in fig.axes if ax.texts and ax.texts[0].get_text() in ("yes", "no")]


def test_show_task_says_yes_only_to_each_canvas_own_recording():
    data = _fake_data()
    n = 4
    cells = _answers(lesson.show_task(data, n=n, seed=0))
    s = lesson.scenes(data.train_images, data.train_soundtrack, n, lesson.DIGITS, torch.Generator().manual_seed(0))
    on_canvas = lesson.ots.correspondence(s.spoken, s.canvases.digits).bool()
    assert len(cells) == n * n and [c.texts[0].get_text() for c in cells].count("yes") == n  # the diagonal
    orange = [c for c in cells if c.get_facecolor()[:3] == matplotlib.colors.to_rgb("#f7c58f")]
    assert len(orange) == int(on_canvas.sum()) - n  # the spoken digit is there, the soundtrack is another's


def test_show_task_with_weak_labels_says_yes_wherever_the_digit_is():
    data = _fake_data()
    n = 4
    cells = _answers(lesson.show_task(data, n=n, seed=0, weak_labels=True))
    s = lesson.scenes(data.train_images, data.train_soundtrack, n, lesson.DIGITS, torch.Generator().manual_seed(0))
    want = int(lesson.ots.correspondence(s.spoken, s.canvases.digits).sum())
    assert [c.texts[0].get_text() for c in cells].count("yes") == want >= n


def test_heat_maps_of_an_oracle_all_hit():
    data = _fake_data()
    test = lesson.test_scenes(data, TINY, seed=0)
    fig = lesson.show_heat_maps(Oracle(), data, test, n=5)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 5 and all(len(ax.images) == 2 for ax in panels)  # the canvas and its map
    assert all(ax.get_title().endswith(": hit") for ax in panels)
    _assert_one_colour_scale(fig, panels)


def _assert_one_colour_scale(fig, panels):
    """Every map of the grid on the same colour range, and one colour bar (an extra axes) that shows it."""
    assert len({ax.images[-1].get_clim() for ax in panels}) == 1
    (bar,) = [ax for ax in fig.axes if ax not in panels and ax.get_ylabel() == "similarity (cosine)"]
    assert bar.get_ylim() == pytest.approx(panels[0].images[-1].get_clim())


def test_every_word_draws_ten_maps_and_names_the_digits_on_the_canvas():
    data = _fake_data()
    test = lesson.test_scenes(data, TINY, seed=0)
    fig = lesson.show_every_word(Oracle(), data, test, canvas=0)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 10 and sum("(on it)" in t for t in titles) == lesson.DIGITS
    _assert_one_colour_scale(fig, [ax for ax in fig.axes if ax.images])


def test_show_training_draws_one_curve_per_sampling():
    histories = {}
    for name in lesson.LOSSES:
        history = train.History()
        for step in (10, 20, 30):
            history.log(step, 0.0, {"loss": 1.0, "acc": step / 100})
        histories[name] = history
    fig = lesson.show_training(histories)
    (ax,) = fig.axes
    assert len(ax.lines) == 2 and list(ax.lines[0].get_xdata()) == [10, 20, 30]
    assert ax.get_ylabel() == "correspondence accuracy (train)"


def test_single_digit_recall_of_an_oracle_is_perfect_and_of_a_fresh_model_near_chance():
    data = _fake_data(n_images=100, n_recordings=40)
    recall, chance = lesson.single_digit_recall(Oracle(), data)
    assert recall == 1.0 and chance == pytest.approx(0.1)  # every recording's best image shows its digit
    fresh, _ = lesson.single_digit_recall(lesson._fresh_model(TINY, 0, "cpu"), data)
    assert 0 <= fresh < 1.0


def test_train_label_free_takes_another_label_free_loss_for_the_canvases():
    calls = []

    def counting_loss(model, batch):
        calls.append(len(batch))
        return lesson.ots.contrastive_loss(model, batch)

    lesson.train_label_free(_fake_data(), TINY, seed=0, progress=False, canvas_loss=counting_loss)
    assert calls == [2] * TINY.canvas_steps  # the canvases phase only, fed (sounds, canvases) and nothing more


def _similarity_map(audio, image_map):
    """An answer written for this test: one (recording, canvas) pair at a time, the dot product at every place."""
    return torch.stack([torch.stack([(a[:, None, None] * v).sum(0) for v in image_map]) for a in audio])


@pytest.mark.parametrize("right", [
    pytest.param(lesson.ots.similarity, id="the-library"),
    pytest.param(_similarity_map, id="written-here"),
    pytest.param(lambda a, v: (a[:, None, :, None, None] * v[None]).sum(dim=2), id="broadcast"),
    pytest.param(lambda a, v: (a @ v.flatten(2).transpose(0, 1).flatten(1)).reshape(len(a), *v.shape[:1],
                                                                                   *v.shape[2:]),
                 id="one-matrix-product"),
])
def test_similarity_map_checker_accepts_the_reference_and_answers_written_here(right, capsys):
    lesson.check_similarity_map(right)
    assert "similarity map: correct" in capsys.readouterr().out


def _through_numpy(a, v):
    return torch.from_numpy(np.einsum("ad,cdhw->achw", a.detach().numpy(), v.detach().numpy()))


def _without_gradients(a, v):
    with torch.no_grad():
        return torch.einsum("ad,cdhw->achw", a, v)


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(lambda a, v: torch.einsum("ad,cdhw->cahw", a, v), "rows and columns are swapped",
                 id="recordings-and-canvases-swapped"),
    pytest.param(lambda a, v: (a[:, None, :, None, None] * v[None]).mean(2), "averaged the products",
                 id="averaged-over-the-embedding"),
    pytest.param(lambda a, v: (a[:, :, None, None] * v[:len(a)]).sum(1), "recording i against canvas i only",
                 id="recording-i-with-canvas-i-only"),
    pytest.param(lambda a, v: (a[:, :, None, None] * v).sum(1),
                 "your function raised RuntimeError: The size of tensor a .*recording i was paired with canvas i only",
                 id="recording-i-with-canvas-i-raises"),
    pytest.param(lambda a, v: torch.einsum("ad,cdhw->achw", a, v).amax((2, 3)), "one score per pair",
                 id="max-pooled-to-a-score"),
    pytest.param(lambda a, v: torch.einsum("ad,cdhw->acwh", a, v), "height and width are swapped",
                 id="height-and-width-swapped"),
    pytest.param(lambda a, v: torch.einsum("ad,cdhw->achw", a, v).detach(), "carries no gradient", id="detached"),
    pytest.param(_without_gradients, "carries no gradient", id="computed-without-gradients"),
    pytest.param(_through_numpy, "carries no gradient", id="through-numpy"),
    pytest.param(lambda a, v: torch.einsum("ad,cdhw->achw", a.detach(), v), "one of the two embeddings gets no "
                 "gradient", id="audio-detached"),
    pytest.param(lambda a, v: torch.einsum("ad,cdhw->achw", a, v.reshape(5, 8, 4, 6)), "a size written into",
                 id="sizes-written-in"),
    pytest.param(lambda a, v: tensor.einsum("ad,cdhw->achw", a, v),  # noqa: F821 (an import forgotten, or a typo)
                 r"raised NameError: name 'tensor' is not defined; a name your function uses is not defined here: a "
                 r"missing import \(run the notebook's setup cell at the top, or import it in your cell\) or a typo in "
                 r"the name$",
                 id="a-name-not-defined"),
])
def test_similarity_map_checker_rejects_a_typical_mistake_without_giving_the_answer(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint) as rejected:
        lesson.check_similarity_map(wrong)
    assert not any(code in str(rejected.value) for code in ("einsum", "None", ".sum(")), rejected.value


def test_similarity_map_checker_leaves_the_random_stream_alone():
    before = torch.random.get_rng_state()
    lesson.check_similarity_map(_similarity_map)
    assert torch.equal(before, torch.random.get_rng_state())


def _point(audio, image_map):
    """An answer written for this test: one canvas at a time, the best row first, then the best column in it."""
    scores, where = [], []
    for a, v in zip(audio, image_map, strict=True):
        maps = (a[:, None, None] * v).sum(0)
        best_of_each_row, column_of_each_row = maps.max(1)
        score, row = best_of_each_row.max(0)
        scores.append(score)
        where.append((int(row), int(column_of_each_row[row])))
    return torch.stack(scores), torch.tensor(where)


def _point_flat(audio, image_map, split=None, reduce=None, swap=False):
    """The flattened-map answer, and the mistakes made on its way: ``split`` the size the flat index is divided by
    (default the width), ``reduce`` the score over locations (default the max), ``swap`` (col, row)."""
    maps = torch.einsum("nd,ndhw->nhw", audio, image_map)
    index = maps.flatten(1).argmax(1)
    split = split or maps.shape[-1]
    score = reduce(maps.flatten(1)) if reduce else maps.flatten(1).amax(1)
    where = torch.stack([index % split, index // split] if swap else [index // split, index % split], dim=1)
    return score, where


@pytest.mark.parametrize("right", [
    pytest.param(lesson.ots.point, id="the-library"),
    pytest.param(_point, id="written-here"),
    pytest.param(lambda a, v: (_point_flat(a, v)[0], tuple(_point_flat(a, v)[1].T.float())), id="rows-cols-pair"),
    pytest.param(lambda a, v: (torch.einsum("nd,ndhw->nhw", a, v).amax((1, 2)),
                               torch.stack(torch.unravel_index(_point_flat(a, v)[1][:, 0] * v.shape[-1]
                                                               + _point_flat(a, v)[1][:, 1], v.shape[2:]), 1)),
                 id="unravel-index"),
])
def test_point_checker_accepts_the_reference_and_answers_written_here(right, capsys):
    lesson.check_point(right)
    assert capsys.readouterr().out == "point: correct, well done.\n"


def _summed_over_rows(audio, image_map):
    """The similarity summed over the wrong axis (the map's rows, not D): N x D x W "maps"."""
    maps = (audio[:, :, None, None] * image_map).sum(2)
    index = maps.flatten(1).argmax(1)
    return maps.flatten(1).amax(1), torch.stack([index // maps.shape[-1], index % maps.shape[-1]], dim=1)


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(lambda a, v: _point_flat(a, v, reduce=lambda m: m.mean(1)), "mean over locations",
                 id="mean-not-max"),
    pytest.param(lambda a, v: (_point_flat(a, v)[0], torch.einsum("nd,ndhw->nhw", a, v).flatten(1).argmax(1)),
                 r"shape \(3,\); expected \(3, 2\).*flattened map", id="flat-index-not-converted"),
    pytest.param(lambda a, v: _point_flat(a, v, swap=True), "row and column are swapped", id="row-and-col-swapped"),
    pytest.param(lambda a, v: _point_flat(a, v, split=v.shape[2]), "split by the height", id="split-by-height"),
    pytest.param(lambda a, v: torch.einsum("nd,ndhw->nhw", a, v).max(1), "max over the rows only",
                 id="max-over-one-axis"),
    pytest.param(lambda a, v: (torch.einsum("nd,ndhw->nhw", a, v).amax((1, 2)),
                               torch.einsum("nd,ndhw->nhw", a, v).argmax(1)),
                 "arg-max over the rows only", id="arg-max-over-one-axis"),
    pytest.param(_summed_over_rows, r"summed over a location axis \(dim 2\)", id="similarity-over-wrong-dim"),
    pytest.param(lambda a, v: (torch.einsum("ad,cdhw->achw", a, v).flatten(1).amax(1), _point_flat(a, v)[1]),
                 "not of its own canvas", id="every-canvas"),
    pytest.param(lambda a, v: _point_flat(a / a.shape[1], v), "averaged the products over the D",
                 id="mean-over-the-embedding"),
    pytest.param(lambda a, v: (_point_flat(a, v)[0].detach(), _point_flat(a, v)[1]), "carries no gradient",
                 id="score-detached"),
    pytest.param(lambda a, v: (_point_flat(a, v)[0].tolist(), _point_flat(a, v)[1]), "carries no gradient",
                 id="score-as-a-list"),
    pytest.param(lambda a, v: _point_flat(a.detach(), v), "one of the two embeddings gets no gradient",
                 id="audio-detached"),
    pytest.param(lambda a, v: _point_flat(a, v)[0], r"return two things, \(score, where\)", id="score-only"),
])
def test_point_checker_rejects_a_typical_mistake_without_giving_the_answer(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint) as rejected:
        lesson.check_point(wrong)
    assert not any(code in str(rejected.value) for code in ("einsum", "argmax", "// ", "% ")), rejected.value


def test_point_checker_leaves_the_random_stream_alone():
    before = torch.random.get_rng_state()
    lesson.check_point(_point)
    assert torch.equal(before, torch.random.get_rng_state())


class CalibratedOracle(Oracle):
    """The oracle with the AVOL-Net's calibration: a perfect match (cosine 1) gives logit 5 > 0, "same"."""

    def __init__(self):
        super().__init__()
        self.scale, self.bias = nn.Parameter(torch.tensor(10.0)), nn.Parameter(torch.tensor(-5.0))


def test_pointing_with_a_point_agrees_with_the_pointing_table(capsys):
    data = _fake_data()
    test = lesson.test_scenes(data, TINY, seed=0)
    models = {lesson.WEAK: CalibratedOracle(), lesson.LABEL_FREE: CalibratedOracle()}
    table = lesson.pointing_table(models, data, test)
    yours = lesson.pointing_with(lesson.ots.point, models, data, test, table, block=64)
    assert list(yours[lesson.pointing.YOUR_COLUMN]) == list(yours[lesson.pointing.TABLE_COLUMN]) == [100.0, 100.0]
    assert list(yours[lesson.pointing.SAME_COLUMN]) == [100.0, 100.0]
    line = capsys.readouterr().out
    want = f"on {len(test.slot)} test canvases this point gives the table's pointing accuracy for all 2 models\n"
    assert line == want
    swapped = lesson.pointing_with(lambda a, v: (lambda s, w: (s, w.flip(1)))(*lesson.ots.point(a, v)), models, data,
                                   test, table)
    assert (swapped[lesson.pointing.YOUR_COLUMN] < 100).all() and "is not the table's" in capsys.readouterr().out


def test_every_training_run_of_the_notebook_has_its_own_name(run_names):
    data = _fake_data()
    lesson.train_label_free(data, TINY, progress=False)
    for sampling in lesson.LOSSES:
        lesson.train_avol(data, TINY, sampling=sampling, progress=False)
    assert len(run_names) == len(set(run_names)) == 4  # two label-free phases, two samplings
